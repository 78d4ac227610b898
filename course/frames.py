"""Converting between seconds and model frames, and pooling frames into segments.

wav2vec 2.0, HuBERT and Whisper's encoder all emit one vector per 20 ms.
The course uses one convention everywhere:

* frame ``n`` stands for the time span ``[n * 0.02, (n + 1) * 0.02)`` s and
  its centre is ``(n + 0.5) * 0.02`` s;
* the frame that *contains* a time ``t`` is ``floor(t / 0.02)``;
* a segment ``[start, end)`` owns the frames whose **centre** lies inside it,
  i.e. frames ``ceil(start / 0.02 - 0.5)`` up to (not including)
  ``ceil(end / 0.02 - 0.5)``. Adjacent segments therefore never share a
  frame. A segment too short to contain any centre gets the single frame
  that contains its midpoint, so every segment has at least one frame.
* :func:`frame_labels` labels each frame by the segment owning its centre;
  a segment that owns no centre (too short, or starting after the last
  centre) takes its one frame from the neighbour that owns it, so no segment
  vanishes from the frame labels.

(wav2vec 2.0's convolutional front end gives frame ``n`` the receptive field
of samples ``[320 n, 320 n + 400)``, centred 2.5 ms later than our nominal
centre: close enough at 20 ms resolution, and the same for every model.)
"""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from course.textgrid import Interval

#: Duration of one model frame in seconds.
FRAME_SECONDS = 0.02

_EPS_DIGITS = 9  # round away float noise such as 0.58 / 0.02 = 28.999999999999996


def time_to_frame(t: float, frame_seconds: float = FRAME_SECONDS) -> int:
    """Index of the frame that contains time ``t`` (seconds)."""
    if t < 0:
        raise ValueError(f"Time must be >= 0, got {t}.")
    return int(math.floor(round(t / frame_seconds, _EPS_DIGITS)))


def segment_frames(
    start: float, end: float, n_frames: int | None = None, frame_seconds: float = FRAME_SECONDS
) -> range:
    """Frames owned by the segment ``[start, end)`` (frames whose centre lies inside it).

    Parameters
    ----------
    start, end : float
        Segment boundaries in seconds, ``start < end``.
    n_frames : int, optional
        Number of frames of the model output; indices are clipped to it.
    frame_seconds : float
        Frame step.

    Returns
    -------
    range
        Never empty: a segment shorter than a frame gets the frame containing
        its midpoint.
    """
    if not end > start:
        raise ValueError(f"Segment end must be after its start, got [{start}, {end}).")
    first = math.ceil(round(start / frame_seconds - 0.5, _EPS_DIGITS))
    stop = math.ceil(round(end / frame_seconds - 0.5, _EPS_DIGITS))
    if stop <= first:
        first = time_to_frame((start + end) / 2, frame_seconds)
        stop = first + 1
    if n_frames is not None:
        if n_frames <= 0:
            raise ValueError("n_frames must be positive.")
        first, stop = min(first, n_frames - 1), min(stop, n_frames)
        stop = max(stop, first + 1)
    return range(first, stop)


def _in_frames(t: float, frame_seconds: float) -> float:
    """Time ``t`` in frame units, rounded so that a time on a frame edge or centre lands exactly on it."""
    return round(t / frame_seconds, _EPS_DIGITS)


def starts_after_end(start: float, n_frames: int, frame_seconds: float = FRAME_SECONDS) -> bool:
    """Whether a segment starting at ``start`` seconds starts at or after the end of the last of ``n_frames`` frames.

    Such a segment has no frame: :func:`segment_frames` would clip it onto the last frame, so callers leave it out
    (:func:`frame_labels`) or refuse it (the word spans of context mixing and attribution).
    """
    return _in_frames(start, frame_seconds) >= n_frames


def frame_labels(
    intervals: Sequence[Interval], n_frames: int, frame_seconds: float = FRAME_SECONDS, silence: str = ""
) -> list[str]:
    """Label of each frame from non-overlapping intervals.

    Parameters
    ----------
    intervals : sequence of Interval
        Segments in seconds (phones or words), in any order.
    n_frames : int
        Number of frames of the model output.
    frame_seconds : float
        Frame step.
    silence : str
        Label of the frames no interval owns.

    Returns
    -------
    list of str
        ``labels[n]`` is the label of the interval that contains the centre
        ``(n + 0.5) * frame_seconds`` of frame ``n`` (start inclusive, end
        exclusive), ``silence`` where there is none. An interval that starts
        before the end of the last frame but contains none of the ``n_frames``
        centres (shorter than a frame, or starting after the last centre) gets
        the single frame :func:`segment_frames` gives it, overriding the
        neighbour that owns that frame: no interval vanishes from the labels.
        Intervals starting at or after ``n_frames * frame_seconds`` are
        ignored.
    """
    if n_frames < 0:
        raise ValueError(f"n_frames must be >= 0, got {n_frames}.")
    labels = [silence] * n_frames
    late = []  # intervals that own no frame centre: applied last, so they keep their one frame
    for iv in intervals:
        if starts_after_end(iv.start, n_frames, frame_seconds):
            continue
        frames = segment_frames(iv.start, iv.end, n_frames, frame_seconds)
        if not _in_frames(iv.start, frame_seconds) <= frames.start + 0.5 < _in_frames(iv.end, frame_seconds):
            late.append((iv.label, frames))  # the short rule or the clipping gave it a frame it does not own
            continue
        for n in frames:
            labels[n] = iv.label
    for label, frames in late:
        for n in frames:
            labels[n] = label
    return labels


def num_frames(n_samples: int, kernel: int = 400, stride: int = 320) -> int:
    """Frames a wav2vec 2.0-style front end (25 ms window, 20 ms hop at 16 kHz) emits."""
    return max(0, (int(n_samples) - kernel) // stride + 1)


def pool_segments(
    features: np.ndarray,
    intervals: Sequence[Interval],
    frame_seconds: float = FRAME_SECONDS,
    reduce: str = "mean",
) -> np.ndarray:
    """Pool frame vectors into one vector per segment.

    Parameters
    ----------
    features : array, shape (n_frames, dim)
        One vector per frame (e.g. one layer's hidden states).
    intervals : sequence of Interval
        Segments in seconds (words or phones); silence intervals (empty
        label) are pooled too if given, so filter them first if unwanted.
    reduce : {"mean", "max", "first", "last", "centre"}
        How to combine the frames a segment owns (see :func:`segment_frames`).

    Returns
    -------
    array, shape (len(intervals), dim)
    """
    x = np.asarray(features)
    if x.ndim != 2:
        raise ValueError(f"features must have shape (n_frames, dim), got {x.shape}.")
    ops = {
        "mean": lambda f: f.mean(axis=0),
        "max": lambda f: f.max(axis=0),
        "first": lambda f: f[0],
        "last": lambda f: f[-1],
        "centre": lambda f: f[len(f) // 2],
    }
    if reduce not in ops:
        raise ValueError(f"reduce must be one of {sorted(ops)}, got {reduce!r}.")
    out = np.empty((len(intervals), x.shape[1]), dtype=x.dtype)
    for i, iv in enumerate(intervals):
        frames = segment_frames(iv.start, iv.end, len(x), frame_seconds)
        out[i] = ops[reduce](x[frames.start:frames.stop])
    return out


def conv_receptive_field(kernels: Sequence[int], strides: Sequence[int]) -> tuple[int, int]:
    """Receptive field and hop, in input samples, of a stack of 1-D convolutions without padding.

    Parameters
    ----------
    kernels, strides : sequence of int
        Kernel size and stride of each layer, input side first (e.g. a
        wav2vec 2.0 config's ``conv_kernel`` and ``conv_stride``).

    Returns
    -------
    (receptive_field, hop) : tuple of int
        Output frame ``n`` sees input samples ``[hop * n, hop * n + receptive_field)``.
        wav2vec 2.0 / HuBERT: ``(400, 320)``, i.e. 25 ms every 20 ms at 16 kHz.
    """
    if len(kernels) != len(strides) or len(kernels) == 0:
        raise ValueError("Give one kernel size and one stride per layer (at least one layer).")
    if min(kernels) < 1 or min(strides) < 1:
        raise ValueError("Kernel sizes and strides must be positive.")
    field, hop = 1, 1
    for k, s in zip(kernels, strides):
        field += (int(k) - 1) * hop
        hop *= int(s)
    return field, hop


#: Columns of :func:`duration_stats`.
DURATION_COLUMNS = ("count", "mean", "median", "std")


def duration_stats(utterances: Iterable, tier: str = "phones") -> pd.DataFrame:
    """Count, mean, median and standard deviation of segment durations per label, in milliseconds.

    Parameters
    ----------
    utterances : iterable
        Records with a ``phones`` (or ``words``) list of :class:`Interval`, such
        as :class:`course.corpus.Utterance`. Intervals with an empty label
        (silence) are skipped.
    tier : {"phones", "words"}
        Which alignment to summarise.

    Returns
    -------
    pandas.DataFrame
        One row per label, index sorted (named ``"phone"`` or ``"word"``);
        columns ``count`` (int), ``mean``, ``median`` and ``std`` (population
        standard deviation, ``ddof=0``: 0 for a label seen once) of
        ``end - start`` in ms. Empty, with these columns, if there are no segments.
    """

    if tier not in ("phones", "words"):
        raise ValueError(f"tier must be 'phones' or 'words', got {tier!r}.")
    durations: dict[str, list[float]] = {}
    for utt in utterances:
        for iv in getattr(utt, tier):
            if iv.label:
                durations.setdefault(iv.label, []).append(1000.0 * (iv.end - iv.start))
    rows = {label: (len(d), float(np.mean(d)), float(np.median(d)), float(np.std(d)))
            for label, d in sorted(durations.items())}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(DURATION_COLUMNS))
    table = table.astype({"count": int, "mean": float, "median": float, "std": float})
    table.index.name = tier[:-1]
    return table
