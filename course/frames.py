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

(wav2vec 2.0's convolutional front end gives frame ``n`` the receptive field
of samples ``[320 n, 320 n + 400)``, centred 2.5 ms later than our nominal
centre: close enough at 20 ms resolution, and the same for every model.)
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from course.textgrid import Interval

#: Duration of one model frame in seconds.
FRAME_SECONDS = 0.02

_EPS_DIGITS = 9  # round away float noise such as 0.58 / 0.02 = 28.999999999999996


def time_to_frame(t: float, frame_seconds: float = FRAME_SECONDS) -> int:
    """Index of the frame that contains time ``t`` (seconds)."""
    if t < 0:
        raise ValueError(f"Time must be >= 0, got {t}.")
    return int(math.floor(round(t / frame_seconds, _EPS_DIGITS)))


def frame_to_time(n: int, frame_seconds: float = FRAME_SECONDS) -> float:
    """Start time (seconds) of frame ``n``; its centre is half a frame later."""
    return n * frame_seconds


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


def frame_labels(
    intervals: Sequence[Interval], n_frames: int, frame_seconds: float = FRAME_SECONDS, silence: str = ""
) -> list[str]:
    """Label of each frame from non-overlapping intervals (``silence`` where none owns it)."""
    labels = [silence] * n_frames
    for iv in intervals:
        if iv.start >= n_frames * frame_seconds:
            continue
        for n in segment_frames(iv.start, iv.end, n_frames, frame_seconds):
            labels[n] = iv.label
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
