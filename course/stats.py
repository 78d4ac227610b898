"""Statistics that turn an interpretability curve into a finding.

A layer-wise curve (probe accuracy, lens accuracy, a context-mixing score) is
an average over utterances. Before reading a bump in it as a result, three
questions need an answer, and this module gives each a small, explicit tool:

* **How uncertain is the average?** Utterances of one speaker are not
  independent: they share a voice, a pitch range and a speaking rate. A
  confidence interval that resamples utterances (or, worse, frames) treats
  them as independent and comes out too narrow.
  :func:`speaker_bootstrap_ci` resamples **speakers** (each drawn speaker
  brings all of its utterances), the unit a claim about "new speakers" is
  about (Efron & Tibshirani 1993; the cluster bootstrap).
* **Is a difference real?** "Layer 4 beats layer 0" or "the trained model
  beats its random twin" compares two scores *on the same items*.
  :func:`paired_sign_flip_test` is the paired permutation test of the mean
  difference: under the null hypothesis each item's difference is as likely
  to have either sign (Good 2005; Dror et al. 2018 for its use in NLP).
* **Is it real for the speakers, and across many comparisons?**
  :func:`speaker_sign_flip_test` flips the sign of whole speakers (the
  cluster version), enumerating all ``2**n`` sign patterns exactly when they
  are few; :func:`holm` corrects a family of p-values (one per layer, say)
  for the number of comparisons (Holm 1979). :func:`curve_ci` puts a speaker
  bootstrap interval on every point of a layer-wise curve.
* **How much does the target draw on the cue?** :func:`cue_share` turns a
  word-level relevance matrix (attention, attention rollout, value zeroing,
  word ablation: rows are the word being explained, columns the words it
  draws on) into one number: the cue word's share of the target's row
  relative to the mean share of the other context words.

Every random procedure takes an explicit ``seed`` and uses its own
``numpy.random.default_rng(seed)``: no global random state is read or changed.
"""

from __future__ import annotations

from typing import Callable, Hashable, Sequence

import numpy as np

__all__ = ["speaker_bootstrap_ci", "speaker_bootstrap_statistic", "curve_ci", "jackknife_ci", "paired_sign_flip_test",
           "speaker_means", "speaker_sign_flip_test", "holm", "cue_share"]


def _scores_1d(x: Sequence[float] | np.ndarray, name: str) -> np.ndarray:
    """``x`` as a finite, non-empty 1-D float64 array, or a ValueError naming ``name``."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one score per utterance), got shape {a.shape}.")
    if a.size == 0:
        raise ValueError(f"{name} is empty.")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values: drop or fix those utterances first.")
    return a


def _count(n: int, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive integer, got {n!r}.")
    return int(n)


def _speaker_draws(speakers: np.ndarray, n_boot: int, confidence: float,
                   seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated ``(names, index, draws)`` of a speaker bootstrap: ``draws[b]`` lists replicate ``b``'s speakers."""
    n_boot = _count(n_boot, "n_boot")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}.")
    names, index = np.unique(speakers, return_inverse=True)
    if len(names) < 2:
        raise ValueError("A speaker-level bootstrap needs at least two speakers: with one, every replicate "
                         "is the same sample and the interval says nothing about other voices.")
    draws = np.random.default_rng(seed).integers(0, len(names), size=(n_boot, len(names)))
    return names, index, draws


def _percentile_interval(replicates: np.ndarray, confidence: float) -> np.ndarray:
    low, high = np.percentile(replicates, [50.0 * (1.0 - confidence), 50.0 * (1.0 + confidence)])
    return np.array([low, high], dtype=np.float64)


def speaker_bootstrap_ci(
    scores: Sequence[float] | np.ndarray,
    speakers: Sequence[Hashable] | np.ndarray,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> np.ndarray:
    """Percentile bootstrap interval of a mean per-utterance score, resampling speakers.

    Each bootstrap replicate draws as many speakers as there are, with
    replacement; a drawn speaker contributes **all** of its utterances (a
    speaker drawn twice counts twice). The replicate's statistic is the mean
    score over the utterances it contains, so it estimates the same quantity
    as ``scores.mean()``.

    Recipe (follow it exactly to reproduce the course's numbers):

    1. ``names, index = np.unique(speakers, return_inverse=True)``;
       per speaker the sum of its scores and its number of utterances;
    2. ``rng = np.random.default_rng(seed)``; then one call
       ``draws = rng.integers(0, len(names), size=(n_boot, len(names)))``:
       row ``b`` lists the speakers of replicate ``b``;
    3. replicate ``b``: the summed scores of its speakers divided by their
       summed utterance counts;
    4. the interval: ``np.percentile(replicates, [50 * (1 - confidence),
       50 * (1 + confidence)])``.

    Parameters
    ----------
    scores : array-like of float, shape (n_utterances,)
        One score per utterance (e.g. 1.0 / 0.0 for a correct / wrong probe
        prediction, or a per-utterance error rate).
    speakers : array-like, shape (n_utterances,)
        The speaker of each utterance. Pass one distinct id per utterance to
        get the (too narrow, for speech) utterance-level bootstrap.
    n_boot : int
        Number of bootstrap replicates.
    confidence : float
        Coverage of the interval, strictly between 0 and 1.
    seed : int
        Seed of the replicates' random generator.

    Returns
    -------
    np.ndarray of float64, shape (2,)
        ``[low, high]``.

    Raises
    ------
    ValueError
        Scores not 1-D, empty or not finite; lengths differ; fewer than two
        speakers (every replicate would be the same); a bad ``n_boot`` or
        ``confidence``.

    Notes
    -----
    With few speakers the interval is itself uncertain: with 4 held-out
    speakers there are only 35 distinct replicates. It is still the honest
    statement of how much the score varies between voices; the utterance-level
    interval answers a question nobody asked (how much it varies between
    sentences of *these* speakers).
    """
    s = _scores_1d(scores, "scores")
    spk = np.asarray(speakers)
    if spk.ndim != 1 or len(spk) != len(s):
        raise ValueError(f"speakers must be 1-D with one entry per score: {len(s)} scores, "
                         f"speakers of shape {spk.shape}.")
    names, index, draws = _speaker_draws(spk, n_boot, confidence, seed)
    sums = np.bincount(index, weights=s, minlength=len(names))
    counts = np.bincount(index, minlength=len(names)).astype(np.float64)
    return _percentile_interval(sums[draws].sum(axis=1) / counts[draws].sum(axis=1), confidence)


def paired_sign_flip_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    n_perm: int = 10000,
    seed: int = 0,
) -> float:
    """Two-sided paired permutation (sign-flip) test of ``mean(a - b) = 0``.

    ``a[i]`` and ``b[i]`` are two scores of the same item ``i`` (the same
    utterance read from two layers, or by a model and its random twin). Under
    the null hypothesis the sign of each difference ``d[i] = a[i] - b[i]`` is
    arbitrary, so flipping signs at random generates the null distribution of
    the mean difference.

    Recipe (follow it exactly to reproduce the course's numbers):

    1. ``d = a - b`` (float64); ``observed = abs(d.mean())``;
    2. ``rng = np.random.default_rng(seed)``; one call
       ``signs = rng.choice([-1.0, 1.0], size=(n_perm, len(d)))``;
    3. ``null = abs((signs * d).mean(axis=1))``;
    4. ``p = (1 + count(null >= observed - 1e-12)) / (n_perm + 1)``: the
       observed labelling counts as one of the permutations, so ``p > 0``,
       and ``1e-12`` keeps ties that round-off would break.

    Parameters
    ----------
    a, b : array-like of float, shape (n_items,)
        Paired scores, in the same item order.
    n_perm : int
        Number of random sign patterns (memory: ``n_perm * n_items`` floats).
    seed : int
        Seed of the sign patterns' random generator.

    Returns
    -------
    float
        The p-value, in ``(0, 1]``; at least ``1 / (n_perm + 1)``.

    Raises
    ------
    ValueError
        Inputs not 1-D, of different lengths, empty or not finite; a bad
        ``n_perm``.

    Notes
    -----
    The test treats items as exchangeable units. Utterances of one speaker are
    not independent; flipping the sign of a whole speaker at once is the
    conservative (cluster) version, and with few speakers it cannot reach small
    p-values at all. Report which unit you permuted. Testing many layers needs
    a correction for multiple comparisons (e.g. Bonferroni: multiply by the
    number of tests).
    """
    x = _scores_1d(a, "a")
    y = _scores_1d(b, "b")
    if len(x) != len(y):
        raise ValueError(f"a and b must pair up item by item: {len(x)} vs {len(y)} scores.")
    n_perm = _count(n_perm, "n_perm")
    d = x - y
    observed = abs(d.mean())
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(n_perm, len(d)))
    null = np.abs((signs * d).mean(axis=1))
    return float((1 + np.count_nonzero(null >= observed - 1e-12)) / (n_perm + 1))


def speaker_bootstrap_statistic(
    statistic: Callable[..., float],
    arrays: Sequence[np.ndarray],
    speakers: Sequence[Hashable] | np.ndarray,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> np.ndarray:
    """Speaker-bootstrap interval of any statistic of items (an $R^2$, a correlation), not only of a mean.

    The replicates draw speakers exactly as :func:`speaker_bootstrap_ci` does (one call
    ``rng.integers(0, n_speakers, size=(n_boot, n_speakers))``); replicate ``b`` gathers the items of its
    speakers (a speaker drawn twice brings its items twice) and calls ``statistic(*(a[rows] for a in arrays))``.
    With ``statistic=np.mean`` on one array it reproduces :func:`speaker_bootstrap_ci`.

    Parameters
    ----------
    statistic : callable
        Takes one array per entry of ``arrays`` (rows of the same items) and returns a float.
    arrays : sequence of np.ndarray
        Arrays with one row per item, e.g. ``(y_true, y_pred)``.
    speakers : array-like, shape (n_items,)
        The speaker of each item.
    n_boot, confidence, seed
        As in :func:`speaker_bootstrap_ci`.

    Returns
    -------
    np.ndarray of float64, shape (2,)
        ``[low, high]``.

    Raises
    ------
    ValueError
        Arrays of a different length than ``speakers``; fewer than two speakers; a bad ``n_boot`` or
        ``confidence``; a statistic that is not finite on some replicate.
    """
    spk = np.asarray(speakers)
    arrays = [np.asarray(a) for a in arrays]
    if spk.ndim != 1 or any(len(a) != len(spk) for a in arrays) or not arrays:
        raise ValueError(f"arrays must have one row per item, like speakers ({len(spk)} items); got lengths "
                         f"{[len(a) for a in arrays]}.")
    names, index, draws = _speaker_draws(spk, n_boot, confidence, seed)
    rows_of = [np.flatnonzero(index == k) for k in range(len(names))]
    replicates = np.array([float(statistic(*(a[np.concatenate([rows_of[k] for k in d])] for a in arrays)))
                           for d in draws])
    if not np.all(np.isfinite(replicates)):
        raise ValueError("The statistic is not finite on some bootstrap replicates (e.g. a variance of 0 when one "
                         "speaker is drawn many times): use a statistic defined on every resample.")
    return _percentile_interval(replicates, confidence)


def curve_ci(
    scores: Sequence | np.ndarray,
    speakers: Sequence[Hashable] | np.ndarray,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> np.ndarray:
    """Mean and speaker-bootstrap interval of every point of a curve (one row of scores per point, e.g. per layer).

    Each row is passed to :func:`speaker_bootstrap_ci` with the same ``seed``, so every point is resampled with
    the same draws of speakers (the intervals of two layers describe the same replicated populations of voices).

    Parameters
    ----------
    scores : array-like of float, shape (n_points, n_items)
        ``scores[l, i]``: the score of item ``i`` (an utterance, a segment: 1.0 / 0.0 for a right / wrong
        prediction) at point ``l`` of the curve.
    speakers : array-like, shape (n_items,)
        The speaker of each item.
    n_boot, confidence, seed
        As in :func:`speaker_bootstrap_ci`.

    Returns
    -------
    np.ndarray of float64, shape (n_points, 3)
        Columns: mean over items, interval low, interval high.

    Raises
    ------
    ValueError
        ``scores`` not 2-D; anything :func:`speaker_bootstrap_ci` refuses.
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores must be 2-D (one row per point of the curve, one column per item); got {s.shape}.")
    return np.array([[row.mean(), *speaker_bootstrap_ci(row, speakers, n_boot, confidence, seed)] for row in s])


def jackknife_ci(
    statistic: Callable[[np.ndarray], float],
    speakers: Sequence[Hashable] | np.ndarray,
    confidence: float = 0.95,
) -> np.ndarray:
    """Leave-one-speaker-out (jackknife) interval of a statistic computed on a pooled set of items.

    For statistics that are not means over items and are costly to recompute (an RSA score over all pairs of
    stimuli, a CKA over a Gram matrix), a bootstrap needs hundreds of recomputations; the jackknife needs one per
    speaker. ``statistic(rows)`` gets the indices of the items to use; it is called once with all items and once
    without each speaker's items. With ``n`` speakers, estimates ``t_i`` (speaker ``i`` left out) and their mean
    ``t_bar``::

        se = sqrt((n - 1) / n * sum_i (t_i - t_bar) ** 2)
        interval = t_full -/+ q * se,   q = the (1 + confidence) / 2 quantile of Student's t with n - 1 df

    (Efron & Tibshirani 1993, ch. 11; the cluster jackknife, since whole speakers are left out).

    Parameters
    ----------
    statistic : callable
        ``statistic(rows: np.ndarray of int) -> float``.
    speakers : array-like, shape (n_items,)
        The speaker of each item.
    confidence : float
        Coverage of the interval, strictly between 0 and 1.

    Returns
    -------
    np.ndarray of float64, shape (3,)
        ``[estimate on all items, low, high]``.

    Raises
    ------
    ValueError
        Fewer than three speakers (one leave-one-out estimate per speaker leaves too few to judge the spread); a
        bad ``confidence``; a statistic that is not finite.
    """
    from scipy.stats import t as student_t  # start-up: scipy.stats takes about 1 s; only this interval needs it

    spk = np.asarray(speakers)
    if spk.ndim != 1:
        raise ValueError(f"speakers must be 1-D (one per item), got shape {spk.shape}.")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}.")
    names = np.unique(spk)
    if len(names) < 3:
        raise ValueError(f"A leave-one-speaker-out interval needs at least three speakers, got {len(names)}.")
    full = float(statistic(np.arange(len(spk))))
    left_out = np.array([float(statistic(np.flatnonzero(spk != s))) for s in names])
    if not np.isfinite(full) or not np.all(np.isfinite(left_out)):
        raise ValueError("The statistic is not finite on all items or with some speaker left out.")
    n = len(names)
    se = np.sqrt((n - 1) / n * np.sum((left_out - left_out.mean()) ** 2))
    q = float(student_t.ppf(0.5 * (1.0 + confidence), df=n - 1))
    return np.array([full, full - q * se, full + q * se], dtype=np.float64)


def speaker_means(scores: Sequence[float] | np.ndarray,
                  speakers: Sequence[Hashable] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The mean score of each speaker: ``(names, means)``, names sorted as :func:`numpy.unique` sorts them.

    Raises
    ------
    ValueError
        Scores not 1-D, empty or not finite; lengths differ.
    """
    s = _scores_1d(scores, "scores")
    spk = np.asarray(speakers)
    if spk.ndim != 1 or len(spk) != len(s):
        raise ValueError(f"speakers must be 1-D with one entry per score: {len(s)} scores, "
                         f"speakers of shape {spk.shape}.")
    names, index = np.unique(spk, return_inverse=True)
    means = np.bincount(index, weights=s, minlength=len(names)) / np.bincount(index, minlength=len(names))
    return names, means


def speaker_sign_flip_test(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    speakers: Sequence[Hashable] | np.ndarray,
    n_perm: int = 10000,
    seed: int = 0,
    max_exact: int = 2 ** 16,
) -> float:
    """Two-sided paired sign-flip test at the speaker level: is ``a`` better or worse than ``b`` for new voices?

    ``a[i]`` and ``b[i]`` score the same item ``i`` (a segment, an utterance) two ways (two layers, a model and
    its control). Each speaker's mean difference ``d_s = mean(a - b over the speaker's items)`` is one
    observation; under the null hypothesis each ``d_s`` is as likely to have either sign. The statistic is
    ``abs(mean(d_s))`` (every speaker weighs the same).

    With ``n`` speakers there are ``2**n`` sign patterns. When ``2**n <= max_exact`` all of them are enumerated
    and the p-value is exact: ``count(patterns at least as extreme) / 2**n``, at least ``2 / 2**n`` (a pattern
    and its mirror image are equally extreme; n = 8 gives 0.0078, n = 12 gives 0.00049). Otherwise
    ``n_perm`` random patterns are drawn as in :func:`paired_sign_flip_test`.

    Parameters
    ----------
    a, b : array-like of float, shape (n_items,)
        Paired scores, in the same item order.
    speakers : array-like, shape (n_items,)
        The speaker of each item.
    n_perm, seed : int
        Random patterns and their seed, used only when enumeration is too large.
    max_exact : int
        Largest number of patterns that is enumerated.

    Returns
    -------
    float
        The p-value, in ``(0, 1]``.

    Raises
    ------
    ValueError
        Inputs not 1-D, of different lengths, empty or not finite; fewer than two speakers.
    """
    x = _scores_1d(a, "a")
    y = _scores_1d(b, "b")
    if len(x) != len(y):
        raise ValueError(f"a and b must pair up item by item: {len(x)} vs {len(y)} scores.")
    _, d = speaker_means(x - y, speakers)
    n = len(d)
    if n < 2:
        raise ValueError("A speaker-level test needs at least two speakers: with one, every sign pattern is the "
                         "same up to sign and the p-value is 1.")
    observed = abs(d.mean())
    if 2 ** n <= max_exact:
        signs = 1.0 - 2.0 * ((np.arange(2 ** n)[:, None] >> np.arange(n)) & 1)
        null = np.abs(signs @ d / n)
        return float(np.count_nonzero(null >= observed - 1e-12) / 2 ** n)
    return paired_sign_flip_test(d, np.zeros_like(d), n_perm=_count(n_perm, "n_perm"), seed=seed)


def average_ranks(values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Ranks ``1 .. m`` of a 1-D array, tied values sharing the mean of the ranks they span (Spearman's convention).

    The same numbers as ``scipy.stats.rankdata(values)`` (method "average"), in NumPy alone.
    """
    v = np.asarray(values)
    order = np.argsort(v, kind="mergesort")
    sorted_v = v[order]
    starts = np.flatnonzero(np.r_[True, sorted_v[1:] != sorted_v[:-1]])  # the first position of each run of ties
    ends = np.r_[starts[1:], len(v)]
    ranks = np.empty(len(v))
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)  # the mean of ranks starts+1 .. ends
    return ranks


def holm(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment of a family of p-values (Holm 1979), in their original order.

    Sort the ``m`` p-values ascending; the ``k``-th smallest (k = 0, 1, ...) is multiplied by ``m - k``; a running
    maximum keeps the adjusted values in the same order as the raw ones; values are capped at 1. Reject the
    hypotheses whose adjusted p-value is at most the level: this controls the chance of any false rejection in
    the family at that level, and is never less powerful than Bonferroni (``m * p``).

    Raises
    ------
    ValueError
        Empty input, or values outside ``[0, 1]``.
    """
    p = _scores_1d(pvalues, "pvalues")
    if np.any((p < 0) | (p > 1)):
        raise ValueError(f"p-values must lie in [0, 1], got {p.tolist()}.")
    order = np.argsort(p, kind="stable")
    m = len(p)
    stepped = np.maximum.accumulate(p[order] * (m - np.arange(m)))
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def cue_share(matrix: Sequence | np.ndarray, target: int, cue: int) -> float | np.ndarray:
    """How much more the target word draws on the cue word than on an average other word.

    ``matrix[..., i, j]`` is how much word ``i`` draws on word ``j`` (row =
    the word being explained, column = its source), e.g. a word-level
    attention, rollout or value-zeroing matrix, or word-ablation relevance.
    In the target's row, the target's own column is left out (a word always
    draws mostly on itself; the question is which *other* word it uses).
    The result is the cue's entry divided by the mean entry of the remaining
    words (neither target nor cue):

    ``matrix[target, cue] / mean(matrix[target, j] for j not in {target, cue})``

    which equals the cue's share of the context (the row without the target,
    normalised to sum 1) divided by the mean share of the other context
    words. 1 means the cue gets an average word's share; 3 means three times
    as much; below 1, less.

    Parameters
    ----------
    matrix : array-like, shape (n_words, n_words) or (..., n_words, n_words)
        Non-negative relevance; a stack (e.g. one matrix per layer) is scored
        matrix by matrix.
    target, cue : int
        Word indices (0-based, as the corpus's ``target_index`` /
        ``cue_index`` labels), different from each other.

    Returns
    -------
    float or np.ndarray
        A float for one matrix; an array of shape ``matrix.shape[:-2]`` for a
        stack.

    Raises
    ------
    ValueError
        Not square; fewer than 3 words (no other word to compare with); an
        index out of range or target == cue; negative or non-finite entries
        (take absolute values of signed attributions first, and say so); the
        other words' entries all zero (the ratio is undefined).
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim < 2 or m.shape[-1] != m.shape[-2]:
        raise ValueError(f"matrix must be square, shape (n_words, n_words) or (..., n_words, n_words); "
                         f"got {m.shape}.")
    n = m.shape[-1]
    if n < 3:
        raise ValueError(f"{n} words: the cue needs at least one other context word to be compared with.")
    for name, i in (("target", target), ("cue", cue)):
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n:
            raise ValueError(f"{name} must be a word index in 0..{n - 1}, got {i!r}.")
    if target == cue:
        raise ValueError("target and cue are the same word.")
    if not np.all(np.isfinite(m)):
        raise ValueError("matrix contains NaN or infinite values.")
    if np.any(m < 0):
        raise ValueError("matrix has negative entries: cue_share needs non-negative relevance "
                         "(take absolute values of signed attributions first, and say so).")
    row = m[..., target, :]
    others = [j for j in range(n) if j not in (target, cue)]
    mean_other = row[..., others].mean(axis=-1)
    if np.any(mean_other == 0):
        raise ValueError("The other context words get zero relevance: the cue share is undefined.")
    ratio = row[..., cue] / mean_other
    return float(ratio) if ratio.ndim == 0 else ratio
