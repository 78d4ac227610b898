"""ABX phone discriminability (ZeroSpeech / Libri-light conventions).

ABX asks whether a representation keeps phones apart without training a
probe (Schatz et al. 2013, "Evaluating speech features with the Minimal-Pair
ABX task"; the ZeroSpeech challenges; Kahn et al. 2020, "Libri-light"). For a
triplet of phone segments ``(A, B, X)`` with ``X`` of ``A``'s category and
``B`` of another, the representation is right when ``X`` is closer to ``A``
than to ``B``. The **ABX error** is one minus the mean of these scores.

Conventions (those of the Libri-light ABX tool, except where noted):

* **Items** are phone segments; an item's frames are those its interval owns
  under :func:`course.frames.segment_frames` (frame step 0.02 s for every
  course model; the Libri-light tool defaults to 0.01 s, wrong for wav2vec 2.0,
  HuBERT and Whisper). Its **context** is the previous and next phone
  (triphone ABX), ``#`` at an utterance edge or across a pause.
* **Frame distance**: frames are L2-normalised, ``d(a, b) = arccos(a . b) / pi``
  (angle in units of pi, in [0, 1]; the dot product is clipped to [-1, 1]).
  An all-zero frame stays zero, so it is at distance 0.5 from everything.
  Near 0 the arccos has a resolution of about 1e-8 (a frame with itself
  gives ~1e-9, not 0): only bitwise-identical computations tie exactly.
* **Item distance**: dynamic time warping with the moves ``(i-1, j)``,
  ``(i-1, j-1)``, ``(i, j-1)``, every cell on the path adding its frame
  distance, from ``(0, 0)`` to ``(n-1, m-1)``. The distance is the path's
  **average** cost: ``C* / len*``, where ``C*`` is the minimal total cost and
  ``len*`` the number of cells of the optimal path; among optimal paths of
  equal cost the one with the fewest cells is taken. (Libri-light breaks such
  ties by move order instead; with real-valued features exact ties are rare,
  and this rule keeps ``d(x, y) = d(y, x)``.)
* **Score** of a triplet: 1 if ``d(X, A) < d(X, B)``, 0.5 if equal, 0 otherwise.
* **Within speaker**: A, B and X from one speaker (X != A). **Across
  speakers**: A and B from one speaker, X from another. All items of a
  triplet share the context.
* **Aggregation** is a macro-average, never a mean over raw triplets: the
  triplets of each cell (context, speaker of A and B, [speaker of X], phone
  of A, phone of B) are averaged; then cells are averaged over contexts (and,
  across speakers, over X's speaker jointly with the context, as Libri-light
  does), then over speakers, then over the ordered phone pairs ``(a, b)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from course import stats
from course.features import Representation
from course.frames import segment_frames
from course.probing import aligned_features

#: ABX modes understood by :func:`abx_error`.
MODES = ("within", "across")
#: Context label at an utterance edge or across a pause.
BOUNDARY = "#"


@dataclass
class ABXItems:
    """Phone segments to discriminate.

    Attributes
    ----------
    features : list of np.ndarray
        Frames of each item, shape (n_frames_i, dim).
    phones, speakers, contexts : np.ndarray of str, shape (n_items,)
        Category, speaker and context (``"prev+next"``, or ``""`` for every
        item when contexts are ignored).
    """

    features: list[np.ndarray]
    phones: np.ndarray
    speakers: np.ndarray
    contexts: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.features)
        for name in ("phones", "speakers", "contexts"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries but there are {n} items.")
        dims = {f.shape[1] for f in self.features if np.ndim(f) == 2}
        if any(np.ndim(f) != 2 or len(f) == 0 for f in self.features) or len(dims) > 1:
            raise ValueError("Every item needs frames of shape (n_frames >= 1, dim), with one dim for all items.")

    def __len__(self) -> int:
        return len(self.features)

    def subset(self, index: np.ndarray) -> "ABXItems":
        """Items selected by a boolean mask or an index array."""
        idx = np.arange(len(self))[index]
        return ABXItems([self.features[i] for i in idx], self.phones[idx], self.speakers[idx], self.contexts[idx])


@dataclass
class ABXResult:
    """ABX error and its breakdown.

    Attributes
    ----------
    error : float
        Macro-averaged ABX error (0 = perfect, 0.5 = chance).
    by_pair : pd.DataFrame
        Error per ordered phone pair, columns ``a, b, error``.
    cells : pd.DataFrame
        One row per cell: ``context, speaker, x_speaker, a, b, score,
        n_triplets`` (``score`` = mean triplet score of the cell).
    mode : str
    n_triplets : int
    """

    error: float
    by_pair: pd.DataFrame
    cells: pd.DataFrame
    mode: str
    n_triplets: int


# --------------------------------------------------------------------------
# Items


def phone_items(
    features: Sequence[Representation | np.ndarray],
    utterances: Sequence,
    layer: int | None = None,
    context: bool = True,
    pause: float = 0.05,
) -> ABXItems:
    """One ABX item per phone segment of the utterances.

    Parameters
    ----------
    features, utterances, layer
        As for :func:`course.probing.aligned_features` (``Representation``
        from :func:`course.features.extract` with a layer, or per-utterance
        frame arrays such as MFCCs).
    context : bool
        Record each phone's (previous, next) phone for triphone ABX; if False
        every item gets the empty context, so any items may form a triplet.
    pause : float
        A gap of at least this many seconds between two phones is a boundary
        (context ``#``), like an utterance edge. Shorter gaps (stop closures,
        word joins in the synthetic corpus) are ignored.
    """
    feats, phones, speakers, contexts = [], [], [], []
    for frames, utt, step in aligned_features(features, utterances, layer):
        ivs = [iv for iv in utt.phones if iv.start < len(frames) * step]
        for k, iv in enumerate(ivs):
            owned = segment_frames(iv.start, iv.end, len(frames), step)
            feats.append(np.asarray(frames[owned.start:owned.stop], dtype=np.float64))
            phones.append(iv.label)
            speakers.append(utt.speaker)
            if context:
                prev = ivs[k - 1].label if k > 0 and iv.start - ivs[k - 1].end < pause else BOUNDARY
                nxt = ivs[k + 1].label if k + 1 < len(ivs) and ivs[k + 1].start - iv.end < pause else BOUNDARY
                contexts.append(f"{prev}+{nxt}")
            else:
                contexts.append("")
    if not feats:
        raise ValueError("No phone segments in these utterances.")
    return ABXItems(feats, np.asarray(phones), np.asarray(speakers), np.asarray(contexts))


def subsample_items(items: ABXItems, max_per_group: int, seed: int = 0) -> ABXItems:
    """Keep at most ``max_per_group`` items per (context, speaker, phone), drawn with ``seed``.

    The cost of ABX grows with the cube of the group sizes; the Libri-light
    tool caps groups the same way (its ``max_size_group``, 10 by default).
    """
    if max_per_group < 1:
        raise ValueError(f"max_per_group must be at least 1, got {max_per_group}.")
    rng = np.random.default_rng(seed)
    keys = pd.Series(list(zip(items.contexts, items.speakers, items.phones)))
    keep = []
    for _, idx in keys.groupby(keys).groups.items():
        idx = np.asarray(idx)
        keep.extend(idx if len(idx) <= max_per_group else rng.choice(idx, max_per_group, replace=False))
    return items.subset(np.sort(np.asarray(keep, dtype=int)))


# --------------------------------------------------------------------------
# Distances


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def frame_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angular distance between every frame of ``a`` (n, dim) and of ``b`` (m, dim), shape (n, m).

    ``arccos(clip(a_i . b_j, -1, 1)) / pi`` after L2-normalising every frame.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"Expected frames of shapes (n, dim) and (m, dim), got {a.shape} and {b.shape}.")
    return np.arccos(np.clip(_normalise(a) @ _normalise(b).T, -1.0, 1.0)) / np.pi


def dtw_batch(costs: np.ndarray) -> np.ndarray:
    """Average-cost DTW of a batch of equally shaped cost matrices, shape (B, n, m) -> (B,).

    See the module docstring for the moves and the path normalisation. The
    recursion runs over anti-diagonals ``i + j = k`` (n + m - 1 steps), each
    step vectorised over the cells of the diagonal and the batch (the batch is
    the last, contiguous axis of the tables).
    """
    c = np.asarray(costs, dtype=np.float64)
    if c.ndim != 3 or c.shape[1] == 0 or c.shape[2] == 0:
        raise ValueError(f"costs must have shape (batch, n >= 1, m >= 1), got {c.shape}.")
    bsz, n, m = c.shape
    cost = np.moveaxis(c, 0, -1)  # (n, m, B)
    # padded tables: cell (i, j) lives at (i + 1, j + 1); row and column 0 are an infinite border
    acc = np.full((n + 1, m + 1, bsz), np.inf)
    length = np.zeros((n + 1, m + 1, bsz), dtype=np.int64)
    acc[1, 1], length[1, 1] = cost[0, 0], 1
    never = np.iinfo(np.int64).max
    for k in range(1, n + m - 1):
        i = np.arange(max(0, k - m + 1), min(n, k + 1))
        j = k - i
        # predecessors (i-1, j), (i, j-1), (i-1, j-1) in padded coordinates
        up, left, diag = acc[i, j + 1], acc[i + 1, j], acc[i, j]
        best = np.minimum(np.minimum(up, left), diag)
        # among the predecessors of least cost, the shortest path
        shortest = np.where(up == best, length[i, j + 1], never)
        np.minimum(shortest, np.where(left == best, length[i + 1, j], never), out=shortest)
        np.minimum(shortest, np.where(diag == best, length[i, j], never), out=shortest)
        acc[i + 1, j + 1] = cost[i, j] + best
        length[i + 1, j + 1] = shortest + 1
    return acc[n, m] / length[n, m]


def dtw_distance(a: np.ndarray, b: np.ndarray) -> float:
    """ABX distance between two items (frames (n, dim) and (m, dim)): DTW over :func:`frame_distances`."""
    return float(dtw_batch(frame_distances(a, b)[None])[0])


def pair_distances(features: Sequence[np.ndarray], pairs: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """:func:`dtw_distance` for many item pairs at once, shape (n_pairs,).

    Pairs are grouped by their two lengths (n, m) and warped together. Where a group asks for most of the pairs
    between its items (as an ABX run does), the frame angles of all those items are computed at once, a block of
    first items at a time, and each pair's cost matrix is looked up; otherwise each pair's frames are gathered and
    multiplied. Both ways compute every frame product with the same ``einsum`` reduction, so a pair's distance does
    not depend on the other pairs asked for (exact ties between distances stay ties).

    Parameters
    ----------
    features : sequence of arrays (n_frames_i, dim)
    pairs : int array, shape (n_pairs, 2)
        Indices into ``features``.
    chunk : int
        Pairs per warping batch (bounds memory). On 768 items of 192 dimensions (notebook 05), 1024 pairs per
        batch peaked about 110 MB lower than 4096 during a within- and an across-speaker ABX, and ran no slower.
    """
    p = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    out = np.empty(len(p))
    if len(p) == 0:
        return out
    unit = [_normalise(np.asarray(f, dtype=np.float64)) for f in features]
    lengths = np.array([len(f) for f in unit])
    # the distance is symmetric (to the bit): put the shorter item, or the lower index, first
    swap = (lengths[p[:, 0]] > lengths[p[:, 1]]) | ((lengths[p[:, 0]] == lengths[p[:, 1]]) & (p[:, 0] > p[:, 1]))
    p = np.where(swap[:, None], p[:, ::-1], p)
    by_length = {n: np.flatnonzero(lengths == n) for n in np.unique(lengths)}
    stacked = {n: np.stack([unit[i] for i in idx]) for n, idx in by_length.items()}
    position = np.empty(len(unit), dtype=np.int64)
    for idx in by_length.values():
        position[idx] = np.arange(len(idx))
    keys = lengths[p[:, 0]] * (lengths.max() + 1) + lengths[p[:, 1]]
    order = np.argsort(keys, kind="stable")
    _, starts = np.unique(keys[order], return_index=True)

    def warp(rows: np.ndarray, cos: np.ndarray) -> None:
        for s in range(0, len(rows), chunk):
            out[rows[s:s + chunk]] = dtw_batch(np.arccos(np.clip(cos[s:s + chunk], -1.0, 1.0)) / np.pi)

    for rows in np.split(order, starts[1:]):
        n, m = lengths[p[rows[0], 0]], lengths[p[rows[0], 1]]
        first, second = position[p[rows, 0]], position[p[rows, 1]]
        firsts, fi = np.unique(first, return_inverse=True)
        seconds, si = np.unique(second, return_inverse=True)
        if 4 * len(rows) < len(firsts) * len(seconds):  # sparse: gather each pair's frames
            for s in range(0, len(rows), chunk):
                r = slice(s, s + chunk)
                warp(rows[r], np.einsum("bnd,bmd->bnm", stacked[n][first[r]], stacked[m][second[r]]))
            continue
        # dense: the products of every first item with every second item, a block of first items at a time
        by_first = np.argsort(fi, kind="stable")
        rows, fi, si = rows[by_first], fi[by_first], si[by_first]
        per_block = max(1, (1 << 21) // (len(seconds) * n * m))  # about 16 MB of products per block
        for f0 in range(0, len(firsts), per_block):
            lo, hi = np.searchsorted(fi, [f0, f0 + per_block])
            if lo == hi:
                continue
            needed, col = np.unique(si[lo:hi], return_inverse=True)  # the second items this block asks for
            cos = np.einsum("pnd,qmd->pqnm", stacked[n][firsts[f0:f0 + per_block]], stacked[m][seconds[needed]])
            warp(rows[lo:hi], cos[fi[lo:hi] - f0, col])
    return out


# --------------------------------------------------------------------------
# Scoring


def _triplet_score(dxa: np.ndarray, dxb: np.ndarray, exclude_same: bool) -> tuple[float, int]:
    """Mean score of all triplets from d(X, A) (n_x, n_a) and d(X, B) (n_x, n_b)."""
    lt = dxa[:, :, None] < dxb[:, None, :]
    eq = dxa[:, :, None] == dxb[:, None, :]
    score = lt + 0.5 * eq
    if exclude_same:  # within speaker X and A come from the same items: X != A
        keep = ~np.eye(dxa.shape[0], dtype=bool)
        score = score[keep]
    n = score.size
    return float(score.sum() / n), int(n)


def _phone_scores(dx: np.ndarray, cols: dict, a, exclude_same: bool) -> dict:
    """The :func:`_triplet_score` of X items against A = ``a`` and every other phone B, in one pass.

    ``dx`` holds d(X, item) for the X items (rows) and all the block's A/B items (columns, phone after phone, at
    ``cols[phone]``). Returns {b: (score, n_triplets)}, equal to ``_triplet_score(dx[:, cols[a]], dx[:, cols[b]],
    exclude_same)`` for each b (scores are sums of halves, so the totals are exact).
    """
    dxa = dx[:, cols[a]]
    score = (dxa[:, :, None] < dx[:, None, :]) + 0.5 * (dxa[:, :, None] == dx[:, None, :])  # (n_x, n_a, n_items)
    n_x, n_a = dxa.shape
    if exclude_same:  # within speaker X and A come from the same items: X != A
        score[np.arange(n_x), np.arange(n_x)] = 0.0
        n_a -= 1
    totals = np.add.reduceat(score.sum(axis=(0, 1)), [sl.start for sl in cols.values()])
    out = {}
    for (b, sl), total in zip(cols.items(), totals):
        if b != a:
            n = n_x * n_a * (sl.stop - sl.start)
            out[b] = (float(total / n), int(n))
    return out


def _groups(items: ABXItems) -> dict:
    """context -> speaker -> phone -> item indices."""
    out: dict = {}
    for i, (c, s, ph) in enumerate(zip(items.contexts, items.speakers, items.phones)):
        out.setdefault(c, {}).setdefault(s, {}).setdefault(ph, []).append(i)
    return out


def _concat(by_phone: dict) -> list[int]:
    """Item indices of a {phone: indices} group, phone after phone."""
    return [i for idx in by_phone.values() for i in idx]


def _slices(by_phone: dict) -> dict:
    """Where each phone's items sit in :func:`_concat` order."""
    out, start = {}, 0
    for ph, idx in by_phone.items():
        out[ph] = slice(start, start + len(idx))
        start += len(idx)
    return out


def _block_pairs(rows: list[int], cols: list[int]) -> np.ndarray:
    """Every (row, col) index pair, row-major: shape (len(rows) * len(cols), 2)."""
    return np.stack(np.meshgrid(rows, cols, indexing="ij"), axis=-1).reshape(-1, 2)


def abx_error(items: ABXItems, mode: str = "within") -> ABXResult:
    """ABX error of a set of phone items, macro-averaged (see the module docstring).

    Parameters
    ----------
    items : ABXItems
        From :func:`phone_items` (optionally :func:`subsample_items`).
    mode : {"within", "across"}
        Speaker condition of the triplets.

    Returns
    -------
    ABXResult

    Raises
    ------
    ValueError
        For an unknown mode, no items, or items that form no triplet (e.g.
        one speaker in ``"across"`` mode, or no context with two phones of
        which one has two items).

    Notes
    -----
    Every item distance a triplet needs is computed once (all pairs within a
    context and speaker block, by :func:`pair_distances`) and looked up from
    then on. Cost: for each context, the squared number of its items per
    speaker (within) or per speaker pair (across).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}.")
    if len(items) == 0:
        raise ValueError("No ABX items given.")
    groups = _groups(items)
    # the blocks of item distances the triplets need: (context, speaker of A/B, speaker of X, A/B items, X items)
    blocks = []
    for c, by_spk in groups.items():
        for s, by_phone in by_spk.items():
            if len(by_phone) < 2:
                continue
            if mode == "within":
                if max(len(v) for v in by_phone.values()) >= 2:
                    blocks.append((c, s, s, by_phone, by_phone))
            else:
                for s_x, phones_x in by_spk.items():
                    x = {ph: idx for ph, idx in phones_x.items() if ph in by_phone}
                    if s_x != s and x:
                        blocks.append((c, s, s_x, by_phone, x))
    if not blocks:
        raise ValueError(f"These items form no {mode}-speaker ABX triplet: each needs, in one context, two phones "
                         "from one speaker" + (" with two items of one of them." if mode == "within"
                                               else " and an item of one of them from another speaker."))
    flat = [(_concat(ab), _concat(x)) for *_, ab, x in blocks]
    pairs = np.concatenate([_block_pairs(x, ab) for ab, x in flat])
    # each unordered pair once (the distance is symmetric)
    key = np.minimum(pairs[:, 0], pairs[:, 1]) * len(items) + np.maximum(pairs[:, 0], pairs[:, 1])
    unique, inverse = np.unique(key, return_inverse=True)
    dist = pair_distances(items.features, np.stack(np.divmod(unique, len(items)), axis=1))[inverse.ravel()]
    rows, offset = [], 0
    for (c, s, s_x, by_phone, x_phones), (ab, x) in zip(blocks, flat):
        d = dist[offset:offset + len(x) * len(ab)].reshape(len(x), len(ab))
        offset += len(x) * len(ab)
        cols, xrows = _slices(by_phone), _slices(x_phones)
        for a, xr in xrows.items():
            if mode == "within" and len(by_phone[a]) < 2:
                continue
            for b, (score, n) in _phone_scores(d[xr], cols, a, exclude_same=mode == "within").items():
                rows.append((c, s, s_x, a, b, score, n))
    cells = pd.DataFrame(rows, columns=["context", "speaker", "x_speaker", "a", "b", "score", "n_triplets"])
    # contexts (and X speakers) -> speakers -> phone pairs
    per_speaker = cells.groupby(["speaker", "a", "b"], sort=True)["score"].mean()
    per_pair = per_speaker.groupby(level=["a", "b"]).mean()
    by_pair = (1.0 - per_pair).rename("error").reset_index()
    return ABXResult(float(1.0 - per_pair.mean()), by_pair, cells, mode, int(cells["n_triplets"].sum()))


# --------------------------------------------------------------------------
# Speakers as the unit of replication


def _speaker_pair_scores(result: ABXResult) -> pd.DataFrame:
    """Mean score per (speaker, a, b): the cells averaged over contexts (and X speakers), step 1 of the average."""
    return result.cells.groupby(["speaker", "a", "b"], sort=True)["score"].mean().reset_index()


def speaker_errors(result: ABXResult) -> pd.Series:
    """ABX error of each speaker of A and B: its cells averaged over contexts (and X speakers), then over its pairs.

    These are the speaker-level observations for paired tests between two representations evaluated on the same
    items (:func:`course.stats.speaker_sign_flip_test` with one score per speaker). When every speaker has every
    phone pair, their mean is ``result.error``; otherwise (contexts that only some speakers produce) the two differ,
    because ``result.error`` averages over speakers within each pair first.

    Returns
    -------
    pd.Series
        Indexed by speaker (sorted), named ``"error"``.
    """
    per = _speaker_pair_scores(result)
    return (1.0 - per.groupby("speaker")["score"].mean()).rename("error")


def error_ci(result: ABXResult, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0) -> np.ndarray:
    """Speaker-bootstrap interval of the macro-averaged ABX error: how much it would move with other voices.

    Each replicate draws the speakers of A and B with replacement, with the draws of
    :func:`course.stats.speaker_bootstrap_statistic` (so two results over the same speakers get the same draws with
    the same ``seed``), and recomputes the average over speakers within each ordered phone pair, then over the pairs
    present; a speaker drawn twice counts twice. All replicates are computed at once, as weighted sums over a
    (speaker, pair) table. Across speakers, a drawn speaker brings its cells with every X speaker; X speakers are
    not resampled separately.

    Returns
    -------
    np.ndarray of float64, shape (2,)
        ``[low, high]``.

    Raises
    ------
    ValueError
        Fewer than two speakers; a bad ``n_boot`` or ``confidence``.
    """
    per = _speaker_pair_scores(result)
    pairs, pair = np.unique((per["a"] + "\x00" + per["b"]).to_numpy(), return_inverse=True)
    names, speaker, draws = stats._speaker_draws(per["speaker"].to_numpy(), n_boot, confidence, seed)
    # one row per (speaker, pair): a replicate weighs each row by how often it drew the row's speaker
    scores = np.zeros((len(names), len(pairs)))
    present = np.zeros((len(names), len(pairs)))
    scores[speaker, pair.ravel()] = per["score"].to_numpy(dtype=np.float64)
    present[speaker, pair.ravel()] = 1.0
    drawn = np.stack([np.bincount(d, minlength=len(names)) for d in draws]).astype(np.float64)  # (n_boot, n_spk)
    total, count = drawn @ scores, drawn @ present  # per replicate and pair
    covered = count > 0  # pairs that the replicate's speakers produce
    mean_score = np.where(covered, total / np.where(covered, count, 1.0), 0.0).sum(axis=1) / covered.sum(axis=1)
    return stats._percentile_interval(1.0 - mean_score, confidence)


# --------------------------------------------------------------------------
# The experiment: a layer profile with its control


def abx_profile(
    model_items: Sequence[ABXItems],
    control_items: Sequence[ABXItems],
    mode: str = "within",
    abx: Callable[[ABXItems, str], ABXResult] = abx_error,
) -> pd.DataFrame:
    """Layer by layer, every speaker's ABX error on a representation and on its control, the same tokens in both.

    For every layer ``l``, ``abx(model_items[l], mode)`` and ``abx(control_items[l], mode)`` are each reduced to one
    error per speaker of A and B (:func:`speaker_errors`), so that a speaker-level interval or paired test can be
    put on the profile; the layer's macro-averaged error is not copied to its speakers. This is the experiment behind
    notebook 05's main figure (a trained model against its twin with the trained front end under random layers).

    Parameters
    ----------
    model_items : sequence of ABXItems
        One per layer (layer ``l`` is ``model_items[l]``).
    control_items : sequence of ABXItems
        The control's items of every layer: as many as ``model_items``, each with the same tokens as the model's
        items of that layer (the same phones, speakers and contexts, in the same order); the dimension may differ.
    mode : {"within", "across"}
        Speaker condition of the triplets (:func:`abx_error`).
    abx : callable
        ``abx(items, mode) -> ABXResult``; :func:`abx_error` by default (a caching wrapper of it lets the caller
        reuse the results, e.g. for :func:`error_ci`).

    Returns
    -------
    pandas.DataFrame
        One row per layer and speaker of A and B, sorted by layer, then speaker; columns ``layer`` (int),
        ``speaker``, ``model`` and ``control`` (ABX errors in [0, 1]).

    Raises
    ------
    ValueError
        No layer, ``control_items`` of another length, a layer whose control items are not the model's tokens, or
        (from ``abx``) an unknown mode or items that form no triplet.
    """
    if len(model_items) != len(control_items) or not len(model_items):
        raise ValueError(f"One control per layer: {len(model_items)} layers of the model, {len(control_items)} of "
                         "the control.")
    tables = []
    for layer, (items, control) in enumerate(zip(model_items, control_items)):
        same = len(items) == len(control) and all(np.array_equal(getattr(items, f), getattr(control, f))
                                                  for f in ("phones", "speakers", "contexts"))
        if not same:
            raise ValueError(f"Layer {layer}: the control's items are not the model's tokens (phones, speakers and "
                             "contexts must match in order): evaluate both on the same items.")
        errors = pd.DataFrame({"model": speaker_errors(abx(items, mode)),
                               "control": speaker_errors(abx(control, mode))})
        tables.append(errors.rename_axis("speaker").reset_index().assign(layer=layer))
    return pd.concat(tables, ignore_index=True)[["layer", "speaker", "model", "control"]]
