"""CTC lens and decoder lens: greedy decoding, layer-norm placement, and agreement with the models themselves.

The layer-norm handling is checked against an independent definition: the lens at layer ``l`` must give exactly
what the model gives when it is cut after ``l`` layers (its own final norm and head included), and at the last
layer exactly the model's own output. Tiny randomly initialised models (the shipped architectures, shrunk) run
everywhere; the shipped models are used when they are installed.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from transformers import GenerationConfig, Wav2Vec2ForCTC, WhisperForConditionalGeneration

from course.features import extract
from course.lenses import (
    ctc_greedy_decode,
    ctc_lens,
    ctc_lens_logits,
    decoder_lens,
    encoder_lens_states,
    final_layer_norm,
    is_pre_ln,
    last_layer_is_normed,
    normalise_layers,
    random_layers_twin,
)
from course.metrics import error_rate
from course.models import SHIPPED_DIR, load_model
from course.decoding import transcribe_phones, transcribe_text
from speech_course_tools.training import _phone_processor, _whisper_processor, w2v2_config, whisper_config

PHONES = ["a", "b", "k", "s", "t", "uː"]


def _shuffle_norm(norm: torch.nn.LayerNorm, seed: int) -> None:
    """Give a LayerNorm non-trivial weights: a freshly initialised one (weight 1, bias 0) is nearly idempotent,
    so applying it twice would go unnoticed."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        norm.weight.copy_(1 + 0.5 * torch.randn(norm.weight.shape, generator=gen))
        norm.bias.copy_(0.5 * torch.randn(norm.bias.shape, generator=gen))


def _tiny_ctc(pre_ln: bool) -> Wav2Vec2ForCTC:
    torch.manual_seed(0)
    cfg = w2v2_config(vocab_size=len(PHONES) + 2)  # the shipped architecture, narrowed to keep the tests fast
    cfg.num_hidden_layers, cfg.do_stable_layer_norm = 3, pre_ln
    cfg.hidden_size, cfg.num_attention_heads, cfg.intermediate_size = 32, 2, 64
    cfg.conv_dim, cfg.num_conv_pos_embeddings, cfg.num_conv_pos_embedding_groups = (32,) * 7, 16, 4
    model = Wav2Vec2ForCTC(cfg).eval()
    _shuffle_norm(model.wav2vec2.encoder.layer_norm, 1)
    return model


def _cut_ctc(model: Wav2Vec2ForCTC, n_layers: int) -> Wav2Vec2ForCTC:
    """The same model stopped after ``n_layers`` transformer layers (final norm and head kept)."""
    cut = copy.deepcopy(model)
    cut.wav2vec2.encoder.layers = cut.wav2vec2.encoder.layers[:n_layers]
    return cut


@pytest.fixture(scope="module")
def audio():
    rng = np.random.default_rng(0)
    return [rng.standard_normal(n).astype(np.float32) * 0.1 for n in (6400, 4800)]


@pytest.fixture(scope="module")
def pre_ln_ctc():
    return _tiny_ctc(pre_ln=True)


@pytest.fixture(scope="module")
def post_ln_ctc():
    return _tiny_ctc(pre_ln=False)


@pytest.fixture(scope="module")
def tiny_whisper():
    return _tiny_whisper()


# --------------------------------------------------------------------------
# Greedy CTC decoding


@pytest.mark.parametrize("ids, expected", [
    ([0, 1, 1, 0, 1, 2, 2, 0, 0, 3], [1, 1, 2, 3]),  # the blank between the 1s keeps both
    ([1, 1, 1], [1]),
    ([0, 0, 0], []),
    ([], []),
    ([2, 0, 2, 2, 3, 0], [2, 2, 3]),
])
def test_ctc_greedy_decode(ids, expected):
    assert ctc_greedy_decode(ids, blank_id=0) == expected
    assert ctc_greedy_decode(np.array(ids, dtype=np.int64), blank_id=0) == expected


# --------------------------------------------------------------------------
# Layer-norm placement (tiny random models)


@pytest.mark.parametrize("which", ["pre_ln_ctc", "post_ln_ctc"])
def test_ctc_lens_equals_the_model_cut_after_each_layer(which, audio, request):
    model = request.getfixturevalue(which)
    x = torch.from_numpy(audio[0])[None]
    with torch.no_grad():
        out = model(x, output_hidden_states=True)
    hidden = torch.stack(out.hidden_states)[:, 0].numpy()  # (L + 1, T, D)
    logits = ctc_lens_logits(model, hidden)
    assert logits.shape == (4, hidden.shape[1], len(PHONES) + 2)
    np.testing.assert_allclose(logits[-1], out.logits[0].numpy(), atol=1e-5)  # the model's own output
    for layer in range(4):
        with torch.no_grad():
            cut = _cut_ctc(model, layer)(x).logits[0].numpy()
        np.testing.assert_allclose(logits[layer], cut, atol=1e-5, err_msg=f"layer {layer}")


def test_pre_ln_lens_needs_the_norm_and_must_not_apply_it_twice(audio, pre_ln_ctc):
    model = pre_ln_ctc
    assert is_pre_ln(model) and final_layer_norm(model) is model.wav2vec2.encoder.layer_norm
    x = torch.from_numpy(audio[0])[None]
    with torch.no_grad():
        out = model(x, output_hidden_states=True)
        hidden = torch.stack(out.hidden_states)[:, 0]
        norm, head = model.wav2vec2.encoder.layer_norm, model.lm_head
        own = out.logits[0]
        mid = _cut_ctc(model, 1)(x).logits[0]
        # without the norm an intermediate layer is read wrongly
        assert not torch.allclose(head(hidden[1]), mid, atol=1e-3)
        # whatever the transformers version returns as the last hidden state, the norm goes on exactly once
        if last_layer_is_normed(model):
            assert torch.allclose(head(hidden[-1]), own, atol=1e-5)
            assert not torch.allclose(head(norm(hidden[-1])), own, atol=1e-3)
        else:
            assert torch.allclose(head(norm(hidden[-1])), own, atol=1e-5)
            assert not torch.allclose(head(hidden[-1]), own, atol=1e-3)
            assert not torch.allclose(head(norm(norm(hidden[-1]))), own, atol=1e-3)
    # a stated convention overrides the check: telling the lens the last state is normalised skips the norm there
    forced = normalise_layers(model, hidden.numpy(), last_normed=True)
    assert torch.equal(forced[-1], hidden[-1]) and not torch.allclose(forced[0], hidden[0])


def test_post_ln_lens_applies_nothing(post_ln_ctc):
    model = post_ln_ctc
    assert not is_pre_ln(model) and final_layer_norm(model) is None and last_layer_is_normed(model)
    hidden = torch.randn(4, 7, 32)
    assert torch.equal(normalise_layers(model, hidden), hidden)


def test_ctc_lens_decodes_every_layer_like_the_model(audio, pre_ln_ctc):
    model, processor = pre_ln_ctc, _phone_processor(PHONES)
    # one utterance per forward pass, like the cut models below: a random model's logits are full of near-ties,
    # which padding-level differences (1e-6) could flip
    reps = extract(model, processor, audio, batch_size=1, progress=False)
    refs = [["a", "b", "k"], ["s", "t"]]
    result = ctc_lens(model, processor, reps, refs)
    assert result.layers == [0, 1, 2, 3] and len(result.hypotheses) == 4
    # the last layer is the model's own greedy transcription (one utterance at a time: no padding)
    assert result.hypotheses[-1] == [transcribe_phones(model, processor, [w], batch_size=1)[0] for w in audio]
    for layer, hyps in zip(result.layers, result.hypotheses):
        # each layer: argmax of the cut model's logits, merged and blank-dropped
        with torch.no_grad():
            cut = _cut_ctc(model, layer)
            inputs = [processor(w, sampling_rate=16000, return_tensors="pt").input_values for w in audio]
            ids = [cut(x).logits[0].argmax(-1).tolist() for x in inputs]
        assert hyps == [processor.tokenizer.convert_ids_to_tokens(ctc_greedy_decode(i, 0)) for i in ids]
    np.testing.assert_allclose(result.error_rates, [error_rate(refs, h) for h in result.hypotheses])
    sub = ctc_lens(model, processor, reps, layers=[3, 1])
    assert sub.layers == [3, 1] and sub.hypotheses == [result.hypotheses[3], result.hypotheses[1]]
    assert sub.error_rates is None


def test_ctc_lens_bad_input(audio, pre_ln_ctc, tiny_whisper):
    model, processor = copy.deepcopy(pre_ln_ctc), _phone_processor(PHONES)
    reps = extract(model, processor, audio[:1], progress=False)
    with pytest.raises(ValueError, match="out of range"):
        ctc_lens(model, processor, reps, layers=[4])
    with pytest.raises(ValueError, match="1 utterances"):
        ctc_lens(model, processor, reps, [["a"], ["b"]])
    with pytest.raises(ValueError, match="No representations"):
        ctc_lens(model, processor, [])
    with pytest.raises(ValueError, match="n_frames, 32"):
        ctc_lens_logits(model, np.zeros((4, 5, 7), dtype=np.float32))
    model.train()
    with pytest.raises(ValueError, match="eval"):
        ctc_lens_logits(model, reps[0].hidden_states)
    with pytest.raises(ValueError, match="no CTC head"):
        ctc_lens_logits(tiny_whisper[0], reps[0].hidden_states)


# --------------------------------------------------------------------------
# Decoder lens (tiny random Whisper)

SENTENCES = ["turn on the lights", "say bit again", "she will write a letter"]


def _tiny_whisper():
    processor = _whisper_processor(SENTENCES)
    tok = processor.tokenizer
    sot, eos = tok.convert_tokens_to_ids("<|startoftranscript|>"), tok.eos_token_id
    cfg = whisper_config(len(tok), sot, eos)
    cfg.encoder_layers, cfg.init_std = 2, 0.2  # a larger init makes each layer decode to different tokens
    cfg.decoder_layers, cfg.d_model, cfg.encoder_ffn_dim, cfg.decoder_ffn_dim = 1, 32, 64, 64
    cfg.encoder_attention_heads = cfg.decoder_attention_heads = 2
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(cfg).eval()
    model.generation_config = GenerationConfig(decoder_start_token_id=sot, eos_token_id=eos, pad_token_id=eos,
                                               bos_token_id=eos, max_length=64)
    _shuffle_norm(model.model.encoder.layer_norm, 2)
    return model, processor


def _cut_whisper(model, n_layers: int):
    cut = copy.deepcopy(model)
    cut.model.encoder.layers = cut.model.encoder.layers[:n_layers]
    return cut


def test_decoder_lens_states_are_the_encoder_cut_after_each_layer(audio, tiny_whisper):
    model, processor = tiny_whisper
    feats = processor.feature_extractor(audio, sampling_rate=16000, return_tensors="pt").input_features
    states = encoder_lens_states(model, feats)
    assert len(states) == 3
    with torch.no_grad():
        for layer in range(3):
            expected = _cut_whisper(model, layer).get_encoder()(feats).last_hidden_state
            torch.testing.assert_close(states[layer], expected, atol=1e-5, rtol=1e-4)
        raw = model.get_encoder()(feats, output_hidden_states=True).hidden_states
        assert not torch.allclose(states[0], raw[0], atol=1e-3)  # the norm was needed


def test_decoder_lens_generates_like_the_model(audio, tiny_whisper):
    model, processor = tiny_whisper
    refs = ["say bit again", "turn on the lights"]
    result = decoder_lens(model, processor, audio, refs, max_new_tokens=10, batch_size=1)
    assert result.layers == [0, 1, 2]
    feats = processor(audio, sampling_rate=16000, return_tensors="pt").input_features
    for layer, cut in [(0, _cut_whisper(model, 0)), (1, _cut_whisper(model, 1)), (2, model)]:
        # the model's own generate on the input features; for layers 0 and 1, with the encoder cut there
        ids = cut.generate(feats, max_new_tokens=10)
        assert result.hypotheses[layer] == [t.strip() for t in processor.batch_decode(ids, skip_special_tokens=True)]
    assert len(set(map(tuple, result.hypotheses))) > 1, "random layers should decode differently"
    np.testing.assert_allclose(result.error_rates,
                               [error_rate([r.split() for r in refs], [h.split() for h in hyps])
                                for hyps in result.hypotheses])
    upper = decoder_lens(model, processor, audio, [r.upper() for r in refs], max_new_tokens=10, normalise=str.lower)
    np.testing.assert_allclose(upper.error_rates, result.error_rates)


def test_decoder_lens_bad_input(audio, tiny_whisper, pre_ln_ctc):
    model, processor = tiny_whisper
    with pytest.raises(ValueError, match="out of range"):
        decoder_lens(model, processor, audio, layers=[5])
    with pytest.raises(ValueError, match="No audio"):
        decoder_lens(model, processor, [])
    with pytest.raises(ValueError, match="Whisper-family"):
        encoder_lens_states(pre_ln_ctc, torch.zeros(1, 80, 500))


# --------------------------------------------------------------------------
# Shipped models (when installed)


def test_random_layers_twin_keeps_layer_0_and_the_reader_and_redraws_only_the_layers(audio, pre_ln_ctc,
                                                                                    tiny_whisper):
    model = pre_ln_ctc
    before = {k: v.clone() for k, v in model.state_dict().items()}
    twin = random_layers_twin(model, seed=1)  # seed 0 would redraw this test model's own (random) weights
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), f"the model itself changed: {k}"
        same = torch.equal(twin.state_dict()[k], v)
        if ".encoder.layers." not in k:
            assert same, f"{k} must stay trained"
        elif v.ndim == 2:  # weight matrices (biases and norms may start at the same constants)
            assert not same, f"{k} must be redrawn"
    x = torch.from_numpy(audio[0])[None]
    with torch.no_grad():
        ours = torch.stack(model.base_model(x, output_hidden_states=True).hidden_states)[:, 0].numpy()
        theirs = torch.stack(twin.base_model(x, output_hidden_states=True).hidden_states)[:, 0].numpy()
    np.testing.assert_allclose(theirs[0], ours[0], atol=1e-6)  # the same input to the first layer
    assert not np.allclose(theirs[-1], ours[-1], atol=1e-3), "the last layer must differ"
    lens_ours, lens_theirs = ctc_lens_logits(model, ours), ctc_lens_logits(twin, theirs)
    np.testing.assert_allclose(lens_theirs[0], lens_ours[0], atol=1e-5)  # the trained norm and head read layer 0

    whisper, _ = tiny_whisper
    w_twin = random_layers_twin(whisper, seed=1)
    for k, v in whisper.state_dict().items():
        same = torch.equal(w_twin.state_dict()[k], v)
        assert same if "encoder.layers." not in k else (v.ndim < 2 or not same), k
    assert not w_twin.training
    with pytest.raises(ValueError, match="encoder.layers"):
        random_layers_twin(torch.nn.Linear(2, 2))


def _shipped(name: str) -> bool:
    return (SHIPPED_DIR / name / "config.json").is_file()


@pytest.fixture(scope="module")
def test_utts(default_corpus):
    ids = default_corpus.ids(split="test")  # the two test speakers alternate
    return [default_corpus[i] for i in ids[::39]]  # 9 utterances, both speakers


@pytest.mark.skipif(not _shipped("tiny-w2v2-ctc"), reason="tiny-w2v2-ctc is not installed")
def test_ctc_lens_on_the_shipped_phone_recogniser(test_utts):
    model, processor = load_model("tiny-w2v2-ctc")
    reps = extract(model, processor, test_utts, progress=False)
    refs = [[p.label for p in u.phones] for u in test_utts]
    result = ctc_lens(model, processor, reps, refs)
    own = [transcribe_phones(model, processor, [u.waveform], batch_size=1)[0] for u in test_utts]
    assert result.hypotheses[-1] == own  # exactly the model's greedy transcription
    per = result.error_rates
    assert per[-1] <= per.min() + 0.02, per  # the last layer is the best or close to it
    assert per[0] > per[-1] + 0.2, per  # the input of the transformer is not yet decodable


@pytest.mark.skipif(not _shipped("tiny-whisper"), reason="tiny-whisper is not installed")
def test_decoder_lens_on_the_shipped_transcriber(test_utts):
    model, processor = load_model("tiny-whisper")
    waves = [u.waveform for u in test_utts]
    result = decoder_lens(model, processor, test_utts, [u.text for u in test_utts])
    assert result.hypotheses[-1] == transcribe_text(model, processor, waves)
    wer = result.error_rates
    assert wer[-1] <= wer.min() + 0.05, wer


TOY_TOKENS = {0: "_", 1: "a", 2: "b", 3: "c"}


def _toy_tokens(ids):
    return [TOY_TOKENS[i] for i in ids]


def _toy_profile_inputs():
    """Two layers of best paths (blank 0) for a training speaker t and held-out speakers x (two utterances of
    different lengths) and y; the control reads every frame as blank."""
    refs = [["a", "b"], ["a", "b"], ["a", "b", "c", "a"], ["c", "c"]]
    speakers = ["t", "x", "x", "y"]
    paths = [np.array([[1, 2], [1, 2]]),
             np.array([[1, 1, 0], [1, 0, 2]]),  # layer 0 drops the b
             np.array([[1, 2, 3, 1], [1, 2, 3, 1]]),
             np.array([[3, 3, 3], [3, 0, 3]])]  # layer 0 merges the two c into one
    controls = [np.zeros_like(p) for p in paths]
    return paths, controls, refs, speakers


def test_lens_profile_scores_each_held_out_speaker_per_layer_with_its_control():
    from course.lenses import lens_profile

    paths, controls, refs, speakers = _toy_profile_inputs()
    table = lens_profile(paths, controls, refs, speakers, ["y", "x"], 0, _toy_tokens)
    assert list(table.columns) == ["layer", "speaker", "model", "control"]
    assert list(zip(table.layer, table.speaker)) == [(0, "x"), (0, "y"), (1, "x"), (1, "y")]
    # x at layer 0: 1 edit over 2 + 4 reference tokens (not the mean of its utterances' rates, 0.25)
    assert table.model.tolist() == pytest.approx([1 / 6, 1 / 2, 0.0, 0.0])
    assert table.control.tolist() == [1.0] * 4  # all blanks: every reference token deleted
    # the same by hand with the corpus-level error rate of course.metrics
    hyps = [_toy_tokens(ctc_greedy_decode(p[0], 0)) for p in paths[1:3]]
    assert table.model.iloc[0] == pytest.approx(error_rate(refs[1:3], hyps))
    # another blank id, and insertions above 1
    shifted = [np.where(p == 0, 3, np.where(p == 3, 0, p)) for p in paths]
    other = lens_profile(shifted, [np.tile([1, 3], (2, 8)) for _ in paths], refs, speakers, ["x"], 3,
                         lambda ids: [{0: "c", 1: "a", 2: "b"}[i] for i in ids])
    assert other.model.tolist() == pytest.approx([1 / 6, 0.0])
    assert other.control.tolist() == pytest.approx([13 / 6, 13 / 6])  # eight a: 7 + 6 edits for 6 tokens


def test_lens_profile_refuses_bad_input():
    from course.lenses import lens_profile

    paths, controls, refs, speakers = _toy_profile_inputs()
    with pytest.raises(ValueError, match="One entry per utterance"):
        lens_profile(paths, controls[:3], refs, speakers, ["x"], 0, _toy_tokens)
    with pytest.raises(ValueError, match="n_layers, n_frames"):
        lens_profile(paths, controls[:3] + [controls[3][:1]], refs, speakers, ["x"], 0, _toy_tokens)
    with pytest.raises(ValueError, match="No utterance of a held-out speaker"):
        lens_profile(paths, controls, refs, speakers, ["nobody"], 0, _toy_tokens)
    with pytest.raises(ValueError, match="without reference tokens"):
        lens_profile(paths, controls, refs[:3] + [[]], speakers, ["y"], 0, _toy_tokens)
