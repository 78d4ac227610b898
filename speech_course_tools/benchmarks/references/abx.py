"""ABX error by the book: an explicit loop over every triplet, no caching, no vectorisation.

Conventions (those of ``course.abx``, docs/methods "ABX discriminability"):

* frame distance: both frames L2-normalised (an all-zero frame stays zero),
  ``arccos(clip(a . b, -1, 1)) / pi``;
* item distance: dynamic time warping with the moves ``(i-1, j)``,
  ``(i, j-1)``, ``(i-1, j-1)``, every cell of the path adding its frame
  distance; the distance is the optimal path's total cost divided by its number
  of cells, the shortest path winning among paths of equal cost;
* triplet ``(A, B, X)``: ``X`` of ``A``'s phone, ``B`` of another phone, all
  three in the same context; score 1 if ``d(X, A) < d(X, B)``, 0.5 if equal;
* within speaker: ``A``, ``B``, ``X`` from one speaker and ``X != A``; across
  speakers: ``A`` and ``B`` from one speaker, ``X`` from another;
* macro-average: mean score per cell (context, speaker of A and B, speaker of
  X, phone of A, phone of B); mean over the cells of each (speaker, phone of A,
  phone of B); mean over speakers per phone pair; mean over pairs;
  error = 1 - that mean.

Every triplet recomputes its two DTW distances with a plain Python double loop,
which is what makes this the slow, obviously-correct reference.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Sequence

import numpy as np


def unit(frame: np.ndarray) -> np.ndarray:
    """The frame divided by its Euclidean norm (a zero frame is returned unchanged)."""
    f = np.asarray(frame, dtype=np.float64)
    norm = math.sqrt(float(np.dot(f, f)))
    return f / norm if norm > 0 else f


def frame_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Angular distance in units of pi between two frames."""
    dot = float(np.dot(unit(a), unit(b)))
    return math.acos(min(1.0, max(-1.0, dot))) / math.pi


def dtw(x: np.ndarray, y: np.ndarray) -> float:
    """Average-cost DTW distance between two items (frames (n, dim) and (m, dim)), cell by cell."""
    n, m = len(x), len(y)
    cost = [[frame_distance(x[i], y[j]) for j in range(m)] for i in range(n)]
    # best (total cost, number of cells) of a path from (0, 0) to (i, j); tuples compare cost first, then length
    best: list[list[tuple[float, int]]] = [[(math.inf, 0)] * m for _ in range(n)]
    for i in range(n):
        for j in range(m):
            if i == 0 and j == 0:
                best[i][j] = (cost[0][0], 1)
                continue
            previous = [best[p][q] for p, q in ((i - 1, j), (i, j - 1), (i - 1, j - 1)) if p >= 0 and q >= 0]
            total, cells = min(previous)
            best[i][j] = (cost[i][j] + total, cells + 1)
    total, cells = best[n - 1][m - 1]
    return total / cells


def triplets(phones: Sequence[str], speakers: Sequence[str], contexts: Sequence[str],
             mode: str) -> list[tuple[tuple, int, int, int]]:
    """Every ABX triplet of a set of items: ``(cell, a, b, x)`` with item indices.

    ``cell`` is ``(context, speaker of A and B, speaker of X, phone of A, phone of B)``.
    """
    if mode not in ("within", "across"):
        raise ValueError(f"mode must be 'within' or 'across', got {mode!r}.")
    n = len(phones)
    out = []
    for a in range(n):
        for b in range(n):
            if phones[b] == phones[a] or speakers[b] != speakers[a] or contexts[b] != contexts[a]:
                continue
            for x in range(n):
                if phones[x] != phones[a] or contexts[x] != contexts[a]:
                    continue
                if mode == "within" and (speakers[x] != speakers[a] or x == a):
                    continue
                if mode == "across" and speakers[x] == speakers[a]:
                    continue
                cell = (contexts[a], speakers[a], speakers[x], phones[a], phones[b])
                out.append((cell, a, b, x))
    return out


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def abx_error(features: Sequence[np.ndarray], phones: Sequence[str], speakers: Sequence[str],
              contexts: Sequence[str] | None = None, mode: str = "within") -> dict:
    """ABX error of phone items by an explicit triplet loop.

    Parameters
    ----------
    features : sequence of arrays (n_frames_i, dim)
        The frames of each item.
    phones, speakers : sequence of str
        Category and speaker of each item.
    contexts : sequence of str, optional
        Context of each item (default: one context for all).
    mode : {"within", "across"}

    Returns
    -------
    dict
        ``error`` (float), ``by_pair`` ({(a, b): error}), ``cells`` ({cell: (mean score, n_triplets)}),
        ``n_triplets`` (int).
    """
    ctx = list(contexts) if contexts is not None else [""] * len(phones)
    scores: dict[tuple, list[float]] = defaultdict(list)
    for cell, a, b, x in triplets(list(phones), list(speakers), ctx, mode):
        dxa, dxb = dtw(features[x], features[a]), dtw(features[x], features[b])
        scores[cell].append(1.0 if dxa < dxb else 0.5 if dxa == dxb else 0.0)
    if not scores:
        raise ValueError(f"These items form no {mode}-speaker triplet.")
    cells = {cell: (sum(s) / len(s), len(s)) for cell, s in scores.items()}
    per_speaker: dict[tuple, list[float]] = defaultdict(list)  # (speaker, a, b) -> cell means
    for (_, spk, _, pa, pb), (mean, _) in cells.items():
        per_speaker[(spk, pa, pb)].append(mean)
    per_pair: dict[tuple, list[float]] = defaultdict(list)  # (a, b) -> speaker means
    for (_, pa, pb), means in per_speaker.items():
        per_pair[(pa, pb)].append(_mean(means))
    by_pair = {pair: 1.0 - _mean(means) for pair, means in per_pair.items()}
    error = 1.0 - _mean([_mean(means) for means in per_pair.values()])
    return {"error": error, "by_pair": by_pair, "cells": cells, "n_triplets": sum(len(s) for s in scores.values())}
