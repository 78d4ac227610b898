"""Context mixing: how much each position of a speech Transformer draws on each part of its input.

Four measures, all ending in a matrix whose row ``i`` says how much target
``i`` (a frame, a word, a decoder token) mixes in source ``j``:

* **attention weights** of one layer, averaged over heads;
* **attention rollout** (Abnar & Zuidema 2020, "Quantifying attention flow in
  transformers", ACL): add the residual connection as an identity,
  ``Â_l = (1 - r) A_l + r I`` with rows renormalised (``r = 0.5`` in the
  paper), and multiply the layers up, ``R_1 = Â_1``, ``R_l = Â_l R_{l-1}``;
* **value zeroing** (Mohebbi, Zuidema, Chrupała & Alishahi 2023, "Quantifying
  context mixing in transformers", EACL): rerun one layer on its own input
  with the *value vectors* of a source span set to zero in every head (queries
  and keys untouched, so the attention weights do not change), and score how
  much each output position changed, ``d_n = 1 - cos(x~_n, x_n)``; average
  over the target's positions and normalise each row to sum 1;
* **attention norms** (Kobayashi, Kuribayashi, Yokoi & Inui 2020, "Attention
  is not only a weight", EMNLP): the size of what position ``j`` actually adds
  to position ``i``, ``||sum_h alpha^h_ij f^h(x_j)||`` with
  ``f^h(x) = (x W_V^h + b_V^h) W_O^h`` (:func:`attention_norms`): a large weight
  on a small vector adds little.

Speech has no tokens: models emit one vector per 20 ms frame. Frame matrices
are brought to words with the exact word alignments (:func:`word_spans`,
:func:`pool_to_words`).

**Word -> frame convention.** A word ``[start, end)`` (seconds) owns the frames
whose *centre* ``(n + 0.5) * 0.02`` lies inside it: frames
``ceil(start / 0.02 - 0.5)`` up to, not including, ``ceil(end / 0.02 - 0.5)``
(:func:`course.frames.segment_frames`). A span is a half-open frame range
``(first, stop)``: a start exactly on a frame centre owns that frame, an end
exactly on a frame centre does not. Adjacent words never share a frame; a word
shorter than a frame gets the one frame containing its midpoint. Frames owned
by no word (pauses, the silence before and after the speech, the padding of
Whisper's fixed window) belong to no span: pooling leaves them out.

**Layers** (one convention for the course, docs/architecture.md). ``hidden_states[l]``
is layer ``l``: ``l = 0`` is the input of the first Transformer layer, and
Transformer layer ``l`` (1..L) reads ``hidden_states[l - 1]`` and produces
``hidden_states[l]``. A measure "at layer ``l``" is Transformer layer ``l``'s
(value zeroing reruns it on ``hidden_states[l - 1]``); stacks of attention or
rollout matrices, shape ``(L, n, n)``, hold layers 1..L at indices 0..L-1. In a pre-LN model the encoder's final
layer norm belongs to the output of the last layer only (:func:`encoder_layer`
applies it there, so the rerun reproduces the encoder output exactly; see
:mod:`course.lenses` for why no ``hidden_states`` entry of a pre-LN wav2vec 2.0
includes it in transformers 5).
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Sequence

import numpy as np
import pandas as pd
import torch

from course.audio import SAMPLE_RATE, check_waveform
from course.frames import FRAME_SECONDS, segment_frames, starts_after_end
from course.lenses import final_layer_norm
from course.models import encoder as encoder_of
from course.models import is_whisper, model_device, per_head_attention, whisper_audio_frames

Span = tuple[int, int]


# --------------------------------------------------------------------------
# Words and frames


def word_spans(words: Sequence, n_frames: int, frame_seconds: float = FRAME_SECONDS) -> list[Span]:
    """Frame span ``(first, stop)`` (half-open) of each word, by the centre convention of the module docstring.

    Parameters
    ----------
    words : sequence of Interval
        Word segments in seconds (``utt.words``: silences already left out).
    n_frames : int
        Number of real frames of the model output (a span never reaches past it).
    frame_seconds : float
        Frame step.

    Returns
    -------
    list of (int, int)
        ``frames first .. stop - 1`` belong to the word; never empty.

    Raises
    ------
    ValueError
        If a word starts at or after the end of the last frame (it has no frame).
    """
    if n_frames <= 0:
        raise ValueError(f"n_frames must be positive, got {n_frames}.")
    spans = []
    for w in words:
        if starts_after_end(w.start, n_frames, frame_seconds):
            raise ValueError(f"Word {w.label!r} starts at {w.start:.3f} s, after the last of the {n_frames} frames.")
        r = segment_frames(w.start, w.end, n_frames, frame_seconds)
        spans.append((r.start, r.stop))
    return spans


def _check_spans(spans: Sequence[Span], length: int, what: str) -> list[Span]:
    out = []
    if len(spans) == 0:
        raise ValueError(f"Give at least one {what} span.")
    for s in spans:
        try:
            a, b = (int(v) for v in s)
        except (TypeError, ValueError):
            raise ValueError(f"A {what} span must be a pair (first, stop) of frame indices, got {s!r}.") from None
        if not 0 <= a < b <= length:
            raise ValueError(f"{what.capitalize()} span {s!r} must satisfy 0 <= first < stop <= {length} "
                             "(half-open, non-empty, inside the sequence).")
        out.append((a, b))
    return out


def pooling_matrix(spans: Sequence[Span], length: int) -> np.ndarray:
    """Averaging matrix ``P`` of shape ``(len(spans), length)``: ``P[i, n] = 1 / len(span i)`` for ``n`` in span ``i``.

    ``P @ x`` averages the rows of a ``(length, dim)`` array over each span.
    """
    spans = _check_spans(spans, length, "pooling")
    p = np.zeros((len(spans), length))
    for i, (a, b) in enumerate(spans):
        p[i, a:b] = 1.0 / (b - a)
    return p


def pool_to_words(matrix, spans: Sequence[Span], col_spans: Sequence[Span] | None = None) -> np.ndarray:  # noqa: ANN001
    """Average a frame-by-frame matrix over word spans: one value per (target word, source word).

    ``out[i, j] = mean(matrix[a_i:b_i, a_j:b_j])``: the mean over the target
    word's frames (rows) and the source word's frames (columns). Frames in no
    span are left out.

    Parameters
    ----------
    matrix : array or tensor, shape (..., n_rows, n_cols)
        E.g. head-averaged attention (rows: queries/targets, columns:
        keys/sources), a stack of layers, or a rollout.
    spans : sequence of (int, int)
        Half-open frame spans of the target words (rows), e.g. from
        :func:`word_spans`.
    col_spans : sequence of (int, int), optional
        Spans of the source words (columns); default ``spans`` (a square
        matrix of one sequence). Use it for cross-attention (decoder tokens x
        encoder frames), with one-position spans for tokens.

    Returns
    -------
    np.ndarray, float64, shape (..., len(spans), len(col_spans))

    Raises
    ------
    ValueError
        If the matrix has fewer than two dimensions, or a span is empty, reversed or outside the matrix.
    """
    m = np.asarray(matrix.detach().cpu() if torch.is_tensor(matrix) else matrix, dtype=np.float64)
    if m.ndim < 2:
        raise ValueError(f"matrix must have shape (..., n_rows, n_cols), got {m.shape}.")
    rows = pooling_matrix(_check_spans(spans, m.shape[-2], "row"), m.shape[-2])
    cols = pooling_matrix(_check_spans(spans if col_spans is None else col_spans, m.shape[-1], "column"),
                          m.shape[-1])
    return rows @ m @ cols.T


# --------------------------------------------------------------------------
# Attention rollout


def attention_rollout(attentions, residual: float = 0.5) -> np.ndarray:  # noqa: ANN001
    """Attention rollout (Abnar & Zuidema 2020) through a stack of layers.

    ``Â_l = (1 - residual) A_l + residual I``, each row divided by its sum;
    ``R_1 = Â_1`` and ``R_l = Â_l R_{l-1}`` (the later layer on the **left**:
    row ``i`` of ``R_l`` is how much position ``i`` after layer ``l`` draws on
    each input position).

    Parameters
    ----------
    attentions : array or tensor, shape (n_layers, n, n) or (n_layers, n_heads, n, n)
        Attention weights per layer, first layer first (rows: queries). With a
        head axis, heads are averaged first. Rows need not sum to 1 (e.g.
        Whisper rows cropped from the padded window, or attention pooled to
        words): the renormalisation of ``Â`` makes every row a distribution.
    residual : float
        Weight of the identity (the residual connection), in [0, 1]; 0.5 in the
        paper, 0 is plain attention multiplied through the layers.

    Returns
    -------
    np.ndarray, float64, shape (n_layers, n, n)
        ``R_1 ... R_L``; ``[-1]`` is the rollout of the whole stack. Every row
        sums to 1.

    Raises
    ------
    ValueError
        For a wrong shape, negative or non-finite weights, a residual outside
        [0, 1], or a row of ``Â`` that sums to 0 (possible only with
        ``residual=0``).
    """
    a = np.asarray(attentions.detach().cpu() if torch.is_tensor(attentions) else attentions, dtype=np.float64)
    if a.ndim == 4:
        a = a.mean(axis=1)
    if a.ndim != 3 or a.shape[1] != a.shape[2] or a.shape[0] == 0:
        raise ValueError(f"attentions must have shape (n_layers, n, n) or (n_layers, n_heads, n, n), got "
                         f"{np.shape(attentions)}.")
    if not np.all(np.isfinite(a)) or (a < 0).any():
        raise ValueError("attentions must be finite and non-negative.")
    if not 0.0 <= residual <= 1.0:
        raise ValueError(f"residual must be in [0, 1], got {residual}.")
    eye = np.eye(a.shape[1])
    out = np.empty_like(a)
    rollout = eye
    for layer, att in enumerate(a):
        mixed = (1.0 - residual) * att + residual * eye
        sums = mixed.sum(axis=1, keepdims=True)
        if (sums <= 0).any():
            raise ValueError(f"Layer {layer}: a row of the attention (plus residual) sums to 0 and cannot be "
                             "renormalised; use residual > 0.")
        rollout = (mixed / sums) @ rollout
        out[layer] = rollout
    return out


# --------------------------------------------------------------------------
# Value zeroing


def _value_projection(attention) -> torch.nn.Module:  # noqa: ANN001
    proj = getattr(attention, "v_proj", attention)
    if not isinstance(proj, torch.nn.Module):
        raise TypeError(f"attention must be an attention module with a v_proj, or the value projection itself, got "
                        f"{type(attention).__name__}.")
    return proj


def _as_sequence(hidden_states) -> torch.Tensor:  # noqa: ANN001
    x = hidden_states.detach() if torch.is_tensor(hidden_states) else torch.from_numpy(np.asarray(hidden_states))
    x = x.float()
    if x.ndim == 3 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != 2:
        raise ValueError(f"hidden_states must have shape (n_positions, dim) (one sequence), got {tuple(x.shape)}.")
    return x


def _output(result) -> torch.Tensor:  # noqa: ANN001
    """The hidden states a layer returns (older transformers return a tuple, some a ModelOutput)."""
    if isinstance(result, (tuple, list)):
        result = result[0]
    if not torch.is_tensor(result) and hasattr(result, "last_hidden_state"):
        result = result.last_hidden_state
    return result


class _ZeroValues:
    """Forward hook that zeroes, in batch row ``b``, the value vectors at positions ``spans[b]`` (None: none)."""

    def __init__(self, spans: Sequence[Span | None]):
        self.spans = list(spans)

    def __call__(self, module, inputs, output):  # noqa: ANN001, ANN204
        if output.ndim != 3 or output.shape[0] != len(self.spans):
            raise ValueError(f"The value projection returned shape {tuple(output.shape)}; expected "
                             f"({len(self.spans)}, n_positions, dim).")
        keep = torch.ones(output.shape[:2] + (1,), dtype=output.dtype, device=output.device)
        for b, span in enumerate(self.spans):
            if span is not None:
                if span[1] > output.shape[1]:
                    raise ValueError(f"Source span {span} reaches past the {output.shape[1]} positions the "
                                     "attention reads (values).")
                keep[b, span[0]:span[1]] = 0
        return output * keep


def _cosine_distance(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    return (1.0 - torch.nn.functional.cosine_similarity(a.double(), b.double(), dim=-1)).cpu().numpy()


@torch.no_grad()
def _run_zeroed(layer: Callable, proj: torch.nn.Module, x: torch.Tensor, spans: Sequence[Span | None]) -> torch.Tensor:
    handle = proj.register_forward_hook(_ZeroValues(spans))
    try:
        out = _output(layer(x.unsqueeze(0).expand(len(spans), -1, -1).contiguous()))
    finally:
        handle.remove()
    if out.shape[:2] != (len(spans), x.shape[0]):
        raise ValueError(f"layer returned shape {tuple(out.shape)} for an input of shape "
                         f"{(len(spans),) + tuple(x.shape)}: it must map (batch, n, dim) to (batch, n, dim).")
    return out


def value_zeroing_distances(
    layer: Callable,
    attention,  # noqa: ANN001
    hidden_states,  # noqa: ANN001
    source_spans: Sequence[Span],
    batched: bool = True,
    batch_size: int | None = None,
) -> np.ndarray:
    """Cosine distance ``1 - cos(x~_n, x_n)`` of every output position when each source span's values are zeroed.

    Parameters
    ----------
    layer : callable
        Runs one layer: a ``(batch, n, dim)`` tensor in, the layer's output
        ``(batch, n, dim)`` out (a tuple whose first entry is it is accepted),
        with whatever the layer needs (masks, encoder states, a final norm)
        bound in; see :func:`encoder_layer` and :func:`decoder_layer`. It must
        treat batch rows independently.
    attention : torch.nn.Module
        The attention module whose value vectors are zeroed: a module with a
        ``v_proj`` (wav2vec 2.0 / HuBERT / Whisper attention), or the value
        projection itself. Its output, shape ``(batch, n_values, dim)`` with
        all heads side by side, is zeroed at the source positions (bias
        included), so queries, keys and attention weights are unchanged. For
        cross-attention pass the decoder layer's ``encoder_attn``: the spans
        then index encoder frames.
    hidden_states : array or tensor, shape (n, dim)
        The layer's input for one sequence (``hidden_states[l - 1]`` for layer ``l``), on any device: ``layer``
        receives it on the device of ``attention``.
    source_spans : sequence of (int, int)
        Half-open position spans whose values are zeroed, one at a time.
    batched : bool
        True: one forward pass for all spans (the input repeated along the
        batch axis, row 0 unchanged, row ``j + 1`` with span ``j`` zeroed).
        False: one pass per span plus one unchanged pass (the naive loop; same
        result up to float round-off).
    batch_size : int, optional
        With ``batched``, at most this many rows per forward pass (memory).

    Returns
    -------
    np.ndarray, float64, shape (len(source_spans), n)
        Row ``j``: the distance of every output position from its unchanged
        value when span ``j`` is zeroed.
    """
    proj = _value_projection(attention)
    if proj.training:
        raise ValueError("The model is in training mode (dropout on): call model.eval() first.")
    x = _as_sequence(hidden_states).to(model_device(proj))
    spans = [(int(a), int(b)) for a, b in source_spans]
    if not spans:
        raise ValueError("Give at least one source span.")
    for a, b in spans:
        if not 0 <= a < b:
            raise ValueError(f"Source span {(a, b)} must satisfy 0 <= first < stop.")
    if not batched:
        original = _run_zeroed(layer, proj, x, [None])[0]
        return np.stack([_distance_rows(_run_zeroed(layer, proj, x, [s]), original)[0] for s in spans])
    step = len(spans) + 1 if batch_size is None else int(batch_size)
    if step < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}.")
    rows: list[Span | None] = [None, *spans]
    outs = [_run_zeroed(layer, proj, x, rows[i:i + step]) for i in range(0, len(rows), step)]
    out = torch.cat(outs)
    return _distance_rows(out[1:], out[0])


def _distance_rows(zeroed: torch.Tensor, original: torch.Tensor) -> np.ndarray:
    return _cosine_distance(zeroed, original.unsqueeze(0).expand_as(zeroed))


def value_zeroing(
    layer: Callable,
    attention,  # noqa: ANN001
    hidden_states,  # noqa: ANN001
    source_spans: Sequence[Span],
    target_spans: Sequence[Span] | None = None,
    *,
    normalise: bool = True,
    batched: bool = True,
    batch_size: int | None = None,
) -> np.ndarray:
    """Value Zeroing (Mohebbi et al. 2023) of one layer, pooled to words.

    For each source span ``j``: rerun ``layer`` on ``hidden_states`` with the
    value vectors of span ``j`` zeroed in every head, take the cosine distance
    ``d_n = 1 - cos(x~_n, x_n)`` of every output position ``n`` from the
    unchanged output, and average it over each target span ``i``. Then each
    row is divided by its sum.

    Parameters
    ----------
    layer, attention, hidden_states, batched, batch_size
        As in :func:`value_zeroing_distances`.
    source_spans : sequence of (int, int)
        Half-open spans of the sources (columns), in the positions the
        attention's values index (the layer's own frames, or encoder frames
        for cross-attention).
    target_spans : sequence of (int, int), optional
        Half-open spans of the targets (rows), in the layer's output
        positions; default ``source_spans``.
    normalise : bool
        Divide each row by its sum (rows that sum to 0 stay 0).

    Returns
    -------
    np.ndarray, float64, shape (len(target_spans), len(source_spans))
        Row ``i``: the share of target ``i``'s change due to each source.
        In a causal decoder a source at position ``t`` changes only outputs at
        positions ``>= t``.
    """
    x = _as_sequence(hidden_states)
    targets = _check_spans(source_spans if target_spans is None else target_spans, x.shape[0], "target")
    d = value_zeroing_distances(layer, attention, x, source_spans, batched=batched, batch_size=batch_size)
    scores = pool_to_words(d.T, targets, [(n, n + 1) for n in range(d.shape[0])])  # (targets, sources)
    if normalise:
        sums = scores.sum(axis=1, keepdims=True)
        scores = scores / np.where(sums > 0, sums, 1.0)
    return scores


# --------------------------------------------------------------------------
# Layers of the course's model families, ready for value zeroing


class LayerHandle(NamedTuple):
    """One Transformer layer, ready for :func:`value_zeroing`.

    Attributes
    ----------
    run : callable
        ``(batch, n, dim)`` tensor -> the layer's output; at the last layer of
        a pre-LN stack the stack's final layer norm is included, so ``run``
        reproduces ``hidden_states[l]`` (or the model's output) exactly.
    attention : torch.nn.Module
        The layer's self-attention module (its ``v_proj`` holds the values).
    cross_attention : torch.nn.Module or None
        A decoder layer's cross-attention module (values of encoder frames).
    module : torch.nn.Module or None
        The layer itself (``transformers``' layer module), without the final norm.
    """

    run: Callable[[torch.Tensor], torch.Tensor]
    attention: torch.nn.Module
    cross_attention: torch.nn.Module | None = None
    module: torch.nn.Module | None = None


def _check_layer(layer: int, n_layers: int) -> int:
    if not 1 <= int(layer) <= n_layers:
        raise ValueError(f"Layer {layer} does not exist: Transformer layers are numbered 1..{n_layers} "
                         "(layer l reads hidden_states[l - 1] and produces hidden_states[l]).")
    return int(layer)


def encoder_layer(model, layer: int) -> LayerHandle:  # noqa: ANN001
    """Transformer layer ``layer`` (1..L) of a wav2vec 2.0-family encoder or a Whisper encoder.

    ``run(hidden_states[layer - 1])`` gives ``hidden_states[layer]`` for
    ``layer < L``, and the encoder output (final norm applied in pre-LN models)
    for ``layer == L``. No attention mask is used: give one unpadded utterance
    (Whisper: its whole fixed window, padding frames included, as the model
    sees it). ``run`` computes on the model's device and returns on the device
    of its input.
    """

    layers = encoder_of(model).layers
    layer = _check_layer(layer, len(layers))
    module = layers[layer - 1]
    norm = final_layer_norm(model) if layer == len(layers) else None
    attention = getattr(module, "self_attn", None) or getattr(module, "attention", None)
    if attention is None:
        raise ValueError(f"{type(module).__name__} has no self_attn / attention module.")
    relative = hasattr(attention, "gru_rel_pos_linear")  # WavLM: gated relative position bias
    first = layers[0].attention if relative else None

    device = model_device(module)

    def run(x: torch.Tensor) -> torch.Tensor:
        back, x = x.device, x.to(device)
        if not relative:
            out = _output(module(x, attention_mask=None))
        else:
            # Only WavLM's first layer holds the relative position embedding; the encoder hands its bias on to the
            # later layers, so a later layer run alone needs it too. Its attention runs through its value
            # projection (course.models.per_head_attention), so value zeroing reaches it.
            n = x.shape[1]
            bias = first.compute_bias(n, n)[None].expand(x.shape[0], -1, -1, -1).reshape(-1, n, n)
            with per_head_attention(module):
                out = _output(module(x, attention_mask=None, position_bias=bias, index=layer - 1))
        return (norm(out) if norm is not None else out).to(back)

    return LayerHandle(run, attention, None, module)


def causal_mask(n: int, batch: int = 1, device: torch.device | str | None = None) -> torch.Tensor:
    """Additive causal mask of shape (batch, 1, n, n): 0 on and below the diagonal, the float minimum above.

    ``device``: where to create it (the CPU by default), the device of the layer that reads it.
    """
    mask = torch.full((n, n), torch.finfo(torch.float32).min, device=device).triu(1)
    return mask.expand(batch, 1, n, n)


def decoder_layer(model, layer: int, encoder_hidden_states) -> LayerHandle:  # noqa: ANN001
    """Decoder layer ``layer`` (1..number of decoder layers) of a Whisper-family model, with causal self-attention.

    Parameters
    ----------
    model
        A Whisper-family encoder-decoder.
    layer : int
        1 .. number of decoder layers; ``run(decoder_hidden_states[layer - 1])``
        gives ``decoder_hidden_states[layer]`` (the last one with the decoder's
        final norm, which transformers includes in that entry).
    encoder_hidden_states : tensor, shape (1, n_frames, dim) or (n_frames, dim)
        The encoder output the decoder cross-attends to (repeated along the
        batch axis as needed), on any device.

    ``run`` computes on the model's device and returns on the device of its input.
    """
    if not is_whisper(model):
        raise ValueError(f"decoder_layer needs a Whisper-family encoder-decoder, got {type(model).__name__}.")
    decoder = model.get_decoder()
    layer = _check_layer(layer, len(decoder.layers))
    module = decoder.layers[layer - 1]
    norm = decoder.layer_norm if layer == len(decoder.layers) else None
    device = model_device(module)
    enc = encoder_hidden_states.detach().float().to(device)
    if enc.ndim == 2:
        enc = enc[None]
    if enc.ndim != 3 or enc.shape[0] != 1:
        raise ValueError(f"encoder_hidden_states must have shape (1, n_frames, dim), got {tuple(enc.shape)}.")

    def run(x: torch.Tensor) -> torch.Tensor:
        out = _output(module(x.to(device), attention_mask=causal_mask(x.shape[1], x.shape[0], device),
                             encoder_hidden_states=enc.expand(x.shape[0], -1, -1), use_cache=False))
        return (norm(out) if norm is not None else out).to(x.device)

    return LayerHandle(run, module.self_attn, module.encoder_attn, module)


# --------------------------------------------------------------------------
# Attention norms


def _out_projection(attention) -> torch.nn.Module:  # noqa: ANN001
    proj = getattr(attention, "out_proj", None) or getattr(attention, "o_proj", None)
    if proj is None or getattr(attention, "v_proj", None) is None:
        raise TypeError(f"attention must be an attention module with v_proj and out_proj (or o_proj), got "
                        f"{type(attention).__name__}.")
    return proj


@torch.no_grad()
def attention_norms(attention, weights, inputs, chunk: int = 64) -> np.ndarray:  # noqa: ANN001
    """How much each position adds to each other in one attention layer, by size (Kobayashi et al. 2020).

    A multi-head attention's output at position ``i`` is a sum over sources ``j`` (plus the output bias):
    ``sum_j sum_h alpha^h_ij f^h(x_j)``, where ``f^h(x) = (x W_V^h + b_V^h) W_O^h`` is the value of ``x`` in head
    ``h`` carried through that head's slice of the output projection. The attention *weight* ``alpha`` is only one
    factor of each term; the norm-based measure takes the size of the whole term,
    ``N_ij = || sum_h alpha^h_ij f^h(x_j) ||``. The output projection's bias, the same for every source, is left out.

    Parameters
    ----------
    attention : torch.nn.Module
        The attention module (``v_proj``, ``out_proj`` or ``o_proj``, ``num_heads``), e.g.
        ``encoder_layer(model, l).attention``.
    weights : array-like, shape (n_heads, n, n)
        Its attention weights (row ``i``: query ``i``), e.g. ``run.attentions[l - 1]``.
    inputs : array-like, shape (n, dim)
        The vectors the attention reads, :func:`attention_inputs` (after the layer norm in a pre-LN layer).
        A block of positions may be given on its own (``weights[:, :n, :n]`` and ``inputs[:n]``, e.g. the
        utterance's frames of a Whisper window): each ``N_ij`` depends only on ``alpha_ij`` and ``x_j``.
    chunk : int
        Query rows computed at a time (memory: ``chunk * n * dim`` floats).

    Returns
    -------
    numpy.ndarray, shape (n, n)
        ``N[i, j] >= 0``: what source ``j`` adds to target ``i`` (rows do not sum to 1).

    Raises
    ------
    ValueError
        Shapes that do not match the module's heads and width, or each other.
    """
    out_proj = _out_projection(attention)
    v_proj = _value_projection(attention)
    w = torch.as_tensor(np.asarray(weights) if not torch.is_tensor(weights) else weights).double()
    x = _as_sequence(inputs).to(out_proj.weight.device)
    heads = int(getattr(attention, "num_heads", 0) or w.shape[0])
    n, dim = x.shape
    if w.ndim != 3 or w.shape != (heads, n, n):
        raise ValueError(f"weights must have shape (n_heads, n, n) = ({heads}, {n}, {n}) for inputs of {n} "
                         f"positions, got {tuple(w.shape)}.")
    if dim != v_proj.in_features:
        raise ValueError(f"inputs have width {dim}, but the attention reads vectors of width {v_proj.in_features}.")
    values = v_proj(x.float()).double().reshape(n, heads, -1).transpose(0, 1)  # (heads, n, head_dim)
    w_out = out_proj.weight.double().T.reshape(heads, -1, out_proj.out_features)  # head h's rows of W_O
    f = torch.bmm(values, w_out)  # f^h(x_j): (heads, n, dim_out)
    w = w.to(f.device)
    rows = []
    for start in range(0, n, chunk):
        terms = torch.einsum("hij,hjd->ijd", w[:, start:start + chunk], f)  # sum over heads, per (i, j)
        rows.append(torch.linalg.vector_norm(terms, dim=-1))
    return torch.cat(rows).cpu().numpy()


@torch.no_grad()
def attention_inputs(model, hidden_states) -> torch.Tensor:  # noqa: ANN001
    """What each encoder layer's attention reads: ``hidden_states[l - 1]`` after the layer's norm in a pre-LN layer.

    Each layer is rerun on ``hidden_states[l - 1]`` (:func:`encoder_layer`) and its attention module's input is
    recorded, so that the answer is right whatever the layer norm's place.

    Parameters
    ----------
    model
        A wav2vec 2.0-family or Whisper model.
    hidden_states : tensor, shape (n_layers + 1, n, dim)
        From :func:`run_encoder`.

    Returns
    -------
    torch.Tensor, shape (n_layers, n, dim)
        Entry ``l - 1`` is layer ``l``'s attention input, on the CPU.
    """
    hidden = hidden_states.detach() if torch.is_tensor(hidden_states) else torch.as_tensor(hidden_states)
    n_layers = len(encoder_of(model).layers)
    if hidden.ndim != 3 or hidden.shape[0] != n_layers + 1:
        raise ValueError(f"hidden_states must have shape (n_layers + 1, n, dim) = ({n_layers + 1}, n, dim), "
                         f"got {tuple(hidden.shape)}.")
    seen: list[torch.Tensor] = []

    def record(module, args, kwargs):  # noqa: ANN001, ANN202
        seen.append((args[0] if args else kwargs["hidden_states"])[0].detach().cpu())

    out = []
    for layer in range(1, n_layers + 1):
        handle = encoder_layer(model, layer)
        hook = handle.attention.register_forward_pre_hook(record, with_kwargs=True)
        try:
            seen.clear()
            handle.run(hidden[layer - 1][None].float())
        finally:
            hook.remove()
        if len(seen) != 1:
            raise RuntimeError(f"Layer {layer}'s attention ran {len(seen)} times in one pass; expected once.")
        out.append(seen[0])
    return torch.stack(out)


# --------------------------------------------------------------------------
# Running a model once


class EncoderRun(NamedTuple):
    """Everything one encoder pass gives for context mixing, on the CPU whatever the model's device.

    Attributes
    ----------
    hidden_states : torch.Tensor, shape (n_layers + 1, n_positions, dim)
        Uncropped (a Whisper encoder's whole window); entry 0 is the input of the first layer.
    attentions : torch.Tensor, shape (n_layers, n_heads, n_positions, n_positions)
    n_frames : int
        Frames that hold the utterance (the rest of a Whisper window is padding).
    inputs : torch.Tensor
        What the model read (``input_values`` or Whisper's ``input_features``), batch of one.
    output : torch.Tensor, shape (n_positions, dim)
        The encoder output (``last_hidden_state``: the final norm applied in pre-LN models), what a decoder reads.
    """

    hidden_states: torch.Tensor
    attentions: torch.Tensor
    n_frames: int
    inputs: torch.Tensor
    output: torch.Tensor


@torch.no_grad()
def run_encoder(model, processor, waveform: np.ndarray) -> EncoderRun:  # noqa: ANN001
    """One utterance through the encoder with hidden states and attentions (eager attention needed)."""

    wave = check_waveform(waveform, SAMPLE_RATE)
    fe = getattr(processor, "feature_extractor", processor)
    device = model_device(model)
    if is_whisper(model):
        inputs = fe(wave, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features
        out = model.get_encoder()(inputs.to(device), output_hidden_states=True, output_attentions=True)
        n = whisper_audio_frames(len(wave), fe.hop_length, out.hidden_states[0].shape[1])
    else:
        inputs = fe(wave, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_values
        with per_head_attention(model):
            out = model.base_model(inputs.to(device), output_hidden_states=True, output_attentions=True)
        n = out.hidden_states[0].shape[1]
    if not out.attentions or out.attentions[0] is None:
        raise ValueError("The model returned no attention weights: load it with attn_implementation='eager' "
                         "(course.models.load_model does).")
    return EncoderRun(torch.stack(out.hidden_states)[:, 0].cpu(), torch.stack(out.attentions)[:, 0].cpu(), int(n),
                      inputs, out.last_hidden_state[0].cpu())


def token_word_spans(tokenizer, ids: Sequence[int]) -> tuple[list[str], list[Span]]:  # noqa: ANN001
    """Group the text tokens of a byte-level BPE sequence into words.

    A token whose text starts with a space (``Ġ`` in GPT-2/Whisper
    vocabularies) starts a new word; special tokens belong to no word.

    Returns
    -------
    (words, spans)
        The words' text and their half-open position spans in ``ids``.
    """
    special = set(getattr(tokenizer, "all_special_ids", []))
    words: list[str] = []
    spans: list[Span] = []
    for pos, i in enumerate(int(v) for v in ids):
        if i in special:
            continue
        piece = tokenizer.decode([i])
        if not words or piece.startswith(" ") or spans[-1][1] != pos:
            words.append(piece.strip())
            spans.append((pos, pos + 1))
        else:
            words[-1] += piece
            spans[-1] = (spans[-1][0], pos + 1)
    return words, spans


# --------------------------------------------------------------------------
# The experiment: the cue's share of the homophone's row, per layer and held-out speaker


def cue_gap_profile(
    measure: Callable[[object], np.ndarray],
    control_measure: Callable[[object], np.ndarray],
    utterances: Sequence,
) -> pd.DataFrame:
    """Layer by layer, every speaker's cue gap under a context-mixing measure, for a model and for its control.

    For every utterance ``u`` (a homophone sentence), ``measure(u)`` gives its word-by-word matrices, one per layer
    (row ``i``: how much word ``i`` draws on each word). In the homophone's row (``u.labels["target_index"]``),
    divided by its sum so that it holds shares, the **gap** is the cue word's share (``u.labels["cue_index"]``)
    minus the mean share of the other words (neither the homophone nor the cue). The same is done with
    ``control_measure(u)``, the same measure on the control (e.g. the random twin). Each speaker's gap is the mean
    over its own utterances (not pooled over speakers), so that intervals and tests can treat the speaker as the
    unit. This is the experiment behind notebook 06's main figure.

    Parameters
    ----------
    measure : callable
        ``measure(u)``: array-like of shape ``(n_layers, n_words, n_words)``, non-negative (rows need not sum to 1:
        mean-pooled attention is a density).
    control_measure : callable
        The same for the control; as many layers as ``measure``.
    utterances : sequence
        Objects with ``.speaker`` and ``.labels`` holding ``target_index`` and ``cue_index`` (0-based word
        indices), e.g. :class:`course.corpus.Utterance`; every sentence needs at least one other word.

    Returns
    -------
    pandas.DataFrame
        One row per layer and speaker, sorted by layer (1-based: layer 1 is the first Transformer layer), then
        speaker; columns ``layer`` (int), ``speaker``, ``model`` and ``control`` (mean gaps, between -1 and 1).

    Raises
    ------
    ValueError
        No utterance; a matrix stack that is not ``(n_layers, n, n)`` with ``n`` the sentence's words; model and
        control with different shapes; target equal to cue, an index out of range, or no other word; a homophone
        row summing to 0.
    """

    utterances = list(utterances)
    if not utterances:
        raise ValueError("No utterance to measure.")
    per_speaker: dict = {}
    n_layers = None
    for u in utterances:
        target, cue = int(u.labels["target_index"]), int(u.labels["cue_index"])
        gaps = []
        for name, fn in (("model", measure), ("control", control_measure)):
            m = np.asarray(fn(u), dtype=np.float64)
            if m.ndim != 3 or m.shape[1] != m.shape[2]:
                raise ValueError(f"The {name}'s measure must give (n_layers, n_words, n_words) matrices; got "
                                 f"{m.shape}.")
            n = m.shape[-1]
            if target == cue or not (0 <= target < n and 0 <= cue < n) or n < 3:
                raise ValueError(f"Homophone {target} and cue {cue} must be different words of 0..{n - 1}, with "
                                 "at least one other word.")
            row = m[:, target, :]
            total = row.sum(-1, keepdims=True)
            if np.any(total <= 0):
                raise ValueError(f"The homophone's row sums to 0 in the {name}'s matrices: no shares to compare.")
            share = row / total
            others = [j for j in range(n) if j not in (target, cue)]
            gaps.append(share[:, cue] - share[:, others].mean(-1))
        if gaps[0].shape != gaps[1].shape or (n_layers is not None and len(gaps[0]) != n_layers):
            raise ValueError(f"Model and control must have the same layers in every utterance: {len(gaps[0])} and "
                             f"{len(gaps[1])}" + ("" if n_layers is None else f", earlier {n_layers}") + ".")
        n_layers = len(gaps[0])
        per_speaker.setdefault(u.speaker, []).append(np.stack(gaps, axis=1))  # (layers, 2)
    rows = []
    speakers = sorted(per_speaker)
    means = {s: np.mean(per_speaker[s], axis=0) for s in speakers}  # each speaker's own mean, (layers, 2)
    for layer in range(n_layers):
        for s in speakers:
            rows.append((layer + 1, s, float(means[s][layer, 0]), float(means[s][layer, 1])))
    return pd.DataFrame(rows, columns=["layer", "speaker", "model", "control"])
