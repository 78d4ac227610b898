"""Every method runs with the model on any device (issue 23): inputs go to the model's device, results come back.

There is no GPU here, so the model runs on another real device that PyTorch ships in every build: the lazy-tensor
device (``torch._lazy`` with its TorchScript backend), which computes on the CPU. It behaves like a GPU where it
matters: an operation that mixes a ``lazy`` tensor with a CPU tensor raises ``RuntimeError``, and ``.numpy()`` of a
``lazy`` tensor raises ``TypeError``. So a method that feeds the model a tensor made on the CPU (processor output,
``torch.tensor``, a mask, a baseline, noise) or calls ``.numpy()`` on a result without ``.cpu()`` fails here as it
would on a GPU; :func:`test_the_device_check_catches_careless_code` proves it on deliberately careless code.

The lazy backend quietly runs on the CPU the operations it cannot compile, mixed inputs included, and crashes on a
few others (a ``LayerNorm`` given a CPU tensor); so :class:`_OneDevice` adds CUDA's rule to every test: a torch call
whose tensors lie on different devices raises (CPU scalars apart, as on CUDA).

Each method also gives the same numbers on both devices: the model on the CPU is the reference.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

from course import attribution as A
from course import context_mixing as cm
from course import decoding, features, lenses
from course.models import load_model, model_device, num_layers, random_twin
from course.textgrid import Interval

RNG = np.random.default_rng(0)
#: Two short utterances of different lengths (0.25 s and 0.2 s): padding and attention masks are exercised.
WAVES = [(0.1 * RNG.standard_normal(n)).astype(np.float32) for n in (4000, 3200)]


@pytest.fixture(scope="module")
def device():
    try:
        import torch._lazy.ts_backend

        torch._lazy.ts_backend.init()
        lazy = torch.zeros(1, device="lazy").device
    except Exception as exc:  # noqa: BLE001 - any failure means the device is missing from this build
        pytest.skip(f"PyTorch's lazy-tensor device is not available: {exc}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # models this small gain nothing from threads, and lose much on a busy machine
    yield lazy
    torch.set_num_threads(threads)


class _OneDevice(TorchFunctionMode):
    """Refuse a torch call whose tensors (of one or more dimensions) lie on different devices, as CUDA does.

    Calls that exist to move data between devices, and indexing (a CPU index into a GPU tensor is allowed), pass.
    """

    MOVES = {"to", "cpu", "cuda", "copy_", "as_tensor", "tensor", "new_tensor", "type_as", "__getitem__",
             "__setitem__", "__get__", "__repr__", "__format__", "__str__", "_has_compatible_shallow_copy_type"}

    def __torch_function__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") not in self.MOVES:
            devices = {t.device for t in tree_flatten((args, kwargs))[0] if torch.is_tensor(t) and t.dim() > 0}
            if len(devices) > 1:
                raise RuntimeError(f"{getattr(func, '__name__', func)} mixes tensors on {sorted(map(str, devices))}.")
        return func(*args, **kwargs)


@pytest.fixture(autouse=True)
def _one_device():
    with _OneDevice():
        yield


@pytest.fixture(scope="module")
def models(device):
    """``models(name)``: the shipped model on the CPU, a copy on ``device``, and the processor."""
    cache = {}

    def get(name: str):
        if name not in cache:
            model, processor = load_model(name)
            if name == "tiny-whisper":
                model.generation_config.max_new_tokens = 3  # each new length is a new graph on the lazy device
            cache[name] = (model, copy.deepcopy(model).to(device), processor)
        return cache[name]

    return get


class _Unwrapping:
    """A processor whose ``batch_decode`` unwraps token ids before decoding.

    Whisper's ``generate`` moves its sequences to the CPU itself; the lazy backend returns such a copy of a view as a
    functional wrapper without storage, which the tokenizer cannot read (a quirk of the simulated device, not of the
    code tested). The ids must be on the CPU already.
    """

    def __init__(self, processor) -> None:  # noqa: ANN001
        self._processor = processor

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._processor, name)

    def __call__(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN204
        return self._processor(*args, **kwargs)

    def batch_decode(self, ids, **kwargs):  # noqa: ANN001, ANN003, ANN201
        assert ids.device.type == "cpu", "token ids go back to the CPU before decoding"
        if torch._is_functional_tensor(ids):
            torch._sync(ids)
            ids = torch._from_functional_tensor(ids)
        return self._processor.batch_decode(ids, **kwargs)


def _close(a, b, atol: float = 1e-4) -> None:  # noqa: ANN001
    np.testing.assert_allclose(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64), atol=atol,
                               rtol=1e-3)


# --------------------------------------------------------------------------
# The check can fail


def _careless_logits(model, processor, wave):  # noqa: ANN001, ANN202
    """Deliberately broken: the processor's output stays on the CPU."""
    inputs = processor(wave, sampling_rate=16000, return_tensors="pt")
    return model(inputs.input_values).logits.detach().cpu().numpy()


def _careless_result(model, processor, wave):  # noqa: ANN001, ANN202
    """Deliberately broken: the logits go to NumPy without coming back to the CPU."""
    inputs = processor(wave, sampling_rate=16000, return_tensors="pt").to(model_device(model))
    return model(inputs.input_values).logits.detach().numpy()


def test_the_device_check_catches_careless_code(models, device, monkeypatch):
    cpu, moved, processor = models("tiny-w2v2-ctc")
    assert model_device(cpu) == torch.device("cpu") and model_device(moved) == device
    assert _careless_logits(cpu, processor, WAVES[0]).shape == _careless_result(cpu, processor, WAVES[0]).shape
    with torch.no_grad():
        with pytest.raises(RuntimeError):
            _careless_logits(moved, processor, WAVES[0])
        with pytest.raises(TypeError, match="numpy"):
            _careless_result(moved, processor, WAVES[0])
    # the course's own functions, with their inputs left on the CPU as before the fix
    for module in (features, decoding, cm):
        monkeypatch.setattr(module, "model_device", lambda model: torch.device("cpu"))
    with pytest.raises(RuntimeError):
        features.extract(moved, processor, WAVES, progress=False)
    with pytest.raises(RuntimeError):
        decoding.transcribe_phones(moved, processor, WAVES)
    with pytest.raises(RuntimeError):
        cm.run_encoder(moved, processor, WAVES[0])


def test_model_device(device):
    assert model_device(torch.nn.ReLU()) == torch.device("cpu"), "no parameters: the CPU"
    assert model_device(torch.nn.BatchNorm1d(2, affine=False).to(device)) == device, "buffers only"


# --------------------------------------------------------------------------
# Feature extraction


@pytest.mark.parametrize("name", ["tiny-w2v2-ctc", "tiny-hubert", "tiny-whisper"])
def test_extract(models, name):
    cpu, moved, processor = models(name)
    waves = WAVES[:1] if name == "tiny-whisper" else WAVES  # Whisper pads every utterance to its whole window
    ours = features.extract(moved, processor, waves, attentions=True, progress=False)
    ref = features.extract(cpu, processor, waves, attentions=True, progress=False)
    for r, e in zip(ours, ref):
        assert isinstance(r.hidden_states, np.ndarray) and r.hidden_states.shape == e.hidden_states.shape
        _close(r.hidden_states, e.hidden_states)
        _close(r.attentions, e.attentions)


# --------------------------------------------------------------------------
# Lenses


@pytest.mark.parametrize("name", ["tiny-w2v2-ctc", "tiny-hubert-ctc"])
def test_ctc_lens_and_twins(models, device, name):
    cpu, moved, processor = models(name)
    reps = features.extract(cpu, processor, WAVES, progress=False)
    assert lenses.last_layer_is_normed(moved) == lenses.last_layer_is_normed(cpu)
    h = reps[0].hidden_states
    _close(lenses.ctc_lens_logits(moved, h), lenses.ctc_lens_logits(cpu, h))
    normed = lenses.normalise_layers(moved, h)
    assert normed.device == torch.device("cpu"), "an array in, a CPU tensor out"
    _close(normed, lenses.normalise_layers(cpu, h))
    assert lenses.normalise_layers(moved, torch.from_numpy(h).to(device)).device == device
    assert lenses.ctc_lens(moved, processor, reps).hypotheses == lenses.ctc_lens(cpu, processor, reps).hypotheses
    for twin in (lenses.random_layers_twin(moved), random_twin(moved, keep_front_end=True)):
        assert model_device(twin) == device
        assert len(lenses.ctc_lens(twin, processor, reps, layers=[0, 1]).hypotheses) == 2


def test_decoder_lens(models, device):
    cpu, moved, processor = models("tiny-whisper")
    assert lenses.last_layer_is_normed(moved) == lenses.last_layer_is_normed(cpu)
    layers = [0, num_layers(cpu)]
    ours = lenses.decoder_lens(moved, _Unwrapping(processor), WAVES[:1], layers=layers, max_new_tokens=3)
    ref = lenses.decoder_lens(cpu, processor, WAVES[:1], layers=layers, max_new_tokens=3)
    assert ours.hypotheses == ref.hypotheses
    feats = processor.feature_extractor(WAVES[:1], sampling_rate=16000, return_tensors="pt").input_features
    states = lenses.encoder_lens_states(moved, feats)
    assert {s.device for s in states} == {torch.device("cpu")}, "returned where the features were"
    _close(states[-1], lenses.encoder_lens_states(cpu, feats)[-1])
    assert lenses.encoder_lens_states(moved, feats.to(device))[0].device == device


# --------------------------------------------------------------------------
# Context mixing: attention, rollout, value zeroing


@pytest.mark.parametrize("name", ["tiny-w2v2-ctc", "tiny-whisper"])
def test_context_mixing(models, name):
    cpu, moved, processor = models(name)
    run, ref = cm.run_encoder(moved, processor, WAVES[0]), cm.run_encoder(cpu, processor, WAVES[0])
    for ours, theirs in zip(run, ref):
        if torch.is_tensor(ours):
            assert ours.device == torch.device("cpu"), "an EncoderRun comes back on the CPU"
        _close(ours, theirs)
    _close(cm.attention_rollout(run.attentions), cm.attention_rollout(ref.attentions))
    spans = [(0, 4), (4, 9), (9, run.n_frames)]
    for layer in (1, num_layers(cpu)):
        handle, cpu_handle = cm.encoder_layer(moved, layer), cm.encoder_layer(cpu, layer)
        with torch.no_grad():
            out = handle.run(run.hidden_states[layer - 1][None])
        assert out.device == torch.device("cpu"), "run returns on the device of its input"
        for batched in (True, False):
            _close(cm.value_zeroing(handle.run, handle.attention, run.hidden_states[layer - 1], spans,
                                    batched=batched),
                   cm.value_zeroing(cpu_handle.run, cpu_handle.attention, ref.hidden_states[layer - 1], spans,
                                    batched=batched))
    # a bare layer (not a LayerHandle, which moves its input itself) is given the hidden states on its device
    bare = functools.partial(cm.encoder_layer(moved, 1).module, attention_mask=None)
    cpu_bare = functools.partial(cm.encoder_layer(cpu, 1).module, attention_mask=None)
    _close(cm.value_zeroing(bare, cm.encoder_layer(moved, 1).attention, run.hidden_states[0].numpy(), spans),
           cm.value_zeroing(cpu_bare, cm.encoder_layer(cpu, 1).attention, ref.hidden_states[0].numpy(), spans))
    if name != "tiny-whisper":
        return
    ids = torch.tensor([[cpu.config.decoder_start_token_id, 5, 6]])
    with torch.no_grad():
        dec = torch.stack(cpu(encoder_outputs=(ref.output[None],), decoder_input_ids=ids,
                              output_hidden_states=True).decoder_hidden_states)[:, 0]
    positions = [(t, t + 1) for t in range(ids.shape[1])]
    for layer in (1, len(dec) - 1):
        handle, cpu_handle = cm.decoder_layer(moved, layer, run.output), cm.decoder_layer(cpu, layer, ref.output)
        for attention in ("attention", "cross_attention"):
            sources = positions if attention == "attention" else spans
            _close(cm.value_zeroing(handle.run, getattr(handle, attention), dec[layer - 1], sources, positions),
                   cm.value_zeroing(cpu_handle.run, getattr(cpu_handle, attention), dec[layer - 1], sources,
                                    positions))


# --------------------------------------------------------------------------
# Attribution


def test_attribution(models, device):
    cpu, moved, _ = models("tiny-w2v2-intent")

    def f(x):  # noqa: ANN001, ANN202
        return moved(x).logits

    def f_cpu(x):  # noqa: ANN001, ANN202
        return cpu(x).logits

    x_cpu = torch.from_numpy(WAVES[0])[None]
    x = x_cpu.to(device)
    mask = A.chunk_mask(x.shape[1], 1000)  # made on the CPU: every method must move it
    words = [Interval(0.0, 0.1, "a"), Interval(0.1, 0.25, "b")]
    base = torch.zeros_like(x_cpu)  # a baseline on the CPU, too
    for method, kwargs in [(A.saliency, {}), (A.input_x_gradient, {}),
                           (A.integrated_gradients, {"n_steps": 3, "baselines": base, "internal_batch_size": 2}),
                           (A.feature_ablation, {"feature_mask": mask, "perturbations_per_eval": 5}),
                           (A.occlusion, {"sliding_window_shapes": (1000,), "strides": 1000,
                                          "perturbations_per_eval": 5})]:
        ours = method(f, x, target=0, **kwargs)
        assert ours.device == device, method.__name__
        _close(ours.cpu(), method(f_cpu, x_cpu, target=0, **kwargs), atol=1e-3)
    _, delta = A.integrated_gradients(f, x, target=0, n_steps=2, return_convergence_delta=True)
    assert delta.device == device
    _close(A.word_ablation(f, x, words, target=0), A.word_ablation(f_cpu, x_cpu, words, target=0))
    scores = A.pool_features(A.saliency(f, x, target=0), mask)
    assert A.rank_correlation(A.saliency(f, x, target=0), A.saliency(f_cpu, x_cpu, target=0)) > 0.99
    for metric in (A.comprehensiveness, A.sufficiency, A.deletion_curve, A.insertion_curve):
        kwargs = {"fractions": (0.2, 0.6)} if metric in (A.comprehensiveness, A.sufficiency) else {}
        _close(metric(f, x, scores, mask, 0, **kwargs), metric(f_cpu, x_cpu, scores, mask, 0, **kwargs))
    ours = A.perturbation_curves(f, x, {"saliency": scores, "reversed": -scores}, mask, 0, fractions=(0.0, 0.5))
    ref = A.perturbation_curves(f_cpu, x_cpu, {"saliency": scores, "reversed": -scores}, mask, 0,
                                fractions=(0.0, 0.5))
    for name in ours:
        _close(ours[name], ref[name])
    feats, head = A.feature_encoder_split(moved)
    sal = A.saliency(head, feats(x).detach(), target=0)
    assert sal.device == device


# --------------------------------------------------------------------------
# Decoding


def test_decoding(models):
    cpu, moved, processor = models("tiny-w2v2-ctc")
    assert decoding.transcribe_phones(moved, processor, WAVES) == decoding.transcribe_phones(cpu, processor, WAVES)
    cpu, moved, processor = models("tiny-w2v2-intent")
    assert decoding.classify(moved, processor, WAVES) == decoding.classify(cpu, processor, WAVES)
    cpu, moved, processor = models("tiny-whisper")
    assert (decoding.transcribe_text(moved, _Unwrapping(processor), WAVES[:1])
            == decoding.transcribe_text(cpu, processor, WAVES[:1]))
