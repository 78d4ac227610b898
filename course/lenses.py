"""Lenses: decode intermediate layers with the model's own output machinery.

* **CTC lens**: apply a CTC model's own head (``lm_head``) to every layer's
  hidden states, decode greedily and score each layer (phone or character
  error rate). Like the logit lens of language models (nostalgebraist 2020),
  it asks how early the model's final answer can be read off.
* **Decoder lens** (Langedijk et al. 2024, "DecoderLens: layerwise
  interpretation of encoder-decoder transformers", NAACL Findings): let an
  encoder-decoder model's decoder cross-attend to encoder layer ``l`` instead
  of the last one, generate as usual, and score each layer (WER).
* **The experiment** (:func:`lens_profile`): every held-out speaker's
  error rate of the CTC lens at every layer, for a model and for a control
  such as :func:`random_layers_twin`, so that intervals and tests can be
  taken over speakers.

Layer-norm placement decides what "layer l's output" means to the head:

* **post-LN** models (wav2vec2-base, ``do_stable_layer_norm=False``) normalise
  inside every layer: every hidden state is already in the head's input
  space, and nothing is applied;
* **pre-LN** models (wav2vec 2.0 "stable layer norm" such as the shipped
  ``tiny-w2v2-ctc``, HuBERT-large, Whisper) leave the residual stream
  un-normalised and apply the encoder's final ``layer_norm`` once, after the
  last layer. The lens applies that norm to ``hidden_states[l]`` for
  ``l < L``, and to the last one **only if it lacks it**.

Whether ``hidden_states[L]`` already includes the final norm depends on the
model class *and the transformers version*: in transformers 5 the Whisper
encoder returns the normalised last state, but Wav2Vec2/HuBERT/WavLM return
the last layer's output *before* the final norm (their output recorder does
not tie the last hidden state). :func:`last_layer_is_normed` therefore checks
it on the model with one short forward pass instead of assuming it; the test
of a correct lens is that at the last layer it reproduces the model's own
logits exactly, and at layer ``l`` the logits of the model cut after ``l``
layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Hashable, Sequence

import numpy as np
import pandas as pd
import torch

from course.audio import SAMPLE_RATE
from course.features import Representation, _waveforms
from course.metrics import edit_distance, error_rate
from course.models import encoder, is_whisper, model_device, random_twin


@dataclass
class LensResult:
    """Per-layer transcriptions (and error rates) of a lens.

    Attributes
    ----------
    layers : list of int
        Hidden-state indices (0 = input of the first transformer layer,
        ``L`` = last layer).
    hypotheses : list
        ``hypotheses[k][u]``: utterance ``u`` decoded from ``layers[k]``; a
        list of tokens (CTC lens) or a string (decoder lens).
    error_rates : np.ndarray or None
        Error rate per layer when references were given.
    """

    layers: list[int]
    hypotheses: list
    error_rates: np.ndarray | None


# --------------------------------------------------------------------------
# Layer norms


#: wav2vec 2.0-style model types without a pre-LN variant, whose configurations have no ``do_stable_layer_norm``.
POST_LN_ONLY = ("data2vec-audio",)


def is_pre_ln(model) -> bool:  # noqa: ANN001
    """Whether the (encoder of the) model is a pre-LN transformer.

    Whisper is pre-LN by design; wav2vec 2.0-style models say so in
    ``config.do_stable_layer_norm``, except data2vec-audio, which is post-LN
    only (:data:`POST_LN_ONLY`). Other architectures raise, rather than
    guess.
    """
    if is_whisper(model):
        return True
    if getattr(model.config, "model_type", "") in POST_LN_ONLY:
        return False
    flag = getattr(model.config, "do_stable_layer_norm", None)
    if flag is None:
        raise ValueError(f"Cannot tell where {type(model).__name__} puts its layer norms "
                         "(no config.do_stable_layer_norm); lenses support wav2vec 2.0-style models and Whisper.")
    return bool(flag)


def final_layer_norm(model) -> torch.nn.Module | None:  # noqa: ANN001
    """The encoder's final layer norm of a pre-LN model; None for a post-LN model."""
    return encoder(model).layer_norm if is_pre_ln(model) else None


def _encoder_forward(model, seed: int = 0):  # noqa: ANN001, ANN202
    """Hidden states and last_hidden_state of the encoder on a short random input (no global RNG touched)."""
    gen = torch.Generator().manual_seed(seed)  # drawn on the CPU (the same noise on every device), then moved
    if is_whisper(model):
        cfg = model.config
        feats = torch.randn(1, cfg.num_mel_bins, 2 * cfg.max_source_positions, generator=gen)
        return model.get_encoder()(feats.to(model_device(model)), output_hidden_states=True)
    wave = torch.randn(1, SAMPLE_RATE // 2, generator=gen)
    return model.base_model(wave.to(model_device(model)), output_hidden_states=True)


@torch.no_grad()
def last_layer_is_normed(model) -> bool:  # noqa: ANN001
    """Whether ``output_hidden_states[-1]`` of this model already includes the final layer norm.

    Always True for post-LN models (there is no final norm to add). For
    pre-LN models one forward pass on 0.5 s of noise compares
    ``hidden_states[-1]`` with ``last_hidden_state``.

    Raises
    ------
    RuntimeError
        If ``hidden_states[-1]`` is neither the encoder output nor the
        encoder output before its final norm (an unknown convention).
    """
    norm = final_layer_norm(model)
    if norm is None:
        return True
    out = _encoder_forward(model)
    last, final = out.hidden_states[-1], out.last_hidden_state
    if torch.allclose(last, final, rtol=1e-4, atol=1e-5):
        return True
    if torch.allclose(norm(last), final, rtol=1e-4, atol=1e-5):
        return False
    raise RuntimeError(f"{type(model).__name__}: hidden_states[-1] is neither the encoder output nor its input to "
                       "the final layer norm; cannot place the norm for a lens.")


@torch.no_grad()
def normalise_layers(model, hidden_states, last_normed: bool | None = None) -> torch.Tensor:  # noqa: ANN001
    """Bring every layer's hidden states into the space the output head reads.

    Parameters
    ----------
    model
        The model the hidden states come from.
    hidden_states : array or tensor, shape (n_layers + 1, ..., dim)
        All layers, e.g. ``Representation.hidden_states``.
    last_normed : bool, optional
        Whether the last entry already includes the final norm (default:
        :func:`last_layer_is_normed`).

    Returns
    -------
    torch.Tensor, float32
        Pre-LN: the encoder's final norm applied to layers ``0 .. L-1``, and to
        ``L`` only if ``last_normed`` is False. Post-LN: unchanged. Computed on
        the model's device, returned on the device of ``hidden_states`` (the CPU
        for an array).
    """
    h = torch.as_tensor(hidden_states if torch.is_tensor(hidden_states) else np.asarray(hidden_states)).float()
    norm = final_layer_norm(model)
    if norm is None:
        return h
    if last_normed is None:
        last_normed = last_layer_is_normed(model)
    stop = len(h) - 1 if last_normed else len(h)
    x = h.to(model_device(model))
    return torch.cat([norm(x[:stop]), x[stop:]]).to(h.device)


# --------------------------------------------------------------------------
# CTC lens


def ctc_greedy_decode(ids: Sequence[int], blank_id: int) -> list[int]:
    """Greedy (best-path) CTC decoding: merge repeated ids, then drop blanks.

    A blank between two equal ids keeps both: ``[a, a, _, a] -> [a, a]``.
    """
    out: list[int] = []
    prev = None
    for i in (int(v) for v in ids):
        if i != prev and i != blank_id:
            out.append(i)
        prev = i
    return out


@torch.no_grad()
def ctc_lens_logits(model, hidden_states, last_normed: bool | None = None) -> np.ndarray:  # noqa: ANN001
    """The CTC head applied to every layer: shape (n_layers + 1, n_frames, vocab).

    ``model.lm_head(normalise_layers(model, hidden_states))``; at the last
    layer this equals ``model(...).logits``.
    """
    if not hasattr(model, "lm_head"):
        raise ValueError(f"{type(model).__name__} has no CTC head (lm_head): the CTC lens needs a ...ForCTC model.")
    if model.training:
        raise ValueError("The model is in training mode (dropout on): call model.eval() first.")
    shape, dim = tuple(np.shape(hidden_states)), model.lm_head.in_features
    if len(shape) != 3 or shape[-1] != dim:
        raise ValueError(f"hidden_states must have shape (n_layers + 1, n_frames, {dim}), got {shape}.")
    h = torch.as_tensor(hidden_states if torch.is_tensor(hidden_states) else np.asarray(hidden_states))
    h = h.float().to(model_device(model))
    return model.lm_head(normalise_layers(model, h, last_normed)).cpu().numpy()


def _check_layers(layers: Sequence[int] | None, n_states: int) -> list[int]:
    if layers is None:
        return list(range(n_states))
    out = [int(l_) for l_ in layers]
    bad = [l_ for l_ in out if not 0 <= l_ < n_states]
    if bad:
        raise ValueError(f"Layers {bad} out of range: the model has hidden states 0..{n_states - 1}.")
    return out


def _scores(references, hypotheses: list, tokenize: Callable) -> np.ndarray | None:  # noqa: ANN001
    if references is None:
        return None
    if len(references) != len(hypotheses[0]):
        raise ValueError(f"{len(references)} references but {len(hypotheses[0])} utterances.")
    refs = [tokenize(r) for r in references]
    return np.array([error_rate(refs, [tokenize(h) for h in hyps]) for hyps in hypotheses])


def ctc_lens(
    model,  # noqa: ANN001
    processor,  # noqa: ANN001
    representations: Sequence[Representation | np.ndarray],
    references: Sequence[Sequence[str]] | None = None,
    layers: Sequence[int] | None = None,
) -> LensResult:
    """Greedy CTC transcription from every layer, scored against references.

    Parameters
    ----------
    model, processor
        A CTC model (e.g. ``load_model("tiny-w2v2-ctc")``) and its processor,
        whose tokenizer turns ids into tokens.
    representations : sequence of Representation or array
        Hidden states of each utterance, shape (n_layers + 1, n_frames, dim),
        from :func:`course.features.extract` with the same model.
    references : sequence of token sequences, optional
        E.g. ``[[p.label for p in utt.phones] for utt in utterances]``; then
        ``error_rates`` holds the corpus-level token error rate per layer
        (:func:`course.metrics.error_rate`: PER for the phone model, CER for
        a character model once you drop its word delimiter).
    layers : sequence of int, optional
        Which hidden states to decode (default: all).

    Returns
    -------
    LensResult
        ``hypotheses[k][u]`` is a list of tokens, spelled as the tokenizer
        spells them (special tokens such as ``<unk>`` kept, blanks removed).
    """
    if len(representations) == 0:
        raise ValueError("No representations given.")
    blank = model.config.pad_token_id
    if blank is None:
        raise ValueError("model.config.pad_token_id (the CTC blank) is not set.")
    tokenizer = getattr(processor, "tokenizer", processor)
    last_normed = last_layer_is_normed(model)
    states = [r.hidden_states if isinstance(r, Representation) else r for r in representations]
    chosen = _check_layers(layers, len(states[0]))
    hyps: list[list[list[str]]] = [[] for _ in chosen]
    for h in states:
        if len(h) != len(states[0]):
            raise ValueError("Representations with different numbers of layers: use one model for all.")
        ids = ctc_lens_logits(model, h, last_normed)[chosen].argmax(-1)
        for k, row in enumerate(ids):
            hyps[k].append(tokenizer.convert_ids_to_tokens(ctc_greedy_decode(row, blank)))
    return LensResult(chosen, hyps, _scores(references, hyps, list))


# --------------------------------------------------------------------------
# Control


def random_layers_twin(model, seed: int = 0) -> torch.nn.Module:  # noqa: ANN001
    """The model with only its encoder's Transformer layers randomly initialised: a lens control that can lose.

    Everything a lens relies on besides those layers stays trained: the convolutional front end, the positional
    embedding, the encoder's final layer norm and the reader (the CTC head, or Whisper's whole decoder). Layer 0 of
    the twin is therefore exactly layer 0 of the model, and the lens reads layer ``l > 0`` of the twin with the
    trained head. What the lens reads there beyond what it reads at layer 0 comes from random layers passing the
    residual stream on; the gap to the trained model at the same layer is what the trained layers ``1 .. l`` add.
    (A fully random twin, head included, transcribes nothing at any layer and so rules out little.)

    Parameters
    ----------
    model
        A wav2vec 2.0-style CTC model or a Whisper-family encoder-decoder (weights under ``encoder.layers.``).
    seed : int
        Seed of the random layers (:func:`course.models.random_twin` draws them).

    Returns
    -------
    torch.nn.Module
        A new model in eval mode; ``model`` is not modified.

    Raises
    ------
    ValueError
        If the model has no parameters under ``encoder.layers.`` (nothing to randomise).
    """

    trained = model.state_dict()
    layers = {k for k in trained if ".encoder.layers." in f".{k}"}
    if not layers:
        raise ValueError(f"{type(model).__name__} has no encoder Transformer layers (no parameter under "
                         "'encoder.layers.'): random_layers_twin supports wav2vec 2.0-style models and Whisper.")
    twin = random_twin(model, seed=seed)
    twin.load_state_dict({k: v for k, v in trained.items() if k not in layers}, strict=False)
    return twin.eval()


def lens_profile(
    paths: Sequence[np.ndarray],
    control_paths: Sequence[np.ndarray],
    references: Sequence[Sequence[str]],
    speakers: Sequence[Hashable],
    heldout_speakers: Sequence[Hashable],
    blank_id: int,
    tokens_of: Callable[[list[int]], list[str]],
) -> pd.DataFrame:
    """Layer by layer, every held-out speaker's greedy CTC lens error rate for a model and for its control.

    Every utterance of a speaker in ``heldout_speakers`` is decoded greedily (:func:`ctc_greedy_decode`) from the
    best path of every layer, for the model and for the control, and compared with its reference
    (:func:`course.metrics.edit_distance`). A speaker's error rate at a layer is the total number of edits of its
    utterances over their total number of reference tokens: a corpus-level rate per speaker, neither a mean of
    per-utterance rates nor a rate pooled over speakers, so that an interval or a test over speakers can be put on
    the profile. Utterances of other speakers (voices the model was trained on) are not scored. This is the
    experiment behind notebook 04's main figure.

    Parameters
    ----------
    paths : sequence of array-like, shape (n_layers, n_frames)
        For every utterance, the model's best path at every layer: the argmax token id of each frame of the lens
        logits (:func:`ctc_lens_logits`).
    control_paths : sequence of array-like, shape (n_layers, n_frames)
        The same for the control (e.g. :func:`random_layers_twin` read through its head), utterance by utterance
        and with as many layers.
    references : sequence of sequences of str
        The reference tokens of every utterance (the phones, for a phone recogniser).
    speakers : sequence
        The speaker of every utterance.
    heldout_speakers : sequence
        The speakers whose utterances are scored (never heard in training).
    blank_id : int
        The id of the CTC blank.
    tokens_of : callable
        Turns a list of ids into the list of their tokens (a tokenizer's ``convert_ids_to_tokens``).

    Returns
    -------
    pandas.DataFrame
        One row per layer and held-out speaker with at least one utterance, sorted by layer, then speaker; columns
        ``layer`` (int), ``speaker``, ``model`` and ``control`` (error rates, 0 or more: insertions count).

    Raises
    ------
    ValueError
        Inputs of different lengths; a path that is not 2-D, or layers that differ between utterances or between
        the model and the control; no utterance of a held-out speaker; a held-out speaker without reference tokens.
    """

    n = len(paths)
    if not len(control_paths) == len(references) == len(speakers) == n:
        raise ValueError(f"One entry per utterance: {n} paths, {len(control_paths)} control paths, "
                         f"{len(references)} references, {len(speakers)} speakers.")
    model_paths = [np.asarray(p) for p in paths]
    ctrl_paths = [np.asarray(p) for p in control_paths]
    n_layers = model_paths[0].shape[0] if n else 0
    for k, (p, c) in enumerate(zip(model_paths, ctrl_paths)):
        if p.ndim != 2 or c.ndim != 2 or p.shape[0] != n_layers or c.shape[0] != n_layers:
            raise ValueError(f"Utterance {k}: paths must have shape (n_layers, n_frames), {n_layers} layers for the "
                             f"model and the control; got {p.shape} and {c.shape}.")
    spk = np.asarray(speakers)
    scored = np.flatnonzero(np.isin(spk, list(heldout_speakers)))
    if not len(scored):
        raise ValueError(f"No utterance of a held-out speaker {list(heldout_speakers)[:5]}.")
    length = np.array([len(references[k]) for k in scored])
    edits = np.zeros((2, n_layers, len(scored)))
    for j, k in enumerate(scored):
        for m, path in enumerate((model_paths[k], ctrl_paths[k])):
            for layer in range(n_layers):
                hyp = tokens_of(ctc_greedy_decode(path[layer], blank_id))
                edits[m, layer, j] = edit_distance(list(references[k]), list(hyp))
    names, index = np.unique(spk[scored], return_inverse=True)
    tokens = np.bincount(index, length, minlength=len(names))
    if np.any(tokens == 0):
        raise ValueError(f"Held-out speakers without reference tokens: {list(names[tokens == 0])}.")
    rates = [[np.bincount(index, edits[m, layer], minlength=len(names)) / tokens for layer in range(n_layers)]
             for m in range(2)]
    rows = [(layer, s, float(rates[0][layer][i]), float(rates[1][layer][i]))
            for layer in range(n_layers) for i, s in enumerate(names.tolist())]
    return pd.DataFrame(rows, columns=["layer", "speaker", "model", "control"])


# --------------------------------------------------------------------------
# Decoder lens


@torch.no_grad()
def encoder_lens_states(model, input_features: torch.Tensor) -> list[torch.Tensor]:  # noqa: ANN001
    """What the decoder lens lets the decoder attend to: each encoder layer's output, normalised.

    Parameters
    ----------
    model
        A Whisper-family encoder-decoder.
    input_features : tensor, shape (batch, n_mels, n_frames)
        From the model's feature extractor (on any device: they are moved to the model's).

    Returns
    -------
    list of tensors, shape (batch, n_positions, d_model), one per hidden state
        The encoder's final norm applied to layers ``0 .. L-1`` (and to ``L``
        only if the encoder returns it un-normalised, which
        :func:`last_layer_is_normed` rules for this transformers version).
        On the device of ``input_features``.
    """
    if not is_whisper(model):
        raise ValueError(f"The decoder lens needs a Whisper-family encoder-decoder, got {type(model).__name__}.")
    out = model.get_encoder()(input_features.to(model_device(model)), output_hidden_states=True)
    norm = final_layer_norm(model)
    states = list(out.hidden_states)
    last_normed = torch.allclose(states[-1], out.last_hidden_state, rtol=1e-4, atol=1e-5)
    stop = len(states) - 1 if last_normed else len(states)
    return [(norm(h) if i < stop else h).to(input_features.device) for i, h in enumerate(states)]


@torch.no_grad()
def decoder_lens(
    model,  # noqa: ANN001
    processor,  # noqa: ANN001
    audio: Sequence,
    references: Sequence[str] | None = None,
    layers: Sequence[int] | None = None,
    max_new_tokens: int = 40,
    batch_size: int = 16,
    normalise: Callable[[str], str] | None = None,
) -> LensResult:
    """Transcribe with the decoder attending to each encoder layer in turn; WER per layer.

    Parameters
    ----------
    model, processor
        A Whisper-family model (e.g. ``load_model("tiny-whisper")``) and its
        processor.
    audio : sequence
        :class:`~course.corpus.Utterance` records or 16 kHz mono arrays.
    references : sequence of str, optional
        Reference transcripts; ``error_rates`` is then the corpus-level WER
        (words split on whitespace) per layer.
    layers : sequence of int, optional
        Encoder hidden states to decode from (default: all, 0 .. L).
    max_new_tokens : int
        Generation length limit.
    batch_size : int
        Utterances per forward pass.
    normalise : callable, optional
        Applied to hypotheses and references before scoring (e.g. lower-casing
        and removing punctuation for real Whisper output).

    Returns
    -------
    LensResult
        ``hypotheses[k][u]`` is a string (special tokens skipped, stripped).
        At the last layer this is exactly ``model.generate(input_features)``.
    """
    from transformers.modeling_outputs import BaseModelOutput  # start-up: transformers takes about 1 s

    if model.training:
        raise ValueError("The model is in training mode (dropout on): call model.eval() first.")
    _, waves = _waveforms(audio)
    if not waves:
        raise ValueError("No audio given.")
    fe = getattr(processor, "feature_extractor", processor)
    chosen: list[int] | None = None
    hyps: list[list[str]] = []
    for start in range(0, len(waves), batch_size):
        feats = fe(waves[start:start + batch_size], sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        states = encoder_lens_states(model, feats.to(model_device(model)))
        if chosen is None:
            chosen = _check_layers(layers, len(states))
            hyps = [[] for _ in chosen]
        for k, layer in enumerate(chosen):
            ids = model.generate(encoder_outputs=BaseModelOutput(last_hidden_state=states[layer]),
                                 max_new_tokens=max_new_tokens).cpu()
            hyps[k].extend(t.strip() for t in processor.batch_decode(ids, skip_special_tokens=True))
    norm = normalise or (lambda s: s)
    return LensResult(chosen or [], hyps, _scores(references, hyps, lambda s: norm(s).split()))
