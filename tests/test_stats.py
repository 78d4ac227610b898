"""course.stats: speaker bootstrap, paired sign-flip test and cue share, checked by hand and against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from course.stats import (cue_share, curve_ci, holm, jackknife_ci, paired_sign_flip_test, speaker_bootstrap_ci, speaker_bootstrap_statistic,
                          speaker_means,
                          speaker_sign_flip_test)


def clustered(n_speakers: int = 6, per_speaker: int = 20, spread: float = 0.3, noise: float = 0.05, seed: int = 0):
    """Scores with a strong speaker effect: (scores, speakers)."""
    rng = np.random.default_rng(seed)
    offsets = rng.normal(0, spread, n_speakers)
    speakers = np.repeat([f"s{i}" for i in range(n_speakers)], per_speaker)
    scores = np.repeat(offsets, per_speaker) + rng.normal(0, noise, n_speakers * per_speaker)
    return scores, speakers


# --------------------------------------------------------------------------
# speaker_bootstrap_ci


def test_bootstrap_follows_the_recipe():
    scores, speakers = clustered()
    names, index = np.unique(speakers, return_inverse=True)
    sums = np.array([scores[index == k].sum() for k in range(len(names))])
    counts = np.array([(index == k).sum() for k in range(len(names))])
    draws = np.random.default_rng(3).integers(0, len(names), size=(500, len(names)))
    reps = [sums[d].sum() / counts[d].sum() for d in draws]
    expected = np.percentile(reps, [5, 95])
    got = speaker_bootstrap_ci(scores, speakers, n_boot=500, confidence=0.9, seed=3)
    assert got.shape == (2,) and got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_bootstrap_is_wider_than_the_utterance_level_interval_when_speakers_differ():
    scores, speakers = clustered()
    by_speaker = speaker_bootstrap_ci(scores, speakers, n_boot=2000)
    by_utterance = speaker_bootstrap_ci(scores, np.arange(len(scores)), n_boot=2000)
    assert by_speaker[0] < scores.mean() < by_speaker[1]
    assert np.diff(by_speaker)[0] > 3 * np.diff(by_utterance)[0]


def test_bootstrap_weights_speakers_by_their_utterances():
    # four speakers with 30 utterances of score 1, four with one utterance of score 0: the mean is 120 / 124
    scores = np.r_[np.ones(120), np.zeros(4)]
    speakers = np.r_[np.repeat(["a", "b", "c", "d"], 30), ["e", "f", "g", "h"]]
    low, high = speaker_bootstrap_ci(scores, speakers, n_boot=4000, seed=1)
    assert low < scores.mean() <= high
    assert low > 0.75, "each replicate is a mean over utterances, not a mean of speaker means (which centre on 0.5)"


def test_bootstrap_constant_scores_and_determinism():
    assert np.allclose(speaker_bootstrap_ci(np.full(12, 0.7), np.repeat(["a", "b", "c"], 4)), 0.7)
    scores, speakers = clustered(seed=4)
    assert np.array_equal(speaker_bootstrap_ci(scores, speakers, seed=5), speaker_bootstrap_ci(scores, speakers, seed=5))
    assert not np.array_equal(speaker_bootstrap_ci(scores, speakers, seed=5),
                              speaker_bootstrap_ci(scores, speakers, seed=6))
    state = np.random.get_state()[1].copy()
    speaker_bootstrap_ci(scores, speakers)
    assert np.array_equal(state, np.random.get_state()[1]), "no global random state"


@pytest.mark.parametrize("kwargs, match", [
    (dict(scores=[1.0, 0.0], speakers=["a", "a"]), "two speakers"),
    (dict(scores=[1.0, 0.0], speakers=["a"]), "one entry per score"),
    (dict(scores=[], speakers=[]), "empty"),
    (dict(scores=[1.0, np.nan], speakers=["a", "b"]), "NaN"),
    (dict(scores=[[1.0]], speakers=["a"]), "1-D"),
    (dict(scores=[1.0, 0.0], speakers=["a", "b"], confidence=1.0), "confidence"),
    (dict(scores=[1.0, 0.0], speakers=["a", "b"], n_boot=0), "n_boot"),
])
def test_bootstrap_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        speaker_bootstrap_ci(**kwargs)


# --------------------------------------------------------------------------
# paired_sign_flip_test


def exact_p(d: np.ndarray) -> float:
    """Two-sided sign-flip p-value by enumerating every sign pattern."""
    obs = abs(d.mean())
    null = [abs((np.array(s) * d).mean()) for s in itertools.product([-1.0, 1.0], repeat=len(d))]
    return float(np.mean(np.array(null) >= obs - 1e-12))


def test_sign_flip_follows_the_recipe():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=30), rng.normal(size=30) - 0.2
    d = a - b
    signs = np.random.default_rng(9).choice([-1.0, 1.0], size=(700, 30))
    null = np.abs((signs * d).mean(axis=1))
    expected = (1 + np.count_nonzero(null >= abs(d.mean()) - 1e-12)) / 701
    assert paired_sign_flip_test(a, b, n_perm=700, seed=9) == pytest.approx(expected, abs=1e-15)


def test_sign_flip_agrees_with_exhaustive_enumeration():
    rng = np.random.default_rng(1)
    for _ in range(3):
        a, b = rng.normal(0.3, 1, 10), rng.normal(0, 1, 10)
        assert paired_sign_flip_test(a, b, n_perm=40000, seed=2) == pytest.approx(exact_p(a - b), abs=0.01)


def test_sign_flip_is_two_sided_paired_and_never_zero():
    rng = np.random.default_rng(2)
    item = rng.normal(0, 3, 40)  # a large item effect shared by both conditions: only pairing removes it
    a, b = item + 0.3 + rng.normal(0, 0.2, 40), item + rng.normal(0, 0.2, 40)
    p = paired_sign_flip_test(a, b, n_perm=2000)
    assert p == pytest.approx(1 / 2001), "a consistent difference: no random sign pattern reaches it"
    assert paired_sign_flip_test(b, a, n_perm=2000) == p, "two-sided: the order of a and b does not matter"
    assert paired_sign_flip_test(a, a) == 1.0
    d_equal = paired_sign_flip_test([1.0, 1.0], [0.0, 0.0], n_perm=20000, seed=3)
    assert d_equal == pytest.approx(0.5, abs=0.02), "two items of equal difference: half of the patterns tie"


@pytest.mark.parametrize("a, b, kwargs, match", [
    ([1.0, 2.0], [1.0], {}, "pair up"),
    ([], [], {}, "empty"),
    ([1.0, np.inf], [0.0, 0.0], {}, "NaN or infinite"),
    ([1.0], [0.0], {"n_perm": 0}, "n_perm"),
])
def test_sign_flip_errors(a, b, kwargs, match):
    with pytest.raises(ValueError, match=match):
        paired_sign_flip_test(a, b, **kwargs)


# --------------------------------------------------------------------------
# curve_ci, speaker_means, speaker_sign_flip_test, holm


def test_curve_ci_is_the_mean_and_the_speaker_bootstrap_of_every_row():
    scores, speakers = clustered()
    curve = np.stack([scores, scores + 1.0, 2 * scores])
    got = curve_ci(curve, speakers, n_boot=300, seed=4)
    assert got.shape == (3, 3)
    for row, out in zip(curve, got):
        assert out[0] == pytest.approx(row.mean())
        np.testing.assert_allclose(out[1:], speaker_bootstrap_ci(row, speakers, n_boot=300, seed=4))
    assert got[1, 1] == pytest.approx(got[0, 1] + 1.0), "the same speaker draws for every point of the curve"
    with pytest.raises(ValueError, match="2-D"):
        curve_ci(scores, speakers)


def test_bootstrap_statistic_reproduces_the_mean_bootstrap_and_takes_any_statistic():
    scores, speakers = clustered()
    np.testing.assert_allclose(speaker_bootstrap_statistic(np.mean, [scores], speakers, n_boot=400, seed=2),
                               speaker_bootstrap_ci(scores, speakers, n_boot=400, seed=2), rtol=1e-12)
    rng = np.random.default_rng(3)
    x = rng.normal(size=len(scores))
    y = 2 * x + rng.normal(0, 0.1, len(x))

    def r2(a, b):
        return 1 - np.sum((a - b) ** 2) / np.sum((a - a.mean()) ** 2)

    low, high = speaker_bootstrap_statistic(r2, [y, 2 * x], speakers, n_boot=300)
    assert 0.99 < low <= r2(y, 2 * x) <= high <= 1.0
    with pytest.raises(ValueError, match="one row per item"):
        speaker_bootstrap_statistic(np.mean, [scores[:-1]], speakers)
    with pytest.raises(ValueError, match="not finite"):
        speaker_bootstrap_statistic(lambda a: np.nan, [scores], speakers, n_boot=5)


def test_jackknife_of_a_mean_is_the_textbook_interval():
    # for the mean of per-speaker values (one item each) the jackknife se is the usual standard error
    from scipy.stats import t as student_t

    values = np.array([0.2, 0.5, 0.4, 0.9, 0.7, 0.3])
    got = jackknife_ci(lambda rows: values[rows].mean(), [f"s{i}" for i in range(6)])
    se = values.std(ddof=1) / np.sqrt(6)
    q = student_t.ppf(0.975, 5)
    np.testing.assert_allclose(got, [values.mean(), values.mean() - q * se, values.mean() + q * se], rtol=1e-12)


def test_jackknife_leaves_out_whole_speakers():
    scores, speakers = clustered(n_speakers=5, per_speaker=10)
    seen = []
    jackknife_ci(lambda rows: seen.append(set(speakers[rows])) or 0.0, speakers)
    assert seen[0] == set(speakers) and all(len(s) == 4 for s in seen[1:]) and len(seen) == 6
    est, low, high = jackknife_ci(lambda rows: scores[rows].mean(), speakers)
    assert low < est < high and est == pytest.approx(scores.mean())
    with pytest.raises(ValueError, match="three speakers"):
        jackknife_ci(lambda rows: 0.0, ["a", "b", "a"])
    with pytest.raises(ValueError, match="not finite"):
        jackknife_ci(lambda rows: np.nan, speakers)


def test_speaker_means_by_hand():
    names, means = speaker_means([1.0, 0.0, 1.0, 1.0, 0.5], ["b", "a", "b", "a", "c"])
    assert names.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(means, [0.5, 1.0, 0.5])
    with pytest.raises(ValueError, match="one entry per score"):
        speaker_means([1.0, 2.0], ["a"])


def brute_speaker_p(a, b, speakers) -> float:
    """Enumerate every sign pattern of the per-speaker mean differences (itertools, independent of the module)."""
    d = np.array([np.mean(np.asarray(a)[np.asarray(speakers) == s] - np.asarray(b)[np.asarray(speakers) == s])
                  for s in sorted(set(speakers))])
    return exact_p(d)


def test_speaker_sign_flip_is_exact_and_works_on_speakers_not_items():
    rng = np.random.default_rng(5)
    speakers = np.repeat([f"s{i}" for i in range(6)], 15)
    a = rng.normal(0, 1, 90) + np.repeat(rng.normal(0.2, 0.3, 6), 15)
    b = rng.normal(0, 1, 90)
    p = speaker_sign_flip_test(a, b, speakers)
    assert p == pytest.approx(brute_speaker_p(a, b, speakers), abs=1e-12)
    assert p * 2 ** 6 == pytest.approx(round(p * 2 ** 6)), "an exact p-value is a multiple of 1 / 2**n"
    consistent = speaker_sign_flip_test(np.ones(90) + 0.1 * rng.normal(size=90), np.zeros(90), speakers)
    assert consistent == pytest.approx(2 / 2 ** 6), "every speaker better: only the pattern and its mirror"
    # 1000 items of 8 speakers: an item-level test would give a tiny p; with 8 speakers it cannot go below 2/256
    many = np.repeat([f"s{i}" for i in range(8)], 125)
    assert speaker_sign_flip_test(np.ones(1000), np.zeros(1000), many) == pytest.approx(2 / 256)
    assert speaker_sign_flip_test(b, b, speakers) == 1.0


def test_speaker_sign_flip_falls_back_to_random_patterns_for_many_speakers():
    rng = np.random.default_rng(6)
    speakers = np.repeat([f"s{i}" for i in range(10)], 4)
    a, b = rng.normal(0.3, 1, 40), rng.normal(0, 1, 40)
    sampled = speaker_sign_flip_test(a, b, speakers, max_exact=16, n_perm=40000, seed=1)
    assert sampled == pytest.approx(brute_speaker_p(a, b, speakers), abs=0.01)
    with pytest.raises(ValueError, match="at least two speakers"):
        speaker_sign_flip_test([1.0, 2.0], [0.0, 0.0], ["s", "s"])


def test_holm_by_hand_and_against_bonferroni():
    got = holm([0.01, 0.04, 0.03, 0.005])
    # sorted: 0.005*4=0.02, 0.01*3=0.03, 0.03*2=0.06, 0.04*1=0.04 -> running max 0.06
    np.testing.assert_allclose(got, [0.03, 0.06, 0.06, 0.02])
    p = np.random.default_rng(7).uniform(0, 0.3, 12)
    adjusted = holm(p)
    assert np.all(adjusted >= p) and np.all(adjusted <= np.minimum(1, 12 * p) + 1e-15)
    assert holm([0.9, 0.8]).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.5, 1.5])


# --------------------------------------------------------------------------
# cue_share


def test_cue_share_by_hand():
    m = np.array([[5.0, 2.0, 1.0, 1.0],
                  [0.0, 1.0, 9.0, 0.0],
                  [1.0, 1.0, 1.0, 1.0],
                  [3.0, 3.0, 3.0, 3.0]])
    assert cue_share(m, target=0, cue=1) == pytest.approx(2.0), "2 / mean(1, 1); the target's own entry is left out"
    assert cue_share(m, target=3, cue=0) == pytest.approx(1.0)
    assert cue_share(m, target=2, cue=3) == pytest.approx(1.0)
    assert cue_share(m / 7.0, target=0, cue=1) == pytest.approx(2.0), "scale-free"
    assert isinstance(cue_share(m, 0, 1), float)


def test_cue_share_reads_the_row_not_the_column():
    m = np.array([[0.0, 4.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
    assert cue_share(m, target=0, cue=1) == pytest.approx(4.0)
    assert cue_share(m.T, target=0, cue=1) == pytest.approx(1.0)


def test_cue_share_on_a_stack():
    rng = np.random.default_rng(0)
    stack = rng.uniform(0.1, 1.0, (3, 2, 5, 5))
    got = cue_share(stack, target=2, cue=4)
    assert got.shape == (3, 2)
    for i, j in itertools.product(range(3), range(2)):
        assert got[i, j] == pytest.approx(cue_share(stack[i, j], 2, 4))


@pytest.mark.parametrize("m, target, cue, match", [
    (np.ones((3, 4)), 0, 1, "square"),
    (np.ones((2, 2)), 0, 1, "at least one other"),
    (np.ones((4, 4)), 0, 0, "same word"),
    (np.ones((4, 4)), 0, 4, "word index"),
    (np.ones((4, 4)), -1, 2, "word index"),
    (-np.ones((4, 4)), 0, 1, "negative"),
    (np.full((4, 4), np.nan), 0, 1, "NaN"),
    (np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]), 0, 1, "undefined"),
])
def test_cue_share_errors(m, target, cue, match):
    with pytest.raises(ValueError, match=match):
        cue_share(m, target, cue)


def test_average_ranks_match_scipy_with_ties():
    from scipy.stats import rankdata

    from course.stats import average_ranks

    rng = np.random.default_rng(5)
    for v in (rng.integers(0, 4, 30).astype(float), rng.normal(size=17), np.array([2.0, 2.0, 2.0]), np.array([1.0])):
        np.testing.assert_array_equal(average_ranks(v), rankdata(v))
    np.testing.assert_array_equal(average_ranks([3.0, 1.0, 3.0, 2.0]), [3.5, 1.0, 3.5, 2.0])
