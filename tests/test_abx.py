"""ABX: items, the DTW distance and the macro-averaged error, against brute force and a triple-loop reference."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from course.abx import (
    ABXItems,
    abx_error,
    abx_profile,
    dtw_batch,
    dtw_distance,
    error_ci,
    frame_distances,
    pair_distances,
    phone_items,
    speaker_errors,
    subsample_items,
)
from course.features import Representation
from course.textgrid import Interval


@dataclass
class Utt:
    id: str
    speaker: str
    phones: list


# --------------------------------------------------------------------------
# Independent reference implementations (plain Python)


def _naive_item_distance(x, y):
    """Angular frame distance and average-cost DTW written out with loops and tuple comparison."""
    def unit(v):
        norm = math.sqrt(sum(t * t for t in v))
        return [t / norm for t in v] if norm > 0 else list(v)

    xs, ys = [unit(v) for v in x], [unit(v) for v in y]
    cost = [[math.acos(max(-1.0, min(1.0, sum(p * q for p, q in zip(a, b))))) / math.pi for b in ys] for a in xs]
    n, m = len(xs), len(ys)
    best = {}  # (i, j) -> (total cost, cells): Python's tuple order is "cheapest, then fewest cells"
    for i in range(n):
        for j in range(m):
            if i == 0 and j == 0:
                best[0, 0] = (cost[0][0], 1)
                continue
            prev = min(best[p] for p in ((i - 1, j), (i, j - 1), (i - 1, j - 1)) if p in best)
            best[i, j] = (prev[0] + cost[i][j], prev[1] + 1)
    total, cells = best[n - 1, m - 1]
    return total / cells


def _reference_abx(items, mode):
    """Every (A, B, X) triplet by a triple loop; then contexts -> speakers -> phone pairs."""
    dist = {}

    def d(i, j):
        if (i, j) not in dist:
            dist[i, j] = _naive_item_distance(items.features[i].tolist(), items.features[j].tolist())
        return dist[i, j]

    ph, spk, ctx = items.phones, items.speakers, items.contexts
    cells = defaultdict(list)
    n = len(items)
    for a in range(n):
        for b in range(n):
            for x in range(n):
                if ph[x] != ph[a] or ph[b] == ph[a] or not ctx[a] == ctx[b] == ctx[x] or spk[a] != spk[b]:
                    continue
                if mode == "within" and (spk[x] != spk[a] or x == a):
                    continue
                if mode == "across" and spk[x] == spk[a]:
                    continue
                dxa, dxb = d(x, a), d(x, b)
                cells[ctx[a], spk[a], spk[x], ph[a], ph[b]].append(1.0 if dxa < dxb else 0.5 if dxa == dxb else 0.0)
    per_speaker = defaultdict(list)
    for (c, s, sx, pa, pb), scores in cells.items():
        per_speaker[s, pa, pb].append(np.mean(scores))
    per_pair = defaultdict(list)
    for (s, pa, pb), scores in per_speaker.items():
        per_pair[pa, pb].append(np.mean(scores))
    pair_error = {k: 1 - np.mean(v) for k, v in per_pair.items()}
    return float(np.mean(list(pair_error.values()))), pair_error, sum(len(v) for v in cells.values())


def _random_items(seed, n_speakers=3, phones=("a", "b", "c"), contexts=("x+y", "y+x"), per_group=(1, 3), dim=4):
    rng = np.random.default_rng(seed)
    centres = {p: rng.standard_normal(dim) for p in phones}
    feats, ph, spk, ctx = [], [], [], []
    for s, p, c in itertools.product(range(n_speakers), phones, contexts):
        for _ in range(rng.integers(per_group[0], per_group[1] + 1)):
            length = int(rng.integers(1, 6))
            feats.append(centres[p] + 0.9 * rng.standard_normal((length, dim)) + 0.3 * rng.standard_normal(dim) * s)
            ph.append(p)
            spk.append(f"s{s}")
            ctx.append(c)
    return ABXItems(feats, np.array(ph), np.array(spk), np.array(ctx))


# --------------------------------------------------------------------------
# Distances


def test_frame_distance_is_the_angle_over_pi():
    a = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0], [0.0, 0.0]])
    b = np.array([[5.0, 0.0], [-1.0, 0.0]])
    expected = np.array([[0, 1], [0.5, 0.5], [0.25, 0.75], [0.5, 0.5]])  # a zero frame is at 0.5 from everything
    np.testing.assert_allclose(frame_distances(a, b), expected, atol=1e-12)
    # scaling a frame does not matter (frames are L2-normalised), and identical frames are at distance 0 exactly
    v = np.array([[0.3, -1.2, 2.2]])
    assert frame_distances(v, 7 * v)[0, 0] == pytest.approx(0.0, abs=1e-7)


def _all_paths(n, m):
    """Every monotone path from (0, 0) to (n-1, m-1) with steps (1, 0), (0, 1), (1, 1)."""
    if (n, m) == (1, 1):
        yield [(0, 0)]
        return
    for di, dj in ((1, 0), (0, 1), (1, 1)):
        if n - di >= 1 and m - dj >= 1:
            for path in _all_paths(n - di, m - dj):
                yield path + [(n - 1, m - 1)]


def test_dtw_is_the_cheapest_path_averaged_over_its_cells_by_brute_force():
    rng = np.random.default_rng(0)
    for n, m in [(1, 1), (1, 4), (3, 1), (2, 2), (3, 4), (4, 4), (5, 3)]:
        # costs on a coarse grid make equal-cost paths of different lengths common
        costs = rng.choice([0.0, 0.25, 0.5, 1.0], size=(6, n, m))
        for c, got in zip(costs, dtw_batch(costs)):
            totals = [(sum(c[i, j] for i, j in p), len(p)) for p in _all_paths(n, m)]
            total, cells = min(totals)
            assert got == total / cells, (n, m)


def test_dtw_hand_worked_examples():
    assert dtw_batch(np.array([[[0.0, 1.0], [1.0, 0.0]]]))[0] == 0.0  # the diagonal: 0 + 0 over 2 cells
    assert dtw_batch(np.array([[[1.0, 2.0, 3.0]]]))[0] == 2.0  # one row: every cell, (1 + 2 + 3) / 3
    # cheapest path (0,0)->(0,1)->(1,2): (0.1 + 0.1 + 0.1) / 3; the diagonal start would cost 0.1 + 0.9 + ...
    c = np.array([[[0.1, 0.1, 0.9], [0.9, 0.9, 0.1]]])
    assert dtw_batch(c)[0] == pytest.approx(0.1)
    # ties: (0,0)->(1,1)->(2,2) costs 0 in 3 cells, (0,0)->(1,0)->(2,1)->(2,2) costs 0 in 4 cells; both average 0,
    # but the cell count decides when the total is positive: cost 0.6 at (2,2) -> 0.6/3, not 0.6/4
    c = np.zeros((1, 3, 3))
    c[0, 2, 2] = 0.6
    assert dtw_batch(c)[0] == pytest.approx(0.2)


def test_dtw_distance_is_symmetric_and_matches_the_naive_loops():
    rng = np.random.default_rng(1)
    for _ in range(20):
        x, y = rng.standard_normal((rng.integers(1, 7), 5)), rng.standard_normal((rng.integers(1, 7), 5))
        assert dtw_distance(x, y) == pytest.approx(_naive_item_distance(x.tolist(), y.tolist()), abs=1e-12)
        assert dtw_distance(x, y) == pytest.approx(dtw_distance(y, x), abs=1e-12)
    feats = [rng.standard_normal((rng.integers(1, 6), 3)) for _ in range(12)]
    pairs = np.array([(i, j) for i in range(12) for j in range(12)])
    batched = pair_distances(feats, pairs, chunk=5)
    # an item with itself: arccos of a dot product that rounds to 1 - 1e-16 is ~1e-8, not 0 (arccos has no better
    # resolution near 1), so self-distances agree only to that level
    np.testing.assert_allclose(batched, [dtw_distance(feats[i], feats[j]) for i, j in pairs], rtol=0, atol=1e-8)
    off_diagonal = pairs[:, 0] != pairs[:, 1]
    np.testing.assert_allclose(batched[off_diagonal], [dtw_distance(feats[i], feats[j]) for i, j in pairs[off_diagonal]],
                               rtol=1e-12, atol=0)


def test_distance_bad_input():
    with pytest.raises(ValueError, match="shapes"):
        frame_distances(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="batch, n >= 1"):
        dtw_batch(np.zeros((2, 0, 3)))


# --------------------------------------------------------------------------
# Items


def test_phone_items_frames_and_triphone_contexts():
    # 10 frames = 0.2 s; a pause of 0.06 s before "c"
    utt = Utt("u", "s1", [Interval(0.0, 0.03, "a"), Interval(0.03, 0.07, "b"), Interval(0.13, 0.19, "c"),
                          Interval(0.25, 0.3, "d")])
    frames = np.arange(10, dtype=float)[:, None] * np.ones((1, 2))
    items = phone_items([Representation("u", np.stack([frames, -frames]))], [utt], layer=0)
    assert items.phones.tolist() == ["a", "b", "c"]  # "d" starts after the last frame
    assert [f[:, 0].tolist() for f in items.features] == [[0.0], [1.0, 2.0], [6.0, 7.0, 8.0]]
    assert items.contexts.tolist() == ["#+b", "a+#", "#+#"]
    assert items.speakers.tolist() == ["s1"] * 3
    no_ctx = phone_items([frames], [utt], context=False)
    assert no_ctx.contexts.tolist() == ["", "", ""]
    assert phone_items([frames], [utt], pause=0.1).contexts.tolist() == ["#+b", "a+c", "b+#"]


def test_subsample_items_caps_each_group():
    items = _random_items(0, per_group=(2, 6))
    small = subsample_items(items, 2, seed=0)
    keys = list(zip(small.contexts, small.speakers, small.phones))
    assert max(keys.count(k) for k in set(keys)) == 2
    assert set(keys) == set(zip(items.contexts, items.speakers, items.phones))
    assert subsample_items(items, 2, seed=0).phones.tolist() == small.phones.tolist()
    with pytest.raises(ValueError, match="at least 1"):
        subsample_items(items, 0)


def test_items_bad_input():
    with pytest.raises(ValueError, match="phones has 1 entries but there are 2 items"):
        ABXItems([np.zeros((1, 2))] * 2, np.array(["a"]), np.array(["s", "s"]), np.array(["", ""]))
    with pytest.raises(ValueError, match="n_frames >= 1"):
        ABXItems([np.zeros((0, 2))], np.array(["a"]), np.array(["s"]), np.array([""]))
    with pytest.raises(ValueError, match="one dim"):
        ABXItems([np.zeros((1, 2)), np.zeros((1, 3))], np.array(["a", "b"]), np.array(["s", "s"]), np.array(["", ""]))
    with pytest.raises(ValueError, match="No phone segments"):
        phone_items([np.zeros((5, 2))], [Utt("u", "s", [])])


# --------------------------------------------------------------------------
# Scores


@pytest.mark.parametrize("mode", ["within", "across"])
@pytest.mark.parametrize("seed, smallest_group", [(0, 1), (1, 1), (2, 0), (3, 0)])
def test_abx_matches_the_triple_loop_reference(mode, seed, smallest_group):
    # smallest_group 0: some (speaker, phone, context) groups are empty, so cells are unbalanced and the order of
    # the averages matters
    items = _random_items(seed, n_speakers=4, per_group=(smallest_group, 3))
    expected, pair_errors, n_triplets = _reference_abx(items, mode)
    result = abx_error(items, mode)
    assert result.error == pytest.approx(expected, abs=1e-12)
    assert result.n_triplets == n_triplets
    got = {(r.a, r.b): r.error for r in result.by_pair.itertuples()}
    assert got.keys() == pair_errors.keys()
    for k in got:
        assert got[k] == pytest.approx(pair_errors[k], abs=1e-12)
    assert result.error < 0.5  # phones differ by their centres: better than chance


def test_ties_score_one_half_and_the_reference_agrees():
    rng = np.random.default_rng(3)
    base = [rng.standard_normal((2, 3)) for _ in range(3)]
    # B is an exact copy of A: every triplet with that A and B is a tie
    feats = [base[0], base[1], base[0].copy(), base[2]]
    items = ABXItems(feats, np.array(["a", "a", "b", "b"]), np.array(["s"] * 4), np.array([""] * 4))
    result = abx_error(items, "within")
    expected, _, _ = _reference_abx(items, "within")
    assert result.error == pytest.approx(expected, abs=1e-12)
    cell = result.cells.set_index(["a", "b"]).loc[("a", "b")]
    assert cell["n_triplets"] == 4  # X, A in {item0, item1} (X != A), B in {item2, item3}
    ties = sum(1 for x, a in [(0, 1), (1, 0)] for b in (2, 3)
               if dtw_distance(feats[x], feats[a]) == dtw_distance(feats[x], feats[b]))
    assert ties >= 1


def test_abx_is_a_macro_average_not_a_mean_over_triplets():
    e1, e2 = np.eye(2)
    feats, ph, ctx = [], [], []
    # context c1: three clean a's and three clean b's -> every triplet right, in both directions (18 triplets each)
    for p, v in (("a", e1), ("b", e2)):
        for _ in range(3):
            feats.append(v[None, :].copy())
            ph.append(p)
            ctx.append("c1")
    # context c2: a1 = e1, a2 = e2, b1 = e1. (A=a1, X=a2): d(X,A) = d(X,B) = 0.5, a tie -> 0.5;
    # (A=a2, X=a1): d(X,A) = 0.5 > d(X,B) = 0 -> 0. Cell (c2, a, b) = 0.25; b has one item: no (c2, b, a) cell
    for p, v in (("a", e1), ("a", e2), ("b", e1)):
        feats.append(v[None, :].copy())
        ph.append(p)
        ctx.append("c2")
    items = ABXItems(feats, np.array(ph), np.array(["s"] * len(ph)), np.array(ctx))
    result = abx_error(items, "within")
    # pair (a, b): contexts (1 + 0.25) / 2 = 0.625; pair (b, a): 1 -> score 0.8125, error 0.1875
    assert result.error == pytest.approx(0.1875)
    assert result.n_triplets == 38  # a mean over triplets would give error (0 * 36 + 1.5) / 38 ≈ 0.04
    assert dict(zip(zip(result.by_pair.a, result.by_pair.b), result.by_pair.error)) == pytest.approx(
        {("a", "b"): 0.375, ("b", "a"): 0.0})


def test_abx_items_from_real_frames(default_corpus):
    from course.features import mfcc

    # varied sentences: version 2's minimal-pair items repeat one carrier, which MFCCs separate without an error
    utts = list(default_corpus.utterances(split="test", kind="rich", limit=6))
    items = phone_items([mfcc(u.waveform) for u in utts], utts, context=False)
    assert len(items) == sum(len(u.phones) for u in utts)
    result = abx_error(subsample_items(items, 3), "within")
    assert 0.0 < result.error < 0.5  # MFCCs separate phones far better than chance


def test_abx_bad_input():
    items = _random_items(0, n_speakers=1)
    with pytest.raises(ValueError, match="mode"):
        abx_error(items, "between")
    with pytest.raises(ValueError, match="no across-speaker ABX triplet"):
        abx_error(items, "across")
    single = ABXItems([np.ones((1, 2))] * 2, np.array(["a", "b"]), np.array(["s", "s"]), np.array(["", ""]))
    with pytest.raises(ValueError, match="no within-speaker ABX triplet"):
        abx_error(single, "within")
    with pytest.raises(ValueError, match="No ABX items"):
        abx_error(ABXItems([], np.array([]), np.array([]), np.array([])), "within")


# --------------------------------------------------------------------------
# Speakers as the unit of replication


def _speaker_items(errors_by_speaker):
    """One-frame items per speaker in one context: speaker s gets phone a right except for len(bad) flipped tokens."""
    e1, e2 = np.eye(2)
    feats, ph, spk = [], [], []
    for s, flipped in errors_by_speaker.items():
        # a: e1, e1 (or e2 for a flipped X); b: e2 -> the triplet with the flipped a as X is wrong
        for v, p in [(e1, "a"), (e2 if flipped else e1, "a"), (e2, "b"), (e2, "b")]:
            feats.append(v[None, :].copy())
            ph.append(p)
            spk.append(s)
    return ABXItems(feats, np.array(ph), np.array(spk), np.array([""] * len(ph)))


def test_speaker_errors_by_hand():
    # speaker s0 clean; s1: one a token points like b. Within s1, pair (a, b): X = a2 (e2) vs A = a1 (e1): d = 0.5,
    # vs B (e2): 0 -> wrong (2 triplets, B = b1, b2); X = a1 vs A = a2 (e2): 0.5, vs B: 0.5 -> ties (2 triplets, 1/2)
    # -> score 1/4; pair (b, a): X = b vs A = other b: 0; vs B = a1: 0.5 right, vs B = a2: 0 tie -> score 3/4.
    result = abx_error(_speaker_items({"s0": False, "s1": True}), "within")
    errors = speaker_errors(result)
    assert list(errors.index) == ["s0", "s1"]
    assert errors["s0"] == pytest.approx(0.0)
    assert errors["s1"] == pytest.approx(1 - (0.25 + 0.75) / 2)
    assert errors.mean() == pytest.approx(result.error)  # balanced: every speaker has every pair


def test_speaker_errors_differ_from_the_macro_error_when_pairs_are_unbalanced():
    items = _random_items(3, n_speakers=4, per_group=(0, 2))
    result = abx_error(items, "within")
    errors = speaker_errors(result)
    per = result.cells.groupby(["speaker", "a", "b"])["score"].mean()
    expected = 1 - per.groupby(level="speaker").mean()
    assert errors.to_dict() == pytest.approx(expected.to_dict())
    pairs_per_speaker = per.groupby(level="speaker").size()
    assert pairs_per_speaker.nunique() > 1  # the case the docstring warns about
    assert errors.mean() != pytest.approx(result.error)


def test_error_ci_resamples_speakers():
    # eight speakers, half of them with a flipped token: the interval spans the spread of voices
    result = abx_error(_speaker_items({f"s{k}": k % 2 == 1 for k in range(8)}), "within")
    low, high = error_ci(result, n_boot=2000, seed=1)
    assert low < result.error < high
    assert 0.0 <= low and high <= 0.5  # between every replicate drawing only clean and only flipped speakers
    assert high - low > 0.1
    # identical speakers: every replicate gives the same error and the interval collapses
    same = abx_error(_speaker_items({f"s{k}": True for k in range(8)}), "within")
    assert error_ci(same) == pytest.approx([same.error, same.error])
    assert error_ci(result, n_boot=2000, seed=1) == pytest.approx([low, high])  # seeded
    with pytest.raises(ValueError, match="two speakers"):
        error_ci(abx_error(_speaker_items({"s0": True}), "within"))


def test_pair_distances_do_not_depend_on_the_other_pairs_asked_for():
    # integer frames make many exactly equal distances; a tie must stay a tie whichever pairs share the call, since
    # the notebook's exercise computes its distances in one call and abx_error in another (dense and sparse paths,
    # either order of a pair)
    rng = np.random.default_rng(4)
    feats = [rng.integers(0, 2, size=(rng.integers(1, 5), 2)) + 0.5 for _ in range(40)]  # four distinct frames
    every = np.array([(i, j) for i in range(40) for j in range(40) if i != j])
    dense = pair_distances(feats, every)
    alone = np.array([pair_distances(feats, pair[None])[0] for pair in every[::7]])
    np.testing.assert_array_equal(dense[::7], alone)
    np.testing.assert_array_equal(pair_distances(feats, every[:, ::-1]), dense)
    assert len(np.unique(dense)) < len(dense) / 4  # the ties this test is about


def test_error_ci_is_the_generic_speaker_bootstrap_of_the_macro_error():
    # error_ci computes every replicate at once; it must equal the replicate loop of
    # course.stats.speaker_bootstrap_statistic over the (speaker, pair) scores, with unbalanced pairs
    from course import stats

    rng = np.random.default_rng(5)
    feats = [rng.standard_normal((rng.integers(1, 4), 3)) for _ in range(160)]
    items = ABXItems(feats, rng.choice(list("abcd"), 160), rng.choice([f"s{k}" for k in range(5)], 160),
                     rng.choice(["x", "y"], 160))
    for mode in ("within", "across"):
        result = abx_error(items, mode)
        per = result.cells.groupby(["speaker", "a", "b"])["score"].mean().reset_index()
        pair = (per["a"] + "/" + per["b"]).to_numpy()

        def macro_error(pairs, scores):
            return 1.0 - float(np.mean([scores[pairs == p].mean() for p in np.unique(pairs)]))

        loop = stats.speaker_bootstrap_statistic(macro_error, (pair, per["score"].to_numpy()),
                                                 per["speaker"].to_numpy(), n_boot=300, seed=2)
        np.testing.assert_allclose(error_ci(result, n_boot=300, seed=2), loop, rtol=0, atol=1e-12)


def _profile_items(seed, n_layers=2):
    """Two phones said three times by each of three speakers, one frame each: s1 clean, s2 a little noisy, s3 very
    noisy and with another voice; per layer, the model's items and a noise control on the same tokens."""
    rng = np.random.default_rng(seed)
    speakers = np.repeat(["s1", "s2", "s3"], 6)
    phones = np.tile(np.repeat(["a", "b"], 3), 3)
    noise = np.select([speakers == "s1", speakers == "s2"], [0.05, 0.6], 1.2)
    centre = np.where(phones == "a", 1.0, -1.0)[:, None] * np.array([[1.0, 0.0, 0.0]])
    voice = np.where(speakers == "s3", 1.5, 0.0)[:, None] * np.array([[0.0, 1.0, 1.0]])
    model, control = [], []
    for _ in range(n_layers):
        frames = centre + voice + noise[:, None] * rng.standard_normal((18, 3))
        model.append(ABXItems(list(frames[:, None, :]), phones, speakers, np.array([""] * 18)))
        control.append(ABXItems(list(rng.standard_normal((18, 1, 4))), phones, speakers, np.array([""] * 18)))
    return model, control


def test_abx_profile_gives_each_speakers_error_per_layer_for_model_and_control():
    model, control = _profile_items(0)
    for mode in ("within", "across"):
        table = abx_profile(model, control, mode)
        assert list(table.columns) == ["layer", "speaker", "model", "control"]
        assert list(zip(table.layer, table.speaker)) == [(0, "s1"), (0, "s2"), (0, "s3"), (1, "s1"), (1, "s2"),
                                                         (1, "s3")]
        for layer in (0, 1):
            rows = table[table.layer == layer].set_index("speaker")
            pd.testing.assert_series_equal(rows["model"], speaker_errors(abx_error(model[layer], mode)),
                                           check_names=False)
            pd.testing.assert_series_equal(rows["control"], speaker_errors(abx_error(control[layer], mode)),
                                           check_names=False)
    within = abx_profile(model, control, "within")
    assert (within.loc[within.speaker == "s1", "model"] == 0.0).all()  # clean tokens: no error
    assert within.loc[within.speaker == "s3", "model"].min() > 0.0  # each speaker keeps its own error
    assert within.model.mean() < within.control.mean()


def test_abx_profile_uses_the_given_abx_and_refuses_other_tokens():
    model, control = _profile_items(1)
    calls = []

    def counted(items, mode):
        calls.append((id(items), mode))
        return abx_error(items, mode)

    abx_profile(model, control, "across", abx=counted)
    assert sorted(calls) == sorted((id(i), "across") for i in model + control)
    with pytest.raises(ValueError, match="One control per layer"):
        abx_profile(model, control[:1])
    with pytest.raises(ValueError, match="One control per layer"):
        abx_profile([], [])
    shuffled = control[1].subset(np.random.default_rng(0).permutation(len(control[1])))
    with pytest.raises(ValueError, match="Layer 1: the control's items are not the model's tokens"):
        abx_profile(model, [control[0], shuffled])
    fewer = control[0].subset(np.arange(len(control[0])) != 3)
    with pytest.raises(ValueError, match="Layer 0"):
        abx_profile(model, [fewer, control[1]])
    with pytest.raises(ValueError, match="mode"):
        abx_profile(model, control, "both")
