"""Context mixing: the word <-> frame convention, pooling, attention rollout and value zeroing.

Value zeroing is checked three ways: by hand on a toy attention layer (numpy), against the naive loop (one forward
pass per source word) on tiny randomly initialised models of the shipped architectures, and against the models
themselves (the rerun layer reproduces ``hidden_states``; a causal decoder is unchanged before the zeroed token).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import GenerationConfig, Wav2Vec2ForCTC, WhisperForConditionalGeneration

from course.context_mixing import (
    LayerHandle,
    attention_rollout,
    causal_mask,
    decoder_layer,
    encoder_layer,
    pool_to_words,
    pooling_matrix,
    run_encoder,
    token_word_spans,
    value_zeroing,
    value_zeroing_distances,
    word_spans,
)
from course.textgrid import Interval
from speech_course_tools.training import _phone_processor, _whisper_processor, w2v2_config, whisper_config

SENTENCES = ["the sailor crossed the sea", "she will write a letter", "turn right at the corner"]


# --------------------------------------------------------------------------
# Tiny models (the shipped architectures, shrunk) and audio


def _shuffle_norm(norm: torch.nn.LayerNorm, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        norm.weight.copy_(1 + 0.5 * torch.randn(norm.weight.shape, generator=gen))
        norm.bias.copy_(0.5 * torch.randn(norm.bias.shape, generator=gen))


@pytest.fixture(scope="module")
def tiny_ctc():
    torch.manual_seed(0)
    cfg = w2v2_config(vocab_size=8)
    cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size = 3, 32, 2, 64
    cfg.conv_dim, cfg.num_conv_pos_embeddings, cfg.num_conv_pos_embedding_groups = (32,) * 7, 16, 4
    cfg._attn_implementation = "eager"  # attention weights are returned (as course.models.load_model does)
    model = Wav2Vec2ForCTC(cfg).eval()
    _shuffle_norm(model.wav2vec2.encoder.layer_norm, 1)
    return model, _phone_processor(["a", "b", "k", "s", "t", "uː"])


@pytest.fixture(scope="module")
def tiny_whisper():
    processor = _whisper_processor(SENTENCES)
    tok = processor.tokenizer
    sot, eos = tok.convert_tokens_to_ids("<|startoftranscript|>"), tok.eos_token_id
    cfg = whisper_config(len(tok), sot, eos)
    cfg.encoder_layers, cfg.decoder_layers, cfg.d_model, cfg.init_std = 2, 2, 32, 0.2
    cfg.encoder_ffn_dim = cfg.decoder_ffn_dim = 64
    cfg.encoder_attention_heads = cfg.decoder_attention_heads = 2
    cfg._attn_implementation = "eager"
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(cfg).eval()
    model.generation_config = GenerationConfig(decoder_start_token_id=sot, eos_token_id=eos, pad_token_id=eos,
                                               bos_token_id=eos, max_length=64)
    _shuffle_norm(model.model.encoder.layer_norm, 2)
    _shuffle_norm(model.model.decoder.layer_norm, 3)
    return model, processor


@pytest.fixture(scope="module")
def tiny_hubert():
    """Post-LN (as tiny-hubert, HuBERT Base, wav2vec2-base): each layer ends in its own layer norm."""
    from transformers import HubertModel, Wav2Vec2FeatureExtractor

    from speech_course_tools.training import hubert_config

    torch.manual_seed(0)
    cfg = hubert_config()
    cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size = 3, 32, 2, 64
    cfg.conv_dim, cfg.num_conv_pos_embeddings, cfg.num_conv_pos_embedding_groups = (32,) * 7, 16, 4
    cfg._attn_implementation = "eager"
    model = HubertModel(cfg).eval()
    for k, layer in enumerate(model.encoder.layers):
        _shuffle_norm(layer.layer_norm, 10 + k)
        _shuffle_norm(layer.final_layer_norm, 20 + k)
    return model, Wav2Vec2FeatureExtractor(return_attention_mask=True)


@pytest.fixture(scope="module")
def audio():
    return (0.1 * np.random.default_rng(0).standard_normal(8000)).astype(np.float32)


# --------------------------------------------------------------------------
# Words and frames


def test_word_spans_centre_convention_at_the_boundaries():
    # frame n has its centre at (n + 0.5) * 0.02 s: 0.01, 0.03, 0.05, ...
    words = [Interval(0.05, 0.11, "a"),  # starts on the centre of frame 2 (owned), ends on that of frame 5 (not)
             Interval(0.11, 0.16, "b"),  # the next word takes frame 5: adjacent words never share a frame
             Interval(0.2, 0.205, "c"),  # shorter than a frame: the one frame containing its midpoint
             Interval(0.2999, 0.4, "d")]  # centre of frame 15 is 0.31: frame 14 (0.29) lies before the start
    assert word_spans(words, n_frames=100) == [(2, 5), (5, 8), (10, 11), (15, 20)]
    # a word running past the last frame is clipped to the frames that exist
    assert word_spans([Interval(0.05, 0.5, "x")], n_frames=10) == [(2, 10)]
    # float noise at a boundary: 0.07 / 0.02 - 0.5 = 3.0000000000000004 must still own frame 3
    assert word_spans([Interval(0.07, 0.09, "e")], n_frames=10) == [(3, 4)]
    with pytest.raises(ValueError, match="after the last"):
        word_spans([Interval(0.2, 0.3, "late")], n_frames=10)
    with pytest.raises(ValueError, match="positive"):
        word_spans(words, n_frames=0)


def test_pool_to_words_by_hand():
    m = np.arange(36, dtype=float).reshape(6, 6)
    spans = [(0, 2), (3, 6)]  # frame 2 (a pause) belongs to no word
    expected = np.array([[np.mean(m[0:2, 0:2]), np.mean(m[0:2, 3:6])],
                         [np.mean(m[3:6, 0:2]), np.mean(m[3:6, 3:6])]])
    np.testing.assert_allclose(pool_to_words(m, spans), expected)
    np.testing.assert_allclose(pool_to_words(torch.from_numpy(m), spans), expected)
    # a stack of layers pools each matrix; single-frame spans pick entries
    stack = np.stack([m, 2 * m])
    np.testing.assert_allclose(pool_to_words(stack, spans), np.stack([expected, 2 * expected]))
    np.testing.assert_allclose(pool_to_words(m, [(1, 2), (4, 5)]), m[np.ix_([1, 4], [1, 4])])
    # rectangular: decoder tokens (rows, one position each) x encoder frames (columns)
    rect = m[:3]
    np.testing.assert_allclose(pool_to_words(rect, [(0, 1), (1, 3)], [(0, 6)]),
                               [[rect[0].mean()], [rect[1:3].mean()]])
    np.testing.assert_allclose(pooling_matrix([(0, 2), (5, 6)], 6) @ np.ones(6), [1, 1])


@pytest.mark.parametrize("spans, match", [([(0, 0)], "first < stop"), ([(3, 2)], "first < stop"),
                                          ([(4, 7)], "stop <= 6"), ([(-1, 2)], "0 <= first"), ([], "at least one"),
                                          ([(1,)], "pair")])
def test_pool_to_words_bad_spans(spans, match):
    with pytest.raises(ValueError, match=match):
        pool_to_words(np.ones((6, 6)), spans)


def test_pool_to_words_bad_shape():
    with pytest.raises(ValueError, match="n_rows, n_cols"):
        pool_to_words(np.ones(6), [(0, 2)])


# --------------------------------------------------------------------------
# Attention rollout


def test_rollout_by_hand():
    a1 = np.array([[1.0, 0.0], [0.5, 0.5]])
    a2 = np.array([[0.0, 1.0], [1.0, 0.0]])
    # Â = 0.5 A + 0.5 I (rows already sum to 1)
    h1 = np.array([[1.0, 0.0], [0.25, 0.75]])
    h2 = np.array([[0.5, 0.5], [0.5, 0.5]])
    r = attention_rollout(np.stack([a1, a2]))
    np.testing.assert_allclose(r[0], h1)
    np.testing.assert_allclose(r[1], h2 @ h1)  # = [[0.625, 0.375], [0.625, 0.375]]
    np.testing.assert_allclose(r[1], [[0.625, 0.375], [0.625, 0.375]])
    assert not np.allclose(r[1], h1 @ h2)  # the order matters
    # rows that do not sum to 1 (a cropped window): Â is renormalised after adding the identity
    crop = np.array([[0.2, 0.2], [0.0, 0.6]])
    np.testing.assert_allclose(attention_rollout(crop[None])[0], [[6 / 7, 1 / 7], [0.0, 1.0]])
    # residual 0: the plain product of (renormalised) attention; residual 1: the identity
    np.testing.assert_allclose(attention_rollout(np.stack([a1, a2]), residual=0.0)[1], a2 @ a1)
    np.testing.assert_allclose(attention_rollout(np.stack([a1, a2]), residual=1.0)[1], np.eye(2))


def test_rollout_rows_heads_and_errors():
    rng = np.random.default_rng(0)
    att = rng.random((3, 2, 5, 5))
    att /= att.sum(-1, keepdims=True)
    r = attention_rollout(att)
    assert r.shape == (3, 5, 5) and r.dtype == np.float64
    np.testing.assert_allclose(r.sum(-1), 1.0)
    np.testing.assert_allclose(r, attention_rollout(att.mean(1)))  # heads are averaged
    np.testing.assert_allclose(attention_rollout(torch.from_numpy(att)), r)
    with pytest.raises(ValueError, match="n_layers, n, n"):
        attention_rollout(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="non-negative"):
        attention_rollout(-np.ones((1, 2, 2)))
    with pytest.raises(ValueError, match="residual"):
        attention_rollout(np.ones((1, 2, 2)), residual=1.5)
    with pytest.raises(ValueError, match="sums to 0"):
        attention_rollout(np.zeros((1, 2, 2)), residual=0.0)


def test_pooling_and_rollout_do_not_commute():
    rng = np.random.default_rng(1)
    att = rng.random((2, 6, 6)) ** 4
    att /= att.sum(-1, keepdims=True)
    spans = [(0, 2), (2, 3), (3, 6)]
    frame_first = pool_to_words(attention_rollout(att), spans)
    word_first = attention_rollout(pool_to_words(att, spans))
    assert frame_first.shape == word_first.shape == (2, 3, 3)
    assert np.abs(frame_first - word_first).max() > 0.05


# --------------------------------------------------------------------------
# Value zeroing by hand


class _ToyAttention(torch.nn.Module):
    """One head of softmax attention plus the residual: out = x + softmax(q k^T / sqrt(d)) v."""

    def __init__(self, dim: int):
        super().__init__()
        self.q_proj, self.k_proj, self.v_proj = (torch.nn.Linear(dim, dim) for _ in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        a = torch.softmax(q @ k.transpose(1, 2) / q.shape[-1] ** 0.5, dim=-1)
        return x + a @ v


def _toy_by_hand(toy: _ToyAttention, x: np.ndarray, sources, targets) -> np.ndarray:
    w = {n: (getattr(toy, n).weight.detach().double().numpy(), getattr(toy, n).bias.detach().double().numpy())
         for n in ("q_proj", "k_proj", "v_proj")}
    q, k, v = ((x @ w[n][0].T + w[n][1]) for n in ("q_proj", "k_proj", "v_proj"))
    s = q @ k.T / np.sqrt(x.shape[1])
    a = np.exp(s - s.max(1, keepdims=True))
    a /= a.sum(1, keepdims=True)
    out = x + a @ v
    scores = np.zeros((len(targets), len(sources)))
    for j, (b0, b1) in enumerate(sources):
        v0 = v.copy()
        v0[b0:b1] = 0  # the values only: the attention weights a stay as they are
        zeroed = x + a @ v0
        cos = (zeroed * out).sum(1) / np.linalg.norm(zeroed, axis=1) / np.linalg.norm(out, axis=1)
        for i, (t0, t1) in enumerate(targets):
            scores[i, j] = (1 - cos[t0:t1]).mean()
    return scores / scores.sum(1, keepdims=True)


def test_value_zeroing_by_hand():
    torch.manual_seed(3)
    toy = _ToyAttention(6).eval()
    x = np.random.default_rng(3).standard_normal((9, 6))
    sources, targets = [(0, 3), (3, 4), (6, 9)], [(0, 2), (4, 9)]
    expected = _toy_by_hand(toy, x, sources, targets)
    for batched in (True, False):
        got = value_zeroing(toy, toy, x.astype(np.float32), sources, targets, batched=batched)
        np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(value_zeroing(toy, toy.v_proj, x.astype(np.float32), sources, targets), expected,
                               atol=1e-5)  # the value projection itself works as well
    raw = value_zeroing(toy, toy, x.astype(np.float32), sources, targets, normalise=False)
    np.testing.assert_allclose(raw / raw.sum(1, keepdims=True), expected, atol=1e-5)
    square = value_zeroing(toy, toy, x.astype(np.float32), sources)
    assert square.shape == (3, 3)
    np.testing.assert_allclose(square.sum(1), 1.0)


def test_value_zeroing_errors():
    toy = _ToyAttention(4).eval()
    x = torch.randn(5, 4)
    with pytest.raises(ValueError, match="one sequence"):
        value_zeroing(toy, toy, torch.randn(2, 5, 4), [(0, 1)])
    with pytest.raises(ValueError, match="reaches past"):
        value_zeroing(toy, toy, x, [(3, 7)], [(0, 1)])
    with pytest.raises(ValueError, match="Target span"):
        value_zeroing(toy, toy, x, [(0, 1)], [(4, 6)])
    with pytest.raises(ValueError, match="first < stop"):
        value_zeroing(toy, toy, x, [(2, 2)], [(0, 1)])
    with pytest.raises(ValueError, match="batch_size"):
        value_zeroing(toy, toy, x, [(0, 1)], batch_size=0)
    with pytest.raises(TypeError, match="v_proj"):
        value_zeroing(toy, "v_proj", x, [(0, 1)])
    toy.train()
    with pytest.raises(ValueError, match="eval"):
        value_zeroing(toy, toy, x, [(0, 1)])


# --------------------------------------------------------------------------
# Value zeroing on the model families


def test_encoder_layers_reproduce_the_model_and_batched_equals_the_loop(tiny_ctc, tiny_whisper, tiny_hubert, audio):
    for model, processor in (tiny_ctc, tiny_whisper, tiny_hubert):
        run = run_encoder(model, processor, audio)
        n_layers = len(run.attentions)
        whisper = model.config.model_type == "whisper"
        assert run.hidden_states.shape[0] == n_layers + 1
        assert run.n_frames == (25 if whisper else 24)  # ceil(8000 / 320) frames; wav2vec 2.0: (8000 - 400) // 320 + 1
        assert run.hidden_states.shape[1] == (250 if whisper else 24)  # Whisper's whole 5 s window
        with torch.no_grad():
            if whisper:
                final = model.get_encoder()(run.inputs).last_hidden_state[0]
            else:
                final = model.base_model(run.inputs).last_hidden_state[0]
        torch.testing.assert_close(run.output, final)
        spans = [(0, 4), (4, 5), (7, 15), (15, run.n_frames)]
        for index in range(1, n_layers + 1):
            handle = encoder_layer(model, index)
            assert isinstance(handle, LayerHandle) and handle.cross_attention is None
            with torch.no_grad():
                out = handle.run(run.hidden_states[index - 1][None])[0]
            # the last layer includes the final norm of the pre-LN encoder: the encoder output
            expected = final if index == n_layers else run.hidden_states[index]
            torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
            batched = value_zeroing(handle.run, handle.attention, run.hidden_states[index - 1], spans)
            loop = value_zeroing(handle.run, handle.attention, run.hidden_states[index - 1], spans, batched=False)
            chunked = value_zeroing(handle.run, handle.attention, run.hidden_states[index - 1], spans, batch_size=2)
            np.testing.assert_allclose(batched, loop, atol=1e-5)
            np.testing.assert_allclose(chunked, loop, atol=1e-5)
            assert batched.shape == (4, 4) and (batched >= 0).all()
            np.testing.assert_allclose(batched.sum(1), 1.0)
        with pytest.raises(ValueError, match="numbered 1.."):
            encoder_layer(model, 0)


def test_value_zeroing_changes_values_only(tiny_ctc, audio):
    model, processor = tiny_ctc
    run = run_encoder(model, processor, audio)
    handle = encoder_layer(model, 2)
    seen = []
    hook = handle.attention.register_forward_hook(lambda m, i, o: seen.append(o[1]))
    try:
        d = value_zeroing_distances(handle.run, handle.attention, run.hidden_states[1], [(3, 9)])
    finally:
        hook.remove()
    assert d.shape == (1, run.n_frames) and (d > 0).any()
    assert len(seen) == 1 and seen[0].shape[0] == 2  # one pass: the unchanged row and the zeroed row
    torch.testing.assert_close(seen[0][1], seen[0][0])  # same attention weights: queries and keys untouched


def test_decoder_value_zeroing_is_causal_and_reproduces_the_decoder(tiny_whisper, audio):
    model, processor = tiny_whisper
    run = run_encoder(model, processor, audio)
    enc = run.output[None]
    ids = torch.tensor([[model.config.decoder_start_token_id] + processor.tokenizer(SENTENCES[0],
                                                                                    add_special_tokens=False).input_ids])
    with torch.no_grad():
        out = model(encoder_outputs=(enc,), decoder_input_ids=ids, output_hidden_states=True)
    states = torch.stack(out.decoder_hidden_states)[:, 0]
    n = ids.shape[1]
    positions = [(t, t + 1) for t in range(n)]
    for index in (1, 2):
        handle = decoder_layer(model, index, enc)
        with torch.no_grad():
            torch.testing.assert_close(handle.run(states[index - 1][None])[0], states[index], atol=1e-5, rtol=1e-5)
        raw = value_zeroing(handle.run, handle.attention, states[index - 1], positions, normalise=False)
        assert np.all(raw[np.triu_indices(n, 1)] < 1e-6), "a token changes no output before it"
        assert np.all(np.diag(raw) > 0)
        loop = value_zeroing(handle.run, handle.attention, states[index - 1], positions, normalise=False,
                             batched=False)
        np.testing.assert_allclose(raw, loop, atol=1e-5)
        # cross-attention: zero the values of encoder frames, score every decoder position
        frames = [(0, 10), (10, 25), (25, 250)]
        cross = value_zeroing(handle.run, handle.cross_attention, states[index - 1], frames, positions)
        cross_loop = value_zeroing(handle.run, handle.cross_attention, states[index - 1], frames, positions,
                                   batched=False)
        assert cross.shape == (n, 3)
        np.testing.assert_allclose(cross, cross_loop, atol=1e-5)
        np.testing.assert_allclose(cross.sum(1), 1.0)
    assert torch.equal(causal_mask(3)[0, 0] == 0, torch.tril(torch.ones(3, 3, dtype=torch.bool)))
    with pytest.raises(ValueError, match="Whisper"):
        decoder_layer(_FakeModel(), 1, enc)


class _FakeModel:
    class config:  # noqa: N801
        model_type = "wav2vec2"


def test_token_word_spans(tiny_whisper):
    _, processor = tiny_whisper
    tok = processor.tokenizer
    sot = tok.convert_tokens_to_ids("<|startoftranscript|>")
    ids = [sot] + tok(SENTENCES[0], add_special_tokens=False).input_ids + [tok.eos_token_id]
    words, spans = token_word_spans(tok, ids)
    assert words == SENTENCES[0].split()
    assert spans[0][0] == 1 and spans[-1][1] == len(ids) - 1
    assert all(a < b for a, b in spans) and all(s[1] == t[0] for s, t in zip(spans, spans[1:]))
    for w, (a, b) in zip(words, spans):
        assert tok.decode(ids[a:b]).strip() == w


# --------------------------------------------------------------------------
# The experiment: cue gap per layer and speaker, model and control


def _sentence(speaker, target, cue, uid):
    from types import SimpleNamespace

    return SimpleNamespace(id=uid, speaker=speaker, labels={"target_index": target, "cue_index": cue})


def test_cue_gap_profile_by_hand():
    from course.context_mixing import cue_gap_profile

    # speaker "b" (listed first) has two sentences, "a" one; 4 words; two layers; rows that do not sum to 1
    sents = [_sentence("b", 1, 2, "b1"), _sentence("a", 2, 1, "a1"), _sentence("b", 3, 2, "b2")]
    mats = {}
    for u in sents:
        m = np.ones((2, 4, 4))
        t, c = u.labels["target_index"], u.labels["cue_index"]
        m[0, t] = 2.0  # layer 1: uniform row (sum 8): gap 0
        m[1, t] = 1.0
        m[1, t, c] = 3.0  # layer 2: cue 3, self 1, two others 1 and 1 -> shares 0.5, 1/6, 1/6, 1/6: gap 1/3
        m[1, c, t] = 10.0  # the cue's row (not read)
        mats[u.id] = m
    mats["b2"][1, 3] = [2.0, 0.0, 2.0, 4.0]  # b2, layer 2: others 2 and 0, cue 2, self 4 (sum 8): gap 0.25 - 0.125
    table = cue_gap_profile(lambda u: mats[u.id], lambda u: np.ones((2, 4, 4)), sents)
    assert list(table.columns) == ["layer", "speaker", "model", "control"]
    assert list(zip(table.layer, table.speaker)) == [(1, "a"), (1, "b"), (2, "a"), (2, "b")]
    assert table.control.abs().max() < 1e-12
    assert table.model.iloc[:2].abs().max() < 1e-12
    assert table.model.iloc[2] == pytest.approx(1 / 3)
    assert table.model.iloc[3] == pytest.approx((1 / 3 + 0.125) / 2)  # b's own mean over its two sentences


def test_cue_gap_profile_refuses_bad_input():
    from course.context_mixing import cue_gap_profile

    u = _sentence("a", 0, 1, "x")
    three = np.ones((2, 3, 3))
    with pytest.raises(ValueError, match="No utterance"):
        cue_gap_profile(lambda v: three, lambda v: three, [])
    with pytest.raises(ValueError, match="same layers"):
        cue_gap_profile(lambda v: three, lambda v: three[:1], [u])
    with pytest.raises(ValueError, match="n_words, n_words"):
        cue_gap_profile(lambda v: three[0], lambda v: three, [u])
    with pytest.raises(ValueError, match="different words"):
        cue_gap_profile(lambda v: three, lambda v: three, [_sentence("a", 1, 1, "y")])
    with pytest.raises(ValueError, match="sums to 0"):
        cue_gap_profile(lambda v: np.zeros((2, 3, 3)), lambda v: three, [u])


# --------------------------------------------------------------------------
# Attention norms (Kobayashi et al. 2020)


@torch.no_grad()
def _transformed(attention, x):
    """f^h(x_j) for every head and source, from the module's weights: (heads, n, dim)."""
    h, n = attention.num_heads, x.shape[0]
    v = attention.v_proj(x.float()).double().reshape(n, h, -1).transpose(0, 1)
    wo = attention.out_proj.weight.double().T.reshape(h, -1, attention.out_proj.out_features)
    return torch.bmm(v, wo)


@pytest.mark.parametrize("family", ["tiny_ctc", "tiny_whisper", "tiny_hubert"])
def test_attention_terms_sum_to_the_attention_output(family, request, audio):
    """The decomposition the norms measure is exact: sum_j sum_h alpha^h_ij f^h(x_j) + b_O is the attention's
    output, in pre-LN (wav2vec 2.0, Whisper) and post-LN (HuBERT) layers, from the inputs attention_inputs records."""
    from course.context_mixing import attention_inputs

    model, processor = request.getfixturevalue(family)
    run = run_encoder(model, processor, audio)
    xs = attention_inputs(model, run.hidden_states)
    assert xs.shape[:2] == (len(run.attentions), run.hidden_states.shape[1])
    for layer in range(1, len(run.attentions) + 1):
        attention = encoder_layer(model, layer).attention
        with torch.no_grad():
            out = attention(xs[layer - 1][None])[0][0].double()
        f = _transformed(attention, xs[layer - 1])
        total = torch.einsum("hij,hjd->id", run.attentions[layer - 1].double(), f) + attention.out_proj.bias.double()
        assert torch.allclose(total, out, atol=1e-5), f"{family} layer {layer}"


@pytest.mark.parametrize("name", ["tiny-w2v2-ctc", "tiny-whisper"])
def test_attention_norms_match_the_reference_on_the_shipped_models(name):
    """course.context_mixing.attention_norms against the per-head, per-target loop written from the paper, at every
    layer of the shipped encoders, on a held-out utterance (the utterance's frames of Whisper's window)."""
    from course.context_mixing import attention_inputs, attention_norms
    from course.corpus import load_corpus
    from course.models import load_model
    from speech_course_tools.benchmarks.references.context_mixing import attention_norms_loop

    corpus = load_corpus()
    u = corpus[corpus.ids(split="test")[0]]
    model, processor = load_model(name)
    run = run_encoder(model, processor, u.waveform)
    xs = attention_inputs(model, run.hidden_states)
    n = run.n_frames
    for layer in range(1, len(run.attentions) + 1):
        attention = encoder_layer(model, layer).attention
        w, x = run.attentions[layer - 1][:, :n, :n], xs[layer - 1][:n]
        got = attention_norms(attention, w, x, chunk=17)
        want = attention_norms_loop(attention, w, x)
        assert got.shape == (n, n) and np.all(got >= 0)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"{name} layer {layer}")
        # what the measure adds to the weights: the norms do not rank sources as the head-averaged weights do
        weights = w.mean(0).numpy()
        assert not np.allclose(got / got.sum(1, keepdims=True), weights, atol=1e-3), f"{name} layer {layer}"


def test_attention_norms_by_hand_and_broken_variants_fail(tiny_ctc, audio):
    """A two-position, two-head case checked by hand, and three plausible mistakes that the reference catches (on
    the shipped phone recogniser)."""
    from course.context_mixing import attention_inputs, attention_norms
    from speech_course_tools.benchmarks.references.context_mixing import attention_norms_loop

    model, processor = tiny_ctc
    attention = encoder_layer(model, 1).attention
    x = torch.randn(2, attention.embed_dim, generator=torch.Generator().manual_seed(0))
    w = torch.tensor([[[1.0, 0.0], [0.25, 0.75]], [[0.5, 0.5], [0.0, 1.0]]])
    f = _transformed(attention, x)
    by_hand = [[torch.linalg.vector_norm(w[0, i, j] * f[0, j] + w[1, i, j] * f[1, j]).item() for j in range(2)]
               for i in range(2)]
    np.testing.assert_allclose(attention_norms(attention, w, x), by_hand, rtol=1e-5)

    from course.models import load_model

    model, processor = load_model("tiny-w2v2-ctc")  # trained: its value biases are not 0
    attention = encoder_layer(model, 1).attention
    run = run_encoder(model, processor, audio)
    xs = attention_inputs(model, run.hidden_states)
    w, x = run.attentions[0], xs[0]
    want = attention_norms_loop(attention, w, x)
    f = _transformed(attention, x)
    broken = {
        "norm of each head's term, summed (sum of norms, not norm of the sum)":
            torch.linalg.vector_norm(w.double()[..., None] * f[:, None], dim=-1).sum(0).numpy(),
        "value bias left out": attention_norms_loop(_without_value_bias(attention), w, x),
        "weights times the norm of the averaged vector": (w.double().mean(0) * torch.linalg.vector_norm(
            f.mean(0), dim=-1)[None]).numpy(),
    }
    for what, values in broken.items():
        assert not np.allclose(values, want, rtol=1e-3), f"the reference does not tell apart: {what}"
    with pytest.raises(ValueError, match="n_heads, n, n"):
        attention_norms(attention, w[:1], x)
    with pytest.raises(ValueError, match="width"):
        attention_norms(attention, w, x[:, :5])
    with pytest.raises(TypeError, match="v_proj and out_proj"):
        attention_norms(torch.nn.Linear(2, 2), w, x)
    with pytest.raises(ValueError, match="n_layers \\+ 1"):
        attention_inputs(model, run.hidden_states[1:])


def _without_value_bias(attention):
    import copy

    clone = copy.deepcopy(attention)
    with torch.no_grad():
        clone.v_proj.bias.zero_()
    return clone
