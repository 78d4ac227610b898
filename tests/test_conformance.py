"""Conformance: every method of the course on the real model families at full size (issue 23).

Each family of ``speech_course_tools.families`` (wav2vec2-base, wav2vec2-large-lv60, HuBERT-base, WavLM-base-plus,
data2vec-audio-base, Whisper-base and -small) is built from its published hyper-parameters with random weights,
saved as a local Hugging Face directory and loaded with ``course.models.load_model``: the path a hub id takes after
its download. Every method then runs on it, and the family-specific conventions are checked against the model
itself: the CTC lens against the model cut after each layer (post-LN and pre-LN encoders differ in where the final
norm sits), a layer handle against the encoder's own next hidden state (WavLM passes a relative position bias from
layer to layer), the decoder lens against the encoder cut after each layer and against ``generate`` (Whisper's
30 s window), value zeroing against an attention whose values really were zeroed. Two short utterances each; the
largest models are marked slow and run only with ``COURSE_TEST_LARGE_MODELS=1``.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

from course.attribution import (convergence_delta, feature_ablation, feature_encoder_split, input_x_gradient,
                                integrated_gradients, occlusion, saliency)
from course.context_mixing import (attention_rollout, decoder_layer, encoder_layer, run_encoder,
                                   value_zeroing_distances)
from course.features import extract
from course.frames import num_frames
from course.lenses import (ctc_lens_logits, decoder_lens, encoder_lens_states, final_layer_norm, is_pre_ln,
                           normalise_layers)
from course.models import FRONT_END, encoder, load_model, num_layers, random_twin
from course.similarity import feature_space_linear_cka, rsa
from speech_course_tools.families import FAMILIES, family_config, save_family

#: The largest families (wav2vec2-large-lv60, 1.3 GB; Whisper-small, 1 GB) run only when asked: about 2.5 minutes
#: on 2 cores, which the CI run's 45 minutes cannot spare. Last run 2026-12-07: all 12 of their tests passed.
LARGE = pytest.mark.skipif(os.environ.get("COURSE_TEST_LARGE_MODELS") not in ("1", "2"),
                           reason="set COURSE_TEST_LARGE_MODELS=1 to check the largest families and two notebooks "
                                  "switched to a real architecture (about 4.5 min; =2: five notebooks)")


def _params(whisper: bool) -> list:
    return [pytest.param(n, marks=[pytest.mark.slow, LARGE] if f.slow else [], id=n)
            for n, f in FAMILIES.items() if f.is_whisper == whisper]


ENCODERS, WHISPERS = _params(False), _params(True)


@pytest.fixture(scope="module")
def waves(default_corpus):
    """Two short test utterances of two speakers (about 1-2 s each)."""
    m = default_corpus.manifest
    test = m[m["split"] == "test"].sort_values("duration")
    first = test.iloc[0]
    second = test[test["speaker"] != first["speaker"]].iloc[0]
    return [default_corpus[first.name].waveform, default_corpus[second.name].waveform]


@pytest.fixture(scope="module", params=ENCODERS)
def family(request, tmp_path_factory):
    """A wav2vec 2.0-style family with a CTC head, saved and loaded back like a downloaded hub model."""
    name = request.param
    path = save_family(name, tmp_path_factory.mktemp(name) / name, head="ctc", seed=1)  # not the twins' seed 0
    model, processor = load_model(path)
    return name, model, processor


@pytest.fixture(scope="module", params=WHISPERS)
def whisper(request, tmp_path_factory):
    name = request.param
    path = save_family(name, tmp_path_factory.mktemp(name) / name)
    model, processor = load_model(path)
    return name, model, processor


def _layers(name: str) -> int:
    hyper = FAMILIES[name].hyper
    return hyper.get("num_hidden_layers", hyper.get("encoder_layers"))


# --------------------------------------------------------------------------
# wav2vec 2.0-style encoders


def test_a_saved_family_loads_like_a_hub_model_with_its_published_size(family):
    name, model, processor = family
    hyper = FAMILIES[name].hyper
    assert type(model).__name__.endswith("ForCTC") and not model.training
    assert model.config._attn_implementation == "eager", "attention weights need eager attention"
    assert num_layers(model) == hyper["num_hidden_layers"] and model.config.hidden_size == hyper["hidden_size"]
    assert is_pre_ln(model) == hyper.get("do_stable_layer_norm", False), "pre-LN (stable layer norm) or post-LN"


def test_extraction_gives_every_layer_batched_as_one_at_a_time(family, waves):
    name, model, processor = family
    reps = extract(model, processor, waves, progress=False)
    single = extract(model, processor, waves, batch_size=1, progress=False)
    for w, r, s in zip(waves, reps, single):
        assert r.hidden_states.shape == (_layers(name) + 1, num_frames(len(w)), model.config.hidden_size)
        assert np.isfinite(r.hidden_states).all()
        np.testing.assert_allclose(r.hidden_states, s.hidden_states, atol=1e-4, rtol=1e-4)


@contextmanager
def _cut(model, n_layers: int):  # noqa: ANN001, ANN202
    """The same model stopped after ``n_layers`` Transformer layers (its final norm, if any, and head kept), within
    the block: the encoder's list of layers is shortened in place (no copy of a full-size model) and restored."""
    layers = encoder(model).layers
    encoder(model).layers = layers[:n_layers]
    try:
        yield model
    finally:
        encoder(model).layers = layers


def test_the_ctc_lens_is_the_model_cut_after_each_layer(family, waves):
    """Post-LN encoders normalise before the first layer, pre-LN ones after the last: the lens must apply the final
    norm exactly where the model would, at every depth."""
    name, model, processor = family
    x = processor(waves[0], sampling_rate=16000, return_tensors="pt").input_values
    with torch.no_grad():
        out = model(x, output_hidden_states=True)
    hidden = torch.stack(out.hidden_states)[:, 0].numpy()
    logits = ctc_lens_logits(model, hidden)
    np.testing.assert_allclose(logits[-1], out.logits[0].numpy(), atol=1e-4, err_msg="the model's own output")
    for layer in range(_layers(name)):
        with torch.no_grad(), _cut(model, layer) as cut_model:
            cut = cut_model(x).logits[0].numpy()
        np.testing.assert_allclose(logits[layer], cut, atol=1e-4, err_msg=f"{name}, layer {layer}")


def test_the_random_twin_is_the_same_architecture_with_new_weights(family):
    """The front-end control of the notebooks: same shapes, the convolutional front end kept, every other weight
    redrawn (a fully random twin draws through the same code; one full-size twin per family keeps this quick)."""
    name, model, _ = family
    trained = model.state_dict()
    twin = random_twin(model, keep_front_end=True).state_dict()
    assert {k: v.shape for k, v in twin.items()} == {k: v.shape for k, v in trained.items()}
    drawn = {k for k, v in trained.items() if v.is_floating_point() and bool((v != v.flatten()[0]).any())}  # drawn
    kept = {k for k in drawn if torch.equal(trained[k], twin[k])}
    front = {k for k in drawn if any(f in k for f in FRONT_END)}
    assert kept == front and front, f"{name}: kept {sorted(kept - front)[:3]}, redrew {sorted(front - kept)[:3]}"


def test_normalised_layers_end_at_the_encoder_output(family, waves):
    """Post-LN: the hidden states as they are. Pre-LN: the final norm on every layer, once (the last entry is the
    encoder's output either way)."""
    name, model, processor = family
    x = processor(waves[0], sampling_rate=16000, return_tensors="pt").input_values
    with torch.no_grad():
        out = model.base_model(x, output_hidden_states=True)
    hs = torch.stack(out.hidden_states)[:, 0]
    normed = normalise_layers(model, hs)
    torch.testing.assert_close(normed[-1], out.last_hidden_state[0], atol=1e-4, rtol=1e-4)
    if not is_pre_ln(model):
        torch.testing.assert_close(normed, hs)
    else:
        torch.testing.assert_close(normed[1], final_layer_norm(model)(hs[1]), atol=1e-5, rtol=1e-5)


def test_similarity_measures_read_the_layers(family, waves):
    name, model, processor = family
    hs = extract(model, processor, waves[:1], progress=False)[0].hidden_states
    first, last = hs[1].astype(np.float64), hs[-1].astype(np.float64)
    assert feature_space_linear_cka(first, first) == pytest.approx(1.0)
    assert 0.0 <= feature_space_linear_cka(first, last) <= 1.0
    assert -1.0 <= rsa(first, last) <= 1.0


def test_attention_and_rollout_cover_every_layer_and_head(family, waves):
    name, model, processor = family
    run = run_encoder(model, processor, waves[0])
    n, heads = num_frames(len(waves[0])), model.config.num_attention_heads
    assert run.attentions.shape == (_layers(name), heads, n, n), "one map per layer and head"
    np.testing.assert_allclose(run.attentions.sum(-1).numpy(), 1.0, atol=1e-4)
    rollout = attention_rollout(run.attentions)
    assert rollout.shape == (_layers(name), n, n) and np.allclose(rollout.sum(-1), 1.0, atol=1e-4)


def test_attention_maps_are_per_head_and_leave_the_hidden_states_as_the_model_computes_them(family, waves):
    """WavLM's attention in transformers returns the average of its heads on every head and reads the value weights
    directly; ``course.models.per_head_attention`` recomputes it head by head, through ``v_proj``. Its hidden states
    must stay those of the model, and its heads must average to what transformers returns."""
    import transformers as T

    name, model, processor = family
    x = processor(waves[0], sampling_rate=16000, return_tensors="pt").input_values
    with torch.no_grad():
        own = model.base_model(x, output_hidden_states=True, output_attentions=True)
    run = run_encoder(model, processor, waves[0])
    torch.testing.assert_close(run.hidden_states, torch.stack(own.hidden_states)[:, 0], atol=1e-4, rtol=1e-4)
    averaged = torch.stack(own.attentions)[:, 0].mean(1)
    torch.testing.assert_close(run.attentions.mean(1), averaged, atol=1e-5, rtol=1e-4)
    if isinstance(model.base_model, T.WavLMModel):  # what the course works around
        assert torch.equal(own.attentions[0][0, 0], own.attentions[0][0, 1]), "transformers: the heads' average"
    assert not torch.allclose(run.attentions[:, 0], run.attentions[:, 1]), "heads of their own"
    reps = extract(model, processor, waves[:1], attentions=True, progress=False)[0]
    np.testing.assert_allclose(reps.attentions, run.attentions.numpy(), atol=1e-5)


def test_a_layer_handle_reproduces_the_encoder_and_value_zeroing_changes_it(family, waves):
    """``encoder_layer(model, l).run(h[l - 1])`` is ``h[l]`` (WavLM: with the position bias of its first layer), and
    zeroing the values of one span changes the layer's output (the hook reached the values the attention used)."""
    name, model, processor = family
    run = run_encoder(model, processor, waves[0])
    n = run.hidden_states.shape[1]
    spans = [(0, n // 3), (n // 3, 2 * n // 3), (2 * n // 3, n)]
    for layer in (1, 2, _layers(name)):
        handle = encoder_layer(model, layer)
        with torch.no_grad():
            again = handle.run(run.hidden_states[layer - 1][None])[0]
        want = run.output if layer == _layers(name) else run.hidden_states[layer]
        torch.testing.assert_close(again, want, atol=1e-4, rtol=1e-4, msg=f"{name}, layer {layer}")
        d = value_zeroing_distances(handle.run, handle.attention, run.hidden_states[layer - 1], spans)
        assert d.shape == (len(spans), n) and np.isfinite(d).all()
        assert (d.max(axis=1) > 1e-6).all(), f"{name}, layer {layer}: zeroing a span's values changed nothing"
        one = value_zeroing_distances(handle.run, handle.attention, run.hidden_states[layer - 1], spans, batched=False)
        np.testing.assert_allclose(d, one, atol=1e-5)


@pytest.fixture(scope="module")
def classifier(family):
    """The family's encoder under an utterance classifier (the attribution notebook's kind of model)."""
    import transformers as T

    name, model, _ = family
    torch.manual_seed(0)
    clf = T.AutoModelForAudioClassification.from_config(family_config(name, "classification"),
                                                        attn_implementation="eager").eval()
    clf.base_model.load_state_dict(model.base_model.state_dict())
    return clf


def test_every_attribution_method_explains_the_classifier(family, classifier, waves):
    name, _, processor = family
    x = processor(waves[0][:8000], sampling_rate=16000, return_tensors="pt").input_values  # 0.5 s

    def f(inputs):
        return classifier(inputs).logits

    target = int(f(x).argmax())
    for method in (saliency, input_x_gradient):
        a = method(f, x, target=target)
        assert a.shape == x.shape and torch.isfinite(a).all() and a.abs().sum() > 0, method.__name__
    ig = integrated_gradients(f, x, target=target, n_steps=8, internal_batch_size=4)
    assert ig.shape == x.shape and torch.isfinite(ig).all()
    assert torch.isfinite(convergence_delta(f, ig, x, target=target)).all()
    mask = torch.arange(x.shape[1])[None] // 1600  # ten chunks of 0.1 s
    ab = feature_ablation(f, x, mask, target=target, perturbations_per_eval=5)
    oc = occlusion(f, x, (1600,), strides=1600, target=target, perturbations_per_eval=5)
    assert ab.shape == oc.shape == x.shape and torch.isfinite(ab).all() and torch.isfinite(oc).all()
    features, head = feature_encoder_split(classifier)
    with torch.no_grad():
        torch.testing.assert_close(head(features(x)), f(x), atol=1e-4, rtol=1e-4)


# --------------------------------------------------------------------------
# Whisper


def test_whisper_loads_with_its_published_size_and_30_s_window(whisper):
    name, model, processor = whisper
    hyper = FAMILIES[name].hyper
    assert type(model).__name__ == "WhisperForConditionalGeneration" and not model.training
    assert num_layers(model) == hyper["encoder_layers"] and model.config.d_model == hyper["d_model"]
    assert model.config.max_source_positions == 1500 and processor.feature_extractor.chunk_length == 30
    assert len(processor.tokenizer) == hyper["vocab_size"] == model.config.vocab_size


def test_whisper_extraction_crops_the_window_to_the_utterance(whisper, waves):
    name, model, processor = whisper
    reps = extract(model, processor, waves, progress=False)
    single = extract(model, processor, waves, batch_size=1, progress=False)
    for w, r, s in zip(waves, reps, single):
        assert r.hidden_states.shape == (_layers(name) + 1, -(-len(w) // 320), model.config.d_model)
        assert np.isfinite(r.hidden_states).all()
        np.testing.assert_allclose(r.hidden_states, s.hidden_states, atol=1e-4, rtol=1e-4)


def test_the_decoder_lens_reads_the_encoder_cut_after_each_layer_and_generates_like_the_model(whisper, waves):
    name, model, processor = whisper
    feats = processor.feature_extractor(waves[:1], sampling_rate=16000, return_tensors="pt").input_features
    with torch.no_grad():
        states = encoder_lens_states(model, feats)
        for layer in (0, 1, _layers(name) - 1, _layers(name)):  # a 30 s window per cut: the ends of the stack
            with _cut(model, layer) as cut_model:  # the final norm right after `layer` layers
                cut = cut_model.get_encoder()(feats).last_hidden_state
            torch.testing.assert_close(states[layer], cut, atol=1e-4, rtol=1e-4, msg=f"{name}, layer {layer}")
        own = processor.batch_decode(model.generate(feats, max_new_tokens=4), skip_special_tokens=True)
    lens = decoder_lens(model, processor, waves[:1], layers=[0, _layers(name)], max_new_tokens=4)
    assert lens.layers == [0, _layers(name)] and lens.hypotheses[-1] == [t.strip() for t in own]


def test_whisper_context_mixing_in_the_encoder_and_the_decoder(whisper, waves):
    name, model, processor = whisper
    run = run_encoder(model, processor, waves[0])
    L, window = _layers(name), model.config.max_source_positions
    assert run.attentions.shape == (L, model.config.encoder_attention_heads, window, window)
    assert run.n_frames == -(-len(waves[0]) // 320)
    rollout = attention_rollout(run.attentions[:, :, :run.n_frames, :run.n_frames])
    assert rollout.shape == (L, run.n_frames, run.n_frames)
    spans = [(0, run.n_frames // 2), (run.n_frames // 2, run.n_frames)]
    handle = encoder_layer(model, L)
    with torch.no_grad():
        torch.testing.assert_close(handle.run(run.hidden_states[L - 1][None])[0], run.output, atol=1e-4, rtol=1e-4)
    d = value_zeroing_distances(handle.run, handle.attention, run.hidden_states[L - 1], spans)
    assert (d.max(axis=1) > 1e-6).all()
    # the decoder's cross-attention to the encoder output, on a short prompt
    ids = torch.tensor([[model.config.decoder_start_token_id, 400, 500, 600]])
    with torch.no_grad():
        dec = model.model.decoder(ids, encoder_hidden_states=run.output[None], output_hidden_states=True)
    cross = decoder_layer(model, 1, run.output)
    with torch.no_grad():
        torch.testing.assert_close(cross.run(dec.hidden_states[0]), dec.hidden_states[1], atol=1e-4, rtol=1e-4)
    assert final_layer_norm(model) is not None


# --------------------------------------------------------------------------
# The notebooks' MODEL cells


def test_the_model_cells_name_only_architectures_this_suite_checks():
    """A hub id a notebook's MODEL cell suggests is one whose architecture is built and checked here."""
    import re

    from course.grading.layout import assignment_ids, source_notebook
    from course.grading.notebooks import read_notebook

    course = Path(__file__).resolve().parents[1] / "autograder"
    checked = {f.hub_id for f in FAMILIES.values()} | {i for f in FAMILIES.values() for i in f.also}
    named = {}
    for a in assignment_ids(course):
        if a == "00_orientation":  # the tour of the shipped model: no MODEL line (the README says so)
            continue
        cells = [c for c in read_notebook(source_notebook(course, a)).cells
                 if c.cell_type == "code" and re.search(r"^[A-Z0-9_]*MODEL = ", c.source, re.M)]
        assert cells, f"{a} has no MODEL cell"
        ids = set(re.findall(r'"([\w.-]+/[\w.-]+)"', cells[0].source))
        assert ids, f"{a}: its MODEL cell names no hub id it was checked with"
        named[a] = ids - checked
    assert not any(named.values()), f"hub ids no family of speech_course_tools.families checks: {named}"


#: Notebooks run end to end on a saved real architecture: the variable of the MODEL line each switches, the family
#: it switches to (random weights prove the path, not a finding) and what the notebook then prints about its data: a
#: notebook picks fewer utterances by itself when its model is not a shipped one.
SWITCHED = {
    "02_probing": ("MODEL", "wav2vec2-base", "48 utterances by 20 training speakers, 24 by 12 held-out speakers"),
    "03_rsa_cka": ("MODEL", "wav2vec2-base", "36 utterances of 12 held-out speakers"),
    "05_abx": ("MODEL", "wav2vec2-base", "36 utterances,"),
    "06_context_mixing": ("ENCODER_MODEL", "wav2vec2-base",
                          "24 utterances of 24 different sentences by 12 held-out speakers"),
    "08_outlook": ("MODEL", "whisper-base", "60 training sentences (20 speakers); 24 held-out sentences"),
}


#: Layers of the copies the notebooks run on: the published architectures with 4 of wav2vec2-base's 12 layers and 2
#: of Whisper-base's 6 + 6 keep each notebook within a few minutes on 2 cores. At full size (run 2026-12-07) 02 ran in
#: 222 s with a kernel peak of 2.67 GB, 03 in 96 s at 2.28 GB (docs/models.md, "What to expect on a real model").
E2E_LAYERS = {"wav2vec2-base": {"num_hidden_layers": 4}, "whisper-base": {"encoder_layers": 2, "decoder_layers": 2}}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """The families of :data:`SWITCHED` with random weights, saved like downloaded hub models (:data:`E2E_LAYERS`),
    each made when first asked for: ``saved(family) -> path``."""
    paths = {}

    def get(family: str) -> Path:
        if family not in paths:
            paths[family] = save_family(family, tmp_path_factory.mktemp("e2e") / f"{family}-random",
                                        **E2E_LAYERS[family])
        return paths[family]

    return get


def switched(a: str, path: Path):  # noqa: ANN201
    """The reference solution of ``a`` with its outputs cleared and its MODEL line (:data:`SWITCHED`) naming ``path``."""
    from course.grading.notebooks import read_notebook

    nb = read_notebook(Path(__file__).resolve().parents[1] / "solutions" / f"{a}.ipynb")
    done = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs, cell.execution_count = [], None
        name = SWITCHED[a][0]
        line = f"{name} = {str(path)!r}"
        new, n = re.subn(rf'^{name} = "tiny-[\w-]+".*$', line, cell.source, flags=re.M)
        if n:
            cell.source = new
            done.add(a)
    assert done == {a}, f"{a}: the MODEL line was not found"
    return nb


#: The notebooks run switched (about 105 s on 2 cores), with COURSE_TEST_LARGE_MODELS=1 like the largest families:
#: the CI run's 45 minutes could not spare them. With COURSE_TEST_LARGE_MODELS=2, all of SWITCHED (2026-12-07: 02 in
#: 153 s, 03 in 55 s, 05 in 138 s, 06 in 93 s, two at a time; 08 in 189 s alone, kernel peak 2.21 GB).
E2E = ("03_rsa_cka", "06_context_mixing")


@pytest.mark.slow
@LARGE
def test_two_notebooks_run_end_to_end_on_a_saved_real_architecture(saved):
    """The MODEL switch, proved: notebooks 03 and 06 (all of :data:`SWITCHED`, 08 on Whisper-base, when the large
    checks are asked for with =2) run top to bottom, two at a time, on a saved real architecture (random weights,
    :data:`E2E_LAYERS`) loaded by path as a hub id would be, with the fewer utterances they pick for such a model."""
    from concurrent.futures import ThreadPoolExecutor

    from course.grading.build import execute_measured
    from course.grading.layout import source_notebook

    course = Path(__file__).resolve().parents[1] / "autograder"

    names = list(SWITCHED) if os.environ.get("COURSE_TEST_LARGE_MODELS") == "2" else list(E2E)
    # Saved here, one family at a time: two threads asking ``saved`` for the same family would each save it.
    models = {a: saved(SWITCHED[a][1]) for a in names}

    def run(a):
        nb, peak = execute_measured(switched(a, models[a]), source_notebook(course, a).parent, threads=1)
        return nb, peak

    with ThreadPoolExecutor(max_workers=2) as pool:
        ran = dict(zip(names, pool.map(run, names)))
    for a, (nb, peak) in ran.items():
        variable, family, sizes = SWITCHED[a]
        print(f"{a} on saved {family}: kernel peak {peak / 1e6:.2f} GB")
        text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
        layers = next(iter(E2E_LAYERS[family].values()))
        assert re.search(rf"\b{layers} (encoder )?layers", text), f"{a}: the saved model's layers were not reported"
        assert sizes in text, f"{a}: a full-size model should get fewer utterances ({sizes!r})"
