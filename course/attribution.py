"""Feature attribution for speech classifiers and transcribers: gradients, Integrated Gradients, occlusion, word
ablation, LIME, faithfulness.

The functions follow `captum <https://captum.ai>`_'s conventions (``forward_func``, ``inputs``, ``baselines``,
``target``, ``n_steps``, ``method``) and agree with its ``Saliency``, ``InputXGradient``, ``IntegratedGradients``,
``Occlusion``, ``FeatureAblation`` and ``Lime`` to float precision (``tests/test_attribution.py`` checks it); they
are written out here so that every step can be read and taught. Conventions:

* ``inputs`` is one tensor with the batch on axis 0 (a waveform batch ``(B, T)``, CNN features ``(B, T', C)``, ...);
  tuples of inputs and ``additional_forward_args`` are not supported: wrap the model in a function of one tensor;
* ``forward_func(x)`` returns either one value per example, shape ``(B,)`` (then ``target=None``), or scores of
  shape ``(B, C)`` from which ``target`` picks a column: an ``int`` for every example, or one index per example
  (a list or a 1-D tensor);
* gradient-based attributions come back as detached tensors of the inputs' shape (and device); per-word and
  per-fraction scores as NumPy arrays (on the CPU);
* ``inputs`` go on the model's device (``course.models.model_device``): every tensor made here (baselines, masks,
  path points, occlusion windows) is made on the inputs' device, and a ``feature_mask`` or baseline given on the
  CPU is moved there;
* time is the axis after the batch axis, and element ``n`` of a signal at ``rate`` elements per second stands for
  ``[n / rate, (n + 1) / rate)``. A word ``[start, end)`` owns the elements whose **centre** lies inside it, the
  convention of :mod:`course.frames` (at 50 elements per second these are exactly the model frames of
  :func:`course.frames.segment_frames`);
* faithfulness metrics work on **probabilities**: ``forward_func`` returns logits ``(B, C)`` and the metrics take
  the softmax of the ``target`` column.
* a Whisper-style transcriber is explained over its log-mel input ``(1, T, n_mels)`` (time first, 10 ms frames
  over the whole fixed window): :func:`transcript_word_target` turns "what it writes for these words" into a
  ``forward_func`` for the methods above, and :func:`spectrogram_attributions` runs one of them.

References: Simonyan et al. 2014 (saliency), Shrikumar et al. 2016 (input x gradient), Sundararajan et al. 2017
(Integrated Gradients), Zeiler & Fergus 2014 (occlusion), DeYoung et al. 2020 (comprehensiveness, sufficiency),
Samek et al. 2017 (AOPC, deletion curves), Petsiuk et al. 2018 (insertion curves), Adebayo et al. 2018
(sanity checks), Ribeiro et al. 2016 (LIME).
"""

from __future__ import annotations

import itertools
import math
from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch

from course.context_mixing import token_word_spans
from course.frames import segment_frames, starts_after_end
from course.models import model_device
from course.stats import average_ranks

#: Integration rules of :func:`integrated_gradients` (captum's names).
IG_METHODS = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")

Target = int | Sequence[int] | torch.Tensor | None


# --------------------------------------------------------------------------
# Helpers


def _select(output: torch.Tensor, target: Target) -> torch.Tensor:
    """One value per example: ``output[:, target]`` (or ``output`` itself when ``target`` is None)."""
    if target is None:
        if output.dim() > 1 and output[0].numel() != 1:
            raise ValueError(f"forward_func returns shape {tuple(output.shape)}: give a target column.")
        return output.reshape(len(output))
    if isinstance(target, (int, np.integer)) or (torch.is_tensor(target) and target.numel() == 1):
        return output[:, int(target)]
    index = torch.as_tensor(target, dtype=torch.long, device=output.device).reshape(-1)
    if len(index) != len(output):
        raise ValueError(f"{len(index)} targets for {len(output)} outputs.")
    return output.gather(1, index[:, None])[:, 0]


def _repeat_target(target: Target, times: int) -> Target:
    """The target of a batch repeated ``times`` times along axis 0 (a per-example target is tiled)."""
    if target is None or isinstance(target, (int, np.integer)) or (torch.is_tensor(target) and target.numel() == 1):
        return target
    return torch.as_tensor(target, dtype=torch.long).reshape(-1).repeat(times)


def _gradient(forward_func: Callable, x: torch.Tensor, target: Target) -> torch.Tensor:
    """Gradient of the selected output of every example with respect to its own input."""
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        out = _select(forward_func(x), target)
        (grad,) = torch.autograd.grad(out.sum(), x)
    return grad.detach()


def _baseline_like(baselines: float | torch.Tensor | None, inputs: torch.Tensor) -> torch.Tensor:
    """Baselines as a tensor of the inputs' shape (None: zeros)."""
    if baselines is None:
        baselines = 0.0
    return torch.as_tensor(baselines, dtype=inputs.dtype, device=inputs.device).expand_as(inputs)


@torch.no_grad()
def _evaluate(forward_func: Callable, batches: Sequence[torch.Tensor], batch_size: int) -> torch.Tensor:
    """``forward_func`` on a list of inputs with the same shape, ``batch_size`` at a time, concatenated."""
    outs = []
    for i in range(0, len(batches), batch_size):
        outs.append(forward_func(torch.cat(list(batches[i:i + batch_size]), 0)))
    return torch.cat(outs, 0)


# --------------------------------------------------------------------------
# Gradient-based attributions


def saliency(forward_func: Callable, inputs: torch.Tensor, target: Target = None,
             abs: bool = True) -> torch.Tensor:  # noqa: A002 - captum's argument name
    """Saliency map: the gradient of the target output with respect to the inputs (Simonyan et al. 2014).

    Parameters
    ----------
    forward_func : callable
        Maps a batch of inputs to outputs ``(B,)`` or ``(B, C)``.
    inputs : torch.Tensor
        Batch of inputs, shape ``(B, ...)``.
    target : int, sequence of int, tensor or None
        Output column(s) to explain (see the module docstring).
    abs : bool
        Return ``|gradient|`` (captum's default, ``abs=True``) or the signed gradient (``abs=False``; speech papers
        often keep the sign).

    Returns
    -------
    torch.Tensor
        Detached, shape of ``inputs``.
    """
    grad = _gradient(forward_func, inputs, target)
    return grad.abs() if abs else grad


def input_x_gradient(forward_func: Callable, inputs: torch.Tensor, target: Target = None) -> torch.Tensor:
    """Input times gradient, ``x * dF/dx`` (Shrikumar et al. 2016): a first-order estimate of each input's effect.

    Same arguments as :func:`saliency`; returns a detached tensor of the inputs' shape.
    """
    return inputs.detach() * _gradient(forward_func, inputs, target)


def ig_steps(n_steps: int, method: str = "gausslegendre") -> tuple[np.ndarray, np.ndarray]:
    """Points ``alpha_k`` on the path and weights ``w_k`` of captum's integration rules.

    Parameters
    ----------
    n_steps : int
        Number of points (``>= 1`` for Gauss-Legendre, ``>= 2`` for the Riemann rules, as in captum).
    method : str
        ``"gausslegendre"``: the Gauss-Legendre nodes and weights of ``[-1, 1]`` mapped to ``[0, 1]`` (weights sum
        to 1); ``"riemann_left"``, ``"riemann_right"``, ``"riemann_middle"``: ``n`` equal weights ``1 / n`` at the
        left ends, right ends or middles of ``n`` equal intervals; ``"riemann_trapezoid"``: ``n`` points from 0 to
        1 inclusive with weights ``1 / n``, halved at both ends, exactly as captum defines it (the weights sum to
        ``(n - 1) / n``, not 1).

    Returns
    -------
    alphas, weights : np.ndarray
        float64 arrays of length ``n_steps``.
    """
    if method not in IG_METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of {IG_METHODS}.")
    n = int(n_steps)
    if method == "gausslegendre":
        if n < 1:
            raise ValueError("n_steps must be at least 1.")
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return 0.5 * (nodes + 1), 0.5 * weights
    if n < 2:
        raise ValueError("The Riemann rules need n_steps >= 2 (as in captum).")
    weights = np.full(n, 1.0 / n)
    if method == "riemann_trapezoid":
        weights[0] /= 2
        weights[-1] /= 2
        return np.linspace(0.0, 1.0, n), weights
    if method == "riemann_left":
        return np.linspace(0.0, 1.0 - 1.0 / n, n), weights
    if method == "riemann_right":
        return np.linspace(1.0 / n, 1.0, n), weights
    return np.linspace(1.0 / (2 * n), 1.0 - 1.0 / (2 * n), n), weights


def integrated_gradients(
    forward_func: Callable,
    inputs: torch.Tensor,
    baselines: float | torch.Tensor | None = None,
    target: Target = None,
    n_steps: int = 50,
    method: str = "gausslegendre",
    internal_batch_size: int | None = None,
    return_convergence_delta: bool = False,
    multiply_by_inputs: bool = True,
) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Integrated Gradients (Sundararajan et al. 2017), as captum computes it.

    ``A = (x - x') * sum_k w_k dF/dx (x' + alpha_k (x - x'))`` with the points and weights of :func:`ig_steps`.
    Completeness: ``sum(A) = F(x) - F(x')`` up to the integration error (the *convergence delta*).

    Parameters
    ----------
    forward_func, inputs, target
        As in :func:`saliency`.
    baselines : float, tensor or None
        The reference input ``x'``: a number, or a tensor broadcastable to ``inputs`` (None: zeros, captum's
        default).
    n_steps : int
        Number of points on the straight path from ``x'`` to ``x`` (captum's default: 50).
    method : str
        One of :data:`IG_METHODS` (captum's default: ``"gausslegendre"``).
    internal_batch_size : int, optional
        At most this many path points (rows) per forward/backward pass; None: all ``B * n_steps`` at once.
        The result does not depend on it (up to float round-off).
    return_convergence_delta : bool
        Also return ``sum(A) - (F(x) - F(x'))`` per example.
    multiply_by_inputs : bool
        False returns the path-averaged gradient ``sum_k w_k dF/dx`` without the factor ``(x - x')`` (captum's
        ``multiply_by_inputs=False``).

    Returns
    -------
    attributions : torch.Tensor
        Detached, shape of ``inputs``.
    delta : torch.Tensor, shape (B,)
        Only with ``return_convergence_delta``.
    """
    x = inputs.detach()
    base = _baseline_like(baselines, x)
    alphas, weights = ig_steps(n_steps, method)
    n_rows = len(x)
    per_pass = max(1, (internal_batch_size or n_rows * len(alphas)) // n_rows)
    total = torch.zeros_like(x)
    for i in range(0, len(alphas), per_pass):
        a = alphas[i:i + per_pass]
        path = torch.cat([base + float(alpha) * (x - base) for alpha in a], 0)
        grads = _gradient(forward_func, path, _repeat_target(target, len(a)))
        w = torch.tensor(weights[i:i + per_pass], dtype=x.dtype, device=x.device)
        total += (grads.reshape(len(a), *x.shape) * w.reshape(-1, *([1] * x.dim()))).sum(0)
    attributions = total * (x - base) if multiply_by_inputs else total
    if return_convergence_delta:
        return attributions, convergence_delta(forward_func, attributions, x, base, target)
    return attributions


@torch.no_grad()
def convergence_delta(forward_func: Callable, attributions: torch.Tensor, inputs: torch.Tensor,
                      baselines: float | torch.Tensor | None = None, target: Target = None) -> torch.Tensor:
    """Completeness error per example: ``sum(attributions) - (F(inputs) - F(baselines))`` (captum's delta)."""
    base = _baseline_like(baselines, inputs)
    end = _select(forward_func(inputs), target)
    start = _select(forward_func(base.contiguous()), target)
    return attributions.reshape(len(inputs), -1).sum(1) - (end - start)


# --------------------------------------------------------------------------
# Perturbation-based attributions


def feature_ablation(
    forward_func: Callable,
    inputs: torch.Tensor,
    feature_mask: torch.Tensor,
    baselines: float | torch.Tensor | None = None,
    target: Target = None,
    perturbations_per_eval: int = 1,
) -> torch.Tensor:
    """Feature ablation (captum's ``FeatureAblation``): replace each group of elements by the baseline at once.

    Parameters
    ----------
    feature_mask : torch.Tensor
        Integer group id per element, broadcastable to ``inputs`` (e.g. ``(1, T)`` for a batch of waveforms).
    baselines : float, tensor or None
        Replacement values (None: zeros).
    perturbations_per_eval : int
        Ablated copies evaluated per forward pass.

    Returns
    -------
    torch.Tensor
        Shape of ``inputs``: every element of group ``g`` carries ``F(x) - F(x with group g ablated)``.
    """
    x = inputs.detach()
    base = _baseline_like(baselines, x)
    mask = torch.as_tensor(feature_mask, device=x.device).expand_as(x)
    with torch.no_grad():
        full = _select(forward_func(x), target)
    groups = [int(g) for g in torch.unique(mask)]
    ablated = [torch.where(mask == g, base, x) for g in groups]
    out = _evaluate(forward_func, ablated, max(1, int(perturbations_per_eval)))
    drops = full.repeat(len(groups)) - _select(out, _repeat_target(target, len(groups)))
    drops = drops.reshape(len(groups), len(x))
    attr = torch.zeros_like(x)
    for g, d in zip(groups, drops):
        attr = torch.where(mask == g, d.reshape(-1, *([1] * (x.dim() - 1))).to(x.dtype), attr)
    return attr


def lime_samples(n_features: int, n_samples: int, seed: int = 0) -> torch.Tensor:
    """The coalitions :func:`lime` evaluates: ``(n_samples, n_features)`` of 0/1 (1: the feature is kept), each
    feature kept with probability 1/2 (captum's default sampling), from a seeded generator."""
    gen = torch.Generator().manual_seed(int(seed))
    return torch.bernoulli(torch.full((int(n_samples), int(n_features)), 0.5), generator=gen).long()


def lime(
    forward_func: Callable,
    inputs: torch.Tensor,
    feature_mask: torch.Tensor,
    n_samples: int = 200,
    baselines: float | torch.Tensor | None = None,
    target: Target = None,
    kernel_width: float = 1.0,
    alpha: float = 0.0,
    seed: int = 0,
    perturbations_per_eval: int = 16,
) -> torch.Tensor:
    """LIME (Ribeiro, Singh & Guestrin 2016) for one example: a weighted linear model of the output over groups kept.

    Each sample keeps a random subset of the groups of ``feature_mask`` (:func:`lime_samples`) and replaces the
    others by the baseline; it is weighted by ``exp(-d^2 / (2 kernel_width^2))``, ``d`` the cosine distance between
    the original and the perturbed input (captum's default similarity); the attributions are the coefficients of a
    linear model with intercept fitted to the outputs by weighted least squares (ridge with penalty ``alpha`` on the
    coefficients, not the intercept, as scikit-learn's ``Ridge``). Unlike occlusion, every group is judged with
    others missing too, and the answer depends on ``n_samples`` and ``seed``.

    Parameters
    ----------
    feature_mask : torch.Tensor
        Integer group id per element, broadcastable to ``inputs`` (e.g. words and the gaps between them).
    n_samples : int
        Perturbed inputs evaluated (the model runs ``n_samples`` times).
    baselines : float, tensor or None
        Replacement values (None: zeros).
    kernel_width, alpha, seed : float, float, int
        The similarity kernel's width, the ridge penalty, the sampling seed.

    Returns
    -------
    torch.Tensor
        Shape of ``inputs``: every element of group ``g`` carries ``g``'s coefficient.

    Raises
    ------
    ValueError
        More than one example, or fewer samples than groups + 1 without a ridge penalty.
    """
    x = inputs.detach()
    if len(x) != 1:
        raise ValueError(f"Give one example (batch of 1), got a batch of {len(x)}.")
    base = _baseline_like(baselines, x)
    mask = torch.as_tensor(feature_mask, device=x.device).expand_as(x)
    groups = [int(g) for g in torch.unique(mask)]
    if alpha <= 0 and n_samples < len(groups) + 1:
        raise ValueError(f"{n_samples} samples cannot fit {len(groups)} coefficients and an intercept: take more "
                         "samples or a ridge penalty (alpha > 0).")
    z = lime_samples(len(groups), n_samples, seed)
    perturbed = []
    for row in z:
        keep = torch.zeros_like(mask, dtype=torch.bool)
        for g, on in zip(groups, row.tolist()):
            if on:
                keep |= mask == g
        perturbed.append(torch.where(keep, x, base))
    out = _select(_evaluate(forward_func, perturbed, max(1, int(perturbations_per_eval))),
                  _repeat_target(target, len(perturbed))).double().cpu().numpy()
    flat = x.reshape(-1).double()
    distance = np.array([1.0 - torch.nn.functional.cosine_similarity(flat, p.reshape(-1).double(), dim=0).item()
                         for p in perturbed])
    weights = np.exp(-distance ** 2 / (2 * kernel_width ** 2))
    design = z.double().numpy()
    w = weights / weights.sum()
    zc, yc = design - w @ design, out - w @ out  # weighted centring: the intercept is fitted, not penalised
    gram = zc.T @ (weights[:, None] * zc) + alpha * np.eye(len(groups))
    coef = np.linalg.lstsq(gram, zc.T @ (weights * yc), rcond=None)[0]
    attr = torch.zeros_like(x)
    for g, c in zip(groups, coef):
        attr = torch.where(mask == g, torch.tensor(c, dtype=x.dtype, device=x.device), attr)
    return attr


def occlusion(
    forward_func: Callable,
    inputs: torch.Tensor,
    sliding_window_shapes: tuple[int, ...],
    strides: int | tuple[int, ...] | None = None,
    baselines: float | torch.Tensor | None = None,
    target: Target = None,
    perturbations_per_eval: int = 1,
) -> torch.Tensor:
    """Occlusion (Zeiler & Fergus 2014), as captum's ``Occlusion`` computes it.

    A window of ``sliding_window_shapes`` (the shape of one example, batch axis excluded) slides over the input with
    ``strides`` (default 1 in every axis), starting at 0, in ``ceil((size - window) / stride) + 1`` positions per
    axis (the last window may stick out at the end and is cut). Each position replaces the covered elements by the
    baseline; every element receives the mean drop ``F(x) - F(occluded)`` over the windows that cover it.

    Returns
    -------
    torch.Tensor
        Shape of ``inputs``.
    """
    x = inputs.detach()
    base = _baseline_like(baselines, x)
    shape = tuple(x.shape[1:])
    window = tuple(int(w) for w in sliding_window_shapes)
    if len(window) != len(shape):
        raise ValueError(f"The window {window} must have one size per axis of an example {shape}.")
    stride = (strides,) * len(shape) if isinstance(strides, int) else tuple(strides or (1,) * len(shape))
    if any(w > s for w, s in zip(window, shape)):
        raise ValueError(f"The window {window} is larger than an example {shape}.")
    if any(st > w and w < s for st, w, s in zip(stride, window, shape)):
        raise ValueError("A stride larger than the window would leave elements unoccluded.")
    starts = [range(0, (math.ceil((s - w) / st) + 1) * st, st) for s, w, st in zip(shape, window, stride)]
    with torch.no_grad():
        full = _select(forward_func(x), target)
    total = torch.zeros_like(x)
    counts = torch.zeros(shape, dtype=x.dtype, device=x.device)
    positions = list(itertools.product(*starts))
    step = max(1, int(perturbations_per_eval))
    for i in range(0, len(positions), step):
        masks, batch = [], []
        for pos in positions[i:i + step]:
            m = torch.zeros(shape, dtype=torch.bool, device=x.device)
            m[tuple(slice(p, p + w) for p, w in zip(pos, window))] = True
            masks.append(m)
            batch.append(torch.where(m, base, x))
        with torch.no_grad():
            out = _select(forward_func(torch.cat(batch, 0)), _repeat_target(target, len(batch)))
        drops = (full.repeat(len(batch)) - out).reshape(len(batch), len(x))
        for k, m in enumerate(masks):
            total += m.to(x.dtype) * drops[k].reshape(-1, *([1] * len(shape)))
            counts += m.to(x.dtype)
    return total / counts


# --------------------------------------------------------------------------
# Words


def word_spans(words: Sequence, n: int, rate: float = 16000) -> list[range]:
    """Element ranges ``[first, stop)`` of each word along a signal of ``n`` elements at ``rate`` per second.

    A word ``[start, end)`` (seconds) owns the elements whose centre ``(i + 0.5) / rate`` lies inside it; a word
    shorter than one element gets the element containing its midpoint (:func:`course.frames.segment_frames`).
    A word that starts at or after the end of the signal has no element: ``ValueError`` (as
    :func:`course.context_mixing.word_spans`), rather than silently attributing the last element to it.
    """
    for w in words:
        if starts_after_end(w.start, n, 1.0 / rate):
            raise ValueError(f"Word {getattr(w, 'label', '')!r} starts at {w.start:.3f} s, after the end of the "
                             f"signal ({n} elements at {rate:g} per second): are the words from another utterance?")
    return [segment_frames(w.start, w.end, n, 1.0 / rate) for w in words]


def word_ablation(
    forward_func: Callable,
    inputs: torch.Tensor,
    words: Sequence,
    baselines: float | torch.Tensor | None = 0.0,
    target: Target = None,
    sample_rate: float = 16000,
    perturbations_per_eval: int = 8,
) -> np.ndarray:
    """Drop of the target output when each word's span is replaced by the baseline, one word at a time.

    Parameters
    ----------
    forward_func : callable
        Maps ``(B, T, ...)`` inputs to ``(B,)`` or ``(B, C)`` outputs (logits; give a softmax for probabilities).
    inputs : torch.Tensor
        One example, shape ``(1, T, ...)``, time on axis 1.
    words : sequence of Interval
        Word alignments in seconds (``.start``, ``.end``).
    baselines : float or tensor
        The replacement: a number, or a tensor of the inputs' shape whose values at the word's positions are used.
    sample_rate : float
        Elements per second along axis 1 (16 000 for waveforms, 50 for 20 ms model frames).
    perturbations_per_eval : int
        Ablated copies evaluated per forward pass.

    Returns
    -------
    np.ndarray
        float64, one value per word: ``F(x) - F(x with the word ablated)``.
    """
    x = inputs.detach()
    if len(x) != 1:
        raise ValueError(f"Give one example (batch of 1), got a batch of {len(x)}.")
    base = _baseline_like(baselines, x)
    ablated = []
    for span in word_spans(words, x.shape[1], sample_rate):
        y = x.clone()
        y[:, span.start:span.stop] = base[:, span.start:span.stop]
        ablated.append(y)
    with torch.no_grad():
        full = _select(forward_func(x), target)
    if not ablated:
        return np.zeros(0)
    out = _select(_evaluate(forward_func, ablated, max(1, int(perturbations_per_eval))), target)
    return (full - out).double().cpu().numpy()


def pool_to_words(attributions: np.ndarray | torch.Tensor, words: Sequence, rate: float = 16000,
                  reduce: str = "sum") -> np.ndarray:
    """Aggregate one example's attributions to words with the alignments.

    Parameters
    ----------
    attributions : array or tensor
        Shape ``(T, ...)``, time on axis 0 (drop the batch axis first); trailing axes (channels, bands) are summed.
    words : sequence of Interval
        Word alignments in seconds.
    rate : float
        Elements per second along axis 0.
    reduce : {"sum", "mean"}
        Sum over the word's elements (keeps completeness: words plus silences add up to the total) or mean (per
        element, fair to short and long words alike).

    Returns
    -------
    np.ndarray
        float64, one value per word.
    """
    a = attributions.detach().cpu().numpy() if torch.is_tensor(attributions) else np.asarray(attributions)
    a = a.reshape(len(a), -1).sum(1).astype(np.float64)
    if reduce not in ("sum", "mean"):
        raise ValueError(f"reduce must be 'sum' or 'mean', got {reduce!r}.")
    spans = word_spans(words, len(a), rate)
    return np.array([getattr(a[s.start:s.stop], reduce)() for s in spans], dtype=np.float64)


#: The model-free rankings :func:`slot_word_profile` adds to the methods it scores.
SLOT_CONTROLS = ("control: duration", "control: random")


def slot_words(u, slot: str) -> np.ndarray:
    """Boolean mask over ``u.words``: the words that carry ``slot`` (``u.labels[f"{slot}_words"]``, 0-based).

    Raises
    ------
    ValueError
        An index outside the utterance's words.
    """
    mask = np.zeros(len(u.words), dtype=bool)
    for i in str(u.labels.get(f"{slot}_words", "")).split():
        if not 0 <= int(i) < len(mask):
            raise ValueError(f"{getattr(u, 'id', 'utterance')}: {slot}_words lists word {i}, but it has "
                             f"{len(mask)} words.")
        mask[int(i)] = True
    return mask


def slot_word_profile(methods: dict[str, Callable], utterances: Sequence, slot: str) -> pd.DataFrame:
    """Do attributions land on the words of the explained slot? Every method and two controls, per speaker.

    For every utterance ``u`` and every ranking, two statistics of its word scores ``s`` (one per word, higher =
    more important):

    * ``top``: 1.0 if the highest-scoring word (the first of equal maxima, as :func:`numpy.argmax`) carries the
      slot, else 0.0;
    * ``share``: the slot words' part of the positive scores, ``sum(max(s, 0) over slot words) / sum(max(s, 0))``
      (0.0 when no word scores above zero).

    The rankings are the ``methods`` (``methods[name](u)`` gives ``u``'s word scores), then two controls that know
    nothing about the model: ``"control: duration"`` (each word's length in seconds: long words collect more
    samples) and ``"control: random"`` (a random ranking's expected values: the fraction of ``u``'s words that
    carry the slot, for both statistics). Each speaker's value is the mean over its own utterances (not pooled over
    speakers), so that intervals and tests can treat the speaker as the unit. This is the experiment behind
    notebook 07's comparison of methods.

    Parameters
    ----------
    methods : dict of str to callable
        Name to ``method(u)``: array-like of shape ``(len(u.words),)``, finite.
    utterances : sequence
        Objects with ``.speaker``, ``.words`` (``.start``, ``.end`` in seconds) and ``.labels`` holding
        ``f"{slot}_words"`` (space-separated 0-based word indices), e.g. :class:`course.corpus.Utterance`.
    slot : str
        The explained slot (``"action"``, ``"object"``, ``"location"``).

    Returns
    -------
    pandas.DataFrame
        One row per ranking (the methods in their order, then the controls) and speaker (sorted); columns
        ``ranking``, ``speaker``, ``top`` and ``share`` (means, between 0 and 1).

    Raises
    ------
    ValueError
        No utterance; a method named like a control; scores that are not one finite value per word; an utterance
        without a word of the slot.
    """
    utterances = list(utterances)
    if not utterances:
        raise ValueError("No utterance to score.")
    clash = set(methods) & set(SLOT_CONTROLS)
    if clash:
        raise ValueError(f"{sorted(clash)} name the controls this function adds; rename the method.")
    duration, random_ranking = SLOT_CONTROLS
    rankings = dict(methods)
    rankings[duration] = lambda u: np.array([w.end - w.start for w in u.words], dtype=np.float64)
    per_speaker: dict = {}
    for u in utterances:
        mask = slot_words(u, slot)
        if not mask.any():
            raise ValueError(f"{getattr(u, 'id', 'utterance')} has no word of the slot {slot!r}.")
        stats = []
        for name, fn in rankings.items():
            s = np.asarray(fn(u), dtype=np.float64)
            if s.shape != mask.shape or not np.all(np.isfinite(s)):
                raise ValueError(f"{name}: give one finite score per word ({len(mask)} words), got shape {s.shape}.")
            pos = np.clip(s, 0.0, None)
            stats.append((float(mask[np.argmax(s)]), pos[mask].sum() / pos.sum() if pos.sum() > 0 else 0.0))
        stats.append((mask.mean(), mask.mean()))  # a random ranking, in expectation
        per_speaker.setdefault(u.speaker, []).append(stats)
    names = [*rankings, random_ranking]
    means = {s: np.mean(v, axis=0) for s, v in per_speaker.items()}  # (rankings, 2) per speaker
    rows = [(name, s, *means[s][k]) for k, name in enumerate(names) for s in sorted(means)]
    return pd.DataFrame(rows, columns=["ranking", "speaker", "top", "share"])


def chunk_mask(n: int, size: int) -> torch.Tensor:
    """Feature ids ``0, 0, ..., 1, 1, ...`` grouping ``n`` time steps into chunks of ``size`` (the last may be short).

    Returns a ``(1, n)`` long tensor, usable as ``feature_mask`` for a batch of one waveform.
    """
    return (torch.arange(int(n)) // int(size))[None]


def pool_features(attributions: np.ndarray | torch.Tensor, feature_mask: np.ndarray | torch.Tensor) -> np.ndarray:
    """Sum attributions over each feature group of ``feature_mask`` (ids ``0 .. n - 1``); float64 ``(n,)``."""
    a = attributions.detach().cpu().numpy() if torch.is_tensor(attributions) else np.asarray(attributions)
    m = feature_mask.cpu().numpy() if torch.is_tensor(feature_mask) else np.asarray(feature_mask)
    m = np.broadcast_to(m, a.shape).ravel()
    return np.bincount(m, weights=a.ravel().astype(np.float64), minlength=int(m.max()) + 1)


# --------------------------------------------------------------------------
# Faithfulness


def _top_k(fraction: float, n: int) -> int:
    """How many of ``n`` features the top ``fraction`` is: ``ceil(fraction * n)``, float noise rounded away."""
    return min(n, int(math.ceil(round(fraction * n, 9))))


def _probabilities(forward_func: Callable, batch: list[torch.Tensor], target: int, batch_size: int) -> np.ndarray:
    out = _evaluate(forward_func, batch, batch_size)
    return torch.softmax(out.double(), -1)[:, int(target)].cpu().numpy()


def _with_baseline(x: torch.Tensor, base: torch.Tensor, mask: torch.Tensor, removed) -> torch.Tensor:
    """``x`` with every element of the features ``removed`` (ids in ``mask``) replaced by the baseline's."""
    ids = torch.as_tensor(np.asarray(sorted(removed), dtype=np.int64), dtype=mask.dtype, device=mask.device)
    return torch.where(torch.isin(mask, ids), base, x)


def _removal_inputs(inputs: torch.Tensor, scores, feature_mask, fractions, baselines, keep: bool) -> list:
    """One input per fraction ``f``: the top ``ceil(f * n)`` features by score replaced by the baseline (``keep``
    False: deletion), or every other feature replaced (``keep`` True: insertion)."""
    x = inputs.detach()
    base = _baseline_like(baselines, x)
    mask = torch.as_tensor(feature_mask, device=x.device).expand_as(x)
    scores = np.asarray(scores, dtype=np.float64).ravel()
    order = np.argsort(-scores, kind="stable")  # highest first; ties: lower feature id first
    batch = []
    for f in fractions:
        k = _top_k(f, len(scores))
        batch.append(_with_baseline(x, base, mask, order[k:] if keep else order[:k]))
    return batch


#: Fractions of features removed or kept by default (the AOPC grid of DeYoung et al. 2020 uses 1, 5, 10, 20, 50 %).
FRACTIONS = (0.1, 0.2, 0.3, 0.5)


def comprehensiveness(
    forward_func: Callable,
    inputs: torch.Tensor,
    scores: np.ndarray,
    feature_mask: torch.Tensor,
    target: int,
    fractions: Sequence[float] = FRACTIONS,
    baselines: float | torch.Tensor | None = 0.0,
    batch_size: int = 8,
) -> np.ndarray:
    """Comprehensiveness (DeYoung et al. 2020): ``p(x) - p(x without its top-k features)`` for each fraction.

    Parameters
    ----------
    forward_func : callable
        Returns logits ``(B, C)``; the metric uses ``softmax(logits)[:, target]``.
    inputs : torch.Tensor
        One example, shape ``(1, ...)``.
    scores : array, shape (n_features,)
        Attribution score of each feature (higher = more important).
    feature_mask : tensor
        Feature id ``0 .. n_features - 1`` of each element, broadcastable to ``inputs``.
    target : int
        The class explained.
    fractions : sequence of float
        For each fraction ``f``, the top ``ceil(f * n_features)`` features by score (ties: lower id first) are
        replaced by the baseline.
    baselines : float or tensor
        Replacement values.

    Returns
    -------
    np.ndarray
        float64, one value per fraction; their mean is the AOPC of the deletion curve over those fractions.
        High values: removing what the method ranks first hurts the prediction (a faithful ranking).
    """
    batch = [inputs.detach()] + _removal_inputs(inputs, scores, feature_mask, fractions, baselines, keep=False)
    p = _probabilities(forward_func, batch, target, batch_size)
    return p[0] - p[1:]


def sufficiency(
    forward_func: Callable,
    inputs: torch.Tensor,
    scores: np.ndarray,
    feature_mask: torch.Tensor,
    target: int,
    fractions: Sequence[float] = FRACTIONS,
    baselines: float | torch.Tensor | None = 0.0,
    batch_size: int = 8,
) -> np.ndarray:
    """Sufficiency (DeYoung et al. 2020): ``p(x) - p(only the top-k features kept)``; low values are better.

    Same arguments as :func:`comprehensiveness`; everything outside the top ``ceil(f * n_features)`` features is
    replaced by the baseline.
    """
    batch = [inputs.detach()] + _removal_inputs(inputs, scores, feature_mask, fractions, baselines, keep=True)
    p = _probabilities(forward_func, batch, target, batch_size)
    return p[0] - p[1:]


def deletion_curve(
    forward_func: Callable,
    inputs: torch.Tensor,
    scores: np.ndarray,
    feature_mask: torch.Tensor,
    target: int,
    fractions: Sequence[float] | None = None,
    baselines: float | torch.Tensor | None = 0.0,
    batch_size: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """Target probability as the top-scored features are deleted (replaced by the baseline), most important first.

    Parameters
    ----------
    fractions : sequence of float, optional
        Fractions of features deleted (default: 0, 0.1, ..., 1); fraction 0 is the intact input.

    Returns
    -------
    fractions, probabilities : np.ndarray
        The curve; its area (``np.trapezoid``) is small for a faithful ranking (Samek et al. 2017).
    """
    fr = np.linspace(0, 1, 11) if fractions is None else np.asarray(fractions, dtype=np.float64)
    batch = _removal_inputs(inputs, scores, feature_mask, fr, baselines, keep=False)
    return fr, _probabilities(forward_func, batch, target, batch_size)


def insertion_curve(
    forward_func: Callable,
    inputs: torch.Tensor,
    scores: np.ndarray,
    feature_mask: torch.Tensor,
    target: int,
    fractions: Sequence[float] | None = None,
    baselines: float | torch.Tensor | None = 0.0,
    batch_size: int = 8,
) -> tuple[np.ndarray, np.ndarray]:
    """Target probability as the top-scored features are inserted into the baseline, most important first.

    The mirror image of :func:`deletion_curve` (Petsiuk et al. 2018): at fraction ``f`` only the top
    ``ceil(f * n_features)`` features by score (ties: lower id first) keep their values and every other feature
    takes the baseline's, so fraction 0 is the baseline alone and fraction 1 the intact input. A faithful ranking
    makes the curve rise early.

    Parameters
    ----------
    forward_func : callable
        Returns logits ``(B, C)``; the curve is ``softmax(logits)[:, target]``.
    inputs : torch.Tensor
        One example, shape ``(1, ...)``.
    scores : array, shape (n_features,)
        Attribution score of each feature (higher = more important).
    feature_mask : tensor
        Feature id ``0 .. n_features - 1`` of each element, broadcastable to ``inputs`` (every element belongs
        to a feature: to leave part of the input untouched, wrap ``forward_func`` so that it sees only the rest).
    target : int
        The class explained.
    fractions : sequence of float, optional
        Fractions of features inserted (default: 0, 0.1, ..., 1).
    baselines : float or tensor
        Values of the features not (yet) inserted.
    batch_size : int
        Inputs per forward pass.

    Returns
    -------
    fractions, probabilities : np.ndarray
        The curve, float64. ``probabilities[i]`` equals ``p(x) - sufficiency(...)`` at ``fractions[i]``.
    """
    fr = np.linspace(0, 1, 11) if fractions is None else np.asarray(fractions, dtype=np.float64)
    batch = _removal_inputs(inputs, scores, feature_mask, fr, baselines, keep=True)
    return fr, _probabilities(forward_func, batch, target, batch_size)


def perturbation_curves(
    forward_func: Callable,
    inputs: torch.Tensor,
    rankings: dict[str, np.ndarray],
    feature_mask: torch.Tensor,
    target: int,
    fractions: Sequence[float] | None = None,
    baselines: float | torch.Tensor | None = 0.0,
    batch_size: int = 8,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Deletion and insertion curves of several rankings of one example, each distinct input evaluated once.

    The result equals :func:`deletion_curve` and :func:`insertion_curve` called for every ranking, but an input
    that several curves share is passed to the model once: deleting the top ``k`` of one ranking and inserting
    all but the last ``n - k`` of another can give the same input, two rankings often agree on their first
    features, and with few features several fractions round to the same ``k``. Each input is identified by the
    set of features it replaces with the baseline.

    Parameters
    ----------
    rankings : dict
        Name -> scores, shape ``(n_features,)`` (higher = more important), all over the same features.
    fractions : sequence of float, optional
        Fractions of features deleted (deletion curve) or inserted (insertion curve); default 0, 0.1, ..., 1.
    forward_func, inputs, feature_mask, target, baselines, batch_size
        As in :func:`deletion_curve`.

    Returns
    -------
    dict
        Name -> ``(deletion, insertion)``, two float64 arrays with one probability per fraction.

    Raises
    ------
    ValueError
        Rankings of different lengths, or none.
    """
    fr = np.linspace(0, 1, 11) if fractions is None else np.asarray(fractions, dtype=np.float64)
    sizes = {np.asarray(s).size for s in rankings.values()}
    if len(sizes) != 1:
        raise ValueError(f"Every ranking must score the same features; got sizes {sorted(sizes)}.")
    n = sizes.pop()
    x = inputs.detach()
    base = _baseline_like(baselines, x)
    mask = torch.as_tensor(feature_mask, device=x.device).expand_as(x)
    slots: dict[frozenset, int] = {}  # replaced features -> row of the batch
    rows: dict[str, tuple[list[int], list[int]]] = {}
    for name, s in rankings.items():
        order = np.argsort(-np.asarray(s, dtype=np.float64).ravel(), kind="stable")
        deleted, inserted = [], []
        for f in fr:
            k = _top_k(f, n)
            for removed, out in ((frozenset(order[:k].tolist()), deleted), (frozenset(order[k:].tolist()), inserted)):
                out.append(slots.setdefault(removed, len(slots)))
        rows[name] = (deleted, inserted)
    batch = [_with_baseline(x, base, mask, removed) for removed in slots]
    p = _probabilities(forward_func, batch, target, batch_size)
    return {name: (p[d], p[i]) for name, (d, i) in rows.items()}


def aopc(values: Sequence[float]) -> float:
    """Area over the perturbation curve: the mean of comprehensiveness (or sufficiency) values over the fractions."""
    return float(np.mean(values))


# --------------------------------------------------------------------------
# Sanity checks


def rank_correlation(a: np.ndarray | torch.Tensor, b: np.ndarray | torch.Tensor) -> float:
    """Spearman rank correlation of two attribution maps (flattened; ties get their average rank).

    The statistic of the model-randomisation test (Adebayo et al. 2018): attributions of a trained and a
    randomised model should *not* be rank-correlated. NaN when either map is constant.
    """
    a = a.detach().cpu().numpy() if torch.is_tensor(a) else np.asarray(a)
    b = b.detach().cpu().numpy() if torch.is_tensor(b) else np.asarray(b)
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"The maps differ in size: {a.size} and {b.size}.")
    ra, rb = average_ranks(a) - (a.size + 1) / 2, average_ranks(b) - (b.size + 1) / 2
    den = math.sqrt(float(ra @ ra) * float(rb @ rb))
    return float(ra @ rb / den) if den > 0 else float("nan")


# --------------------------------------------------------------------------
# wav2vec 2.0-family classifiers cut at the CNN front end


def feature_encoder_split(model) -> tuple[Callable, Callable]:  # noqa: ANN001
    """Cut a wav2vec 2.0 / HuBERT ``*ForSequenceClassification`` model after its convolutional front end.

    Returns
    -------
    features : callable
        ``features(input_values)``: the feature encoder's output, shape ``(B, T', C)`` (the input of the feature
        projection).
    head : callable
        ``head(features)``: the rest of the model (feature projection, transformer, pooling, classifier), so that
        ``head(features(x))`` equals ``model(x).logits`` for unpadded inputs.
    """
    base = model.base_model
    cfg = model.config
    parts = ("feature_extractor", "feature_projection")
    if not (all(hasattr(base, p) for p in parts) and hasattr(model, "classifier")):
        raise TypeError(f"{type(model).__name__} is not a wav2vec 2.0-style sequence classifier.")

    def features(input_values: torch.Tensor) -> torch.Tensor:
        return base.feature_extractor(input_values).transpose(1, 2)

    def head(feats: torch.Tensor) -> torch.Tensor:
        out = base.feature_projection(feats)
        hidden = out[0] if isinstance(out, tuple) else out
        weighted = bool(getattr(cfg, "use_weighted_layer_sum", False))
        enc = base.encoder(hidden, output_hidden_states=weighted)
        if weighted:
            stacked = torch.stack(enc.hidden_states, dim=1)
            w = torch.softmax(model.layer_weights, dim=-1)
            hidden = (stacked * w.view(-1, 1, 1)).sum(1)
        else:
            hidden = enc.last_hidden_state
            if getattr(base, "adapter", None) is not None:
                hidden = base.adapter(hidden)
        return model.classifier(model.projector(hidden).mean(1))

    return features, head


# --------------------------------------------------------------------------
# Whisper-style transcribers: attribution over the log-mel input

#: What :func:`spectrogram_attributions` computes: the signed gradient, saliency ``|gradient|``, input x gradient,
#: Integrated Gradients.
SPECTROGRAM_METHODS = ("gradient", "saliency", "input_x_gradient", "integrated_gradients")


def log_mel_input(processor, waveform: np.ndarray, sample_rate: int = 16000) -> torch.Tensor:  # noqa: ANN001
    """A Whisper-style model's input for one waveform, time first: ``(1, T, n_mels)``, float32.

    The feature extractor's ``input_features`` ``(1, n_mels, T)`` (log-mel frames every ``hop_length`` samples,
    10 ms for Whisper, over the model's fixed window, the part after the audio padded) transposed so that time is
    axis 1, as everywhere in this module: :func:`pool_to_words` with ``rate = sample_rate / hop_length`` then sums
    a map over the mel bands and the frames of each word. Frame ``n`` of the centred STFT is centred on sample
    ``n * hop_length``; the module's convention reads it as ``[n, n + 1)`` hops, half a hop (5 ms) later, less than
    the alignments' precision.
    """
    fe = getattr(processor, "feature_extractor", processor)
    feats = fe(np.asarray(waveform), sampling_rate=sample_rate, return_tensors="pt").input_features
    return feats.transpose(1, 2).contiguous()


def silence_baseline(features: torch.Tensor) -> torch.Tensor:
    """The log-mel of silence *in this utterance*: every element set to the map's floor, shape of ``features``.

    Whisper's feature extractor clips the log-mel 8 log10 units (80 dB) below the utterance's loudest element and
    then rescales, so digital silence, the padding of the window included, sits at the map's minimum, a level that
    depends on the utterance. The extractor's output for a waveform of zeros alone is lower (its own floor): a
    different input, and a different baseline. With this one, Integrated Gradients gives the padded part of the
    window exactly zero (the factor ``x - x'`` vanishes there).
    """
    flat = features.detach().reshape(len(features), -1)
    return flat.min(1).values.reshape(-1, *([1] * (features.dim() - 1))).expand_as(features).contiguous()


def transcript_word_target(model, tokenizer, text: str, words: int | Sequence[int],  # noqa: ANN001
                           prompt: Sequence[int] | None = None, output: str = "logit") -> Callable:
    """What a transcriber writes for some words of ``text``, as a function of its log-mel input.

    The decoder is teacher-forced on ``prompt`` followed by the tokens of ``text``; the target is the sum, over the
    tokens of the chosen words, of each token's logit (``output="logit"``) or log-probability (``"log_prob"``) at
    the position that predicts it. The decoder reads the words before them as text, so the audio reaches the
    target only through cross-attention: an attribution over the input says which audio the model uses to write
    those words. Logits do not saturate as log-probabilities near 0 do.

    Parameters
    ----------
    model : WhisperForConditionalGeneration
        A Whisper-style encoder-decoder.
    tokenizer
        Its tokenizer (``processor.tokenizer``); ``text``'s tokens are grouped into words by
        :func:`course.context_mixing.token_word_spans`, which must find the words of ``text.split()``.
    text : str
        The transcript, e.g. the corpus's reference ``u.text``.
    words : int or sequence of int
        0-based indices into ``text.split()`` (``u.words`` of the corpus: the same words).
    prompt : sequence of int, optional
        Decoder tokens before the text (default: ``[decoder_start_token_id]``, as the shipped model was trained;
        a multilingual Whisper needs its language and task tokens too).
    output : {"logit", "log_prob"}

    Returns
    -------
    callable
        ``forward_func(features)``: features ``(B, T, n_mels)`` (time first, :func:`log_mel_input`) to ``(B,)``,
        for :func:`saliency`, :func:`integrated_gradients`, ... with ``target=None``.

    Raises
    ------
    ValueError
        The tokens do not group into the words of ``text``; a word index out of range; an unknown ``output``.
    """
    if output not in ("logit", "log_prob"):
        raise ValueError(f"output must be 'logit' or 'log_prob', got {output!r}.")
    if prompt is None:
        prompt = [model.config.decoder_start_token_id]
    ids = [int(i) for i in prompt] + list(tokenizer(text, add_special_tokens=False).input_ids)
    found, spans = token_word_spans(tokenizer, ids)
    if found != text.split():
        raise ValueError(f"The tokens of {text!r} group into the words {found}, not the words of the text.")
    chosen = [int(words)] if isinstance(words, (int, np.integer)) else [int(w) for w in words]
    if not chosen or any(not 0 <= w < len(spans) for w in chosen):
        raise ValueError(f"Word indices {chosen} are not among the {len(spans)} words of {text!r}.")
    positions = [p for w in chosen for p in range(*spans[w])]
    device = model_device(model)
    decoder_ids = torch.tensor([ids], device=device)
    predicting = torch.tensor(positions, device=device) - 1  # the logits at position p - 1 predict token p
    tokens = decoder_ids[0, positions]

    def forward_func(features: torch.Tensor) -> torch.Tensor:
        logits = model(input_features=features.transpose(1, 2),
                       decoder_input_ids=decoder_ids.expand(len(features), -1)).logits[:, predicting]
        if output == "log_prob":
            logits = torch.log_softmax(logits, -1)
        return logits.gather(2, tokens.expand(len(features), -1)[..., None])[..., 0].sum(1)

    return forward_func


def spectrogram_attributions(
    model,  # noqa: ANN001
    processor,  # noqa: ANN001
    waveform: np.ndarray,
    text: str,
    words: int | Sequence[int],
    method: str = "integrated_gradients",
    baselines: str | float | torch.Tensor = "silence",
    n_steps: int = 8,
    internal_batch_size: int | None = None,
    output: str = "logit",
    return_convergence_delta: bool = False,
) -> np.ndarray | tuple[np.ndarray, float]:
    """Attribution of what a Whisper-style transcriber writes for some words, over its log-mel input.

    The target is :func:`transcript_word_target` (teacher-forced on the reference ``text``); the input is
    :func:`log_mel_input`; the methods are this module's own (:func:`saliency`, :func:`input_x_gradient`,
    :func:`integrated_gradients`), so they agree with captum's on the same function.

    Parameters
    ----------
    model, processor
        A ``WhisperForConditionalGeneration`` and its processor (feature extractor and tokenizer).
    waveform : np.ndarray
        The audio, 16 kHz mono.
    text, words
        The transcript and the indices of the words explained (see :func:`transcript_word_target`).
    method : str
        One of :data:`SPECTROGRAM_METHODS`: ``"gradient"`` (signed), ``"saliency"`` (absolute gradient),
        ``"input_x_gradient"`` or ``"integrated_gradients"``.
    baselines : "silence", "zeros", float or tensor
        Integrated Gradients' reference input: ``"silence"`` is :func:`silence_baseline` (the utterance's own
        floor, the value of the padding), ``"zeros"`` an all-zero feature array (what input x gradient implicitly
        compares with), or a number or a tensor ``(1, T, n_mels)``. Ignored by the other methods.
    n_steps, internal_batch_size
        Points on the path and path points per pass, as in :func:`integrated_gradients` (Gauss-Legendre).
    output : {"logit", "log_prob"}
        What is explained, per token (see :func:`transcript_word_target`).
    return_convergence_delta : bool
        Integrated Gradients only: also return ``sum(A) - (F(x) - F(x'))``.

    Returns
    -------
    attributions : np.ndarray
        float64, shape ``(T, n_mels)``: time (10 ms log-mel frames over the whole window) by mel band. Pool it
        to words with ``pool_to_words(a, u.words, rate=100)`` (for a 160-sample hop at 16 kHz), or to the
        encoder's 20 ms frames with ``pool_features(a.sum(1)[None], chunk_mask(len(a), 2))``.
    delta : float
        Only with ``return_convergence_delta``.
    """
    if method not in SPECTROGRAM_METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of {SPECTROGRAM_METHODS}.")
    if return_convergence_delta and method != "integrated_gradients":
        raise ValueError("Only Integrated Gradients has a convergence delta.")
    forward_func = transcript_word_target(model, processor.tokenizer, text, words, output=output)
    x = log_mel_input(processor, waveform).to(model_device(model))
    delta = None
    if method in ("gradient", "saliency"):
        a = saliency(forward_func, x, None, abs=method == "saliency")
    elif method == "input_x_gradient":
        a = input_x_gradient(forward_func, x, None)
    else:
        if isinstance(baselines, str):
            if baselines not in ("silence", "zeros"):
                raise ValueError(f"baselines must be 'silence', 'zeros', a number or a tensor, not {baselines!r}.")
            baselines = silence_baseline(x) if baselines == "silence" else 0.0
        a, delta = integrated_gradients(forward_func, x, baselines, None, n_steps,
                                        internal_batch_size=internal_batch_size, return_convergence_delta=True)
    a = a[0].detach().cpu().numpy().astype(np.float64)
    return (a, float(delta[0])) if return_convergence_delta else a
