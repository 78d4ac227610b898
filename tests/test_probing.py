"""Probing datasets, linear probes, control tasks and MDL, checked on hand-built data."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from course.features import Representation, mfcc
from course.probing import (
    MDL_FRACTIONS,
    block_ends,
    control_labels,
    control_task,
    frame_dataset,
    heldout_scores,
    online_codelength,
    segment_dataset,
    selectivity,
    split_by_speaker,
    train_probe,
)
from course.textgrid import Interval


@dataclass
class Utt:
    """The fields of course.corpus.Utterance that probing reads."""

    id: str
    speaker: str
    phones: list
    words: list = field(default_factory=list)


def _frames(n_frames: int, dim: int = 2, offset: float = 0.0) -> np.ndarray:
    """Frame n holds [n, n + offset, ...]: pooled values are easy to work out by hand."""
    return np.arange(n_frames, dtype=float)[:, None] + offset * np.arange(dim)[None, :]


@pytest.fixture
def toy():
    # frame centres 0.01, 0.03, 0.05, ...: [0.02, 0.08) owns frames 1, 2, 3; [0.08, 0.10) owns frame 4
    u1 = Utt("u1", "spkA", [Interval(0.02, 0.08, "a"), Interval(0.08, 0.10, "b")], [Interval(0.02, 0.10, "ab")])
    u2 = Utt("u2", "spkB", [Interval(0.0, 0.04, "b"), Interval(0.05, 0.09, "c")], [Interval(0.0, 0.09, "bc")])
    reps = [Representation("u1", np.stack([_frames(6), _frames(6) * 10])),
            Representation("u2", np.stack([_frames(5), _frames(5) * 10]))]
    return reps, [u1, u2]


# --------------------------------------------------------------------------
# Datasets


def test_frame_dataset_labels_follow_the_centre_rule(toy):
    reps, utts = toy
    ds = frame_dataset(reps, utts, layer=1)
    # u1: frames 1,2,3 -> a, 4 -> b (0 and 5 silent); u2: frames 0,1 -> b, [0.05, 0.09) owns centres 0.05, 0.07
    assert ds.y.tolist() == ["a", "a", "a", "b", "b", "b", "c", "c"]
    np.testing.assert_array_equal(ds.X[:, 0], [10, 20, 30, 40, 0, 10, 20, 30])
    assert ds.groups.tolist() == ["spkA"] * 4 + ["spkB"] * 4
    assert ds.utt_ids.tolist() == ["u1"] * 4 + ["u2"] * 4
    with_sil = frame_dataset(reps, utts, layer=0, silence="sil")
    assert with_sil.y.tolist() == ["sil", "a", "a", "a", "b", "sil", "b", "b", "c", "c", "sil"]
    words = frame_dataset(reps, utts, layer=0, tier="words")
    assert words.y.tolist() == ["ab"] * 4 + ["bc"] * 4  # centre 0.09 is excluded: [0.0, 0.09) owns 0..3


def test_segment_dataset_pools_the_owned_frames(toy):
    reps, utts = toy
    ds = segment_dataset(reps, utts, layer=0)
    assert ds.y.tolist() == ["a", "b", "b", "c"]
    np.testing.assert_allclose(ds.X[:, 0], [2.0, 4.0, 0.5, 2.5])  # means of frames {1,2,3}, {4}, {0,1}, {2,3}
    np.testing.assert_allclose(segment_dataset(reps, utts, layer=0, reduce="max").X[:, 0], [3, 4, 1, 3])
    assert segment_dataset(reps, utts, layer=0, tier="words").X[:, 0].tolist() == [2.5, 1.5]


def test_segments_after_the_last_frame_are_left_out():
    utt = Utt("u", "s", [Interval(0.0, 0.04, "a"), Interval(0.2, 0.3, "z")])
    ds = segment_dataset([_frames(4)], [utt])  # 4 frames = 0.08 s
    assert ds.y.tolist() == ["a"]


def test_plain_arrays_work_like_representations(toy, default_corpus):
    reps, utts = toy
    a = segment_dataset([r.hidden_states for r in reps], utts, layer=1)
    b = segment_dataset([r.layer(1) for r in reps], utts)
    np.testing.assert_array_equal(a.X, b.X)
    # a real utterance with MFCCs: one row per phone, its speaker as group
    utt = default_corpus[default_corpus.ids(split="test")[0]]
    ds = segment_dataset([mfcc(utt.waveform)], [utt])
    assert ds.y.tolist() == [p.label for p in utt.phones]
    assert set(ds.groups) == {utt.speaker} and ds.X.shape[1] == 13


def test_dataset_bad_input(toy):
    reps, utts = toy
    with pytest.raises(ValueError, match="choose one with layer"):
        frame_dataset(reps, utts)
    with pytest.raises(ValueError, match="use layer=None"):
        frame_dataset([r.layer(0) for r in reps], utts, layer=0)
    with pytest.raises(ValueError, match="out of range"):
        segment_dataset(reps, utts, layer=2)
    with pytest.raises(ValueError, match="same order"):
        segment_dataset(reps[::-1], utts, layer=0)
    with pytest.raises(ValueError, match="2 feature arrays but 1"):
        segment_dataset(reps, utts[:1], layer=0)
    with pytest.raises(ValueError, match="No utterances"):
        segment_dataset([], [], layer=0)
    with pytest.raises(ValueError, match="tier"):
        segment_dataset(reps, utts, layer=0, tier="syllables")
    with pytest.raises(ValueError, match="empty"):
        segment_dataset(reps, [Utt("u1", "s", []), Utt("u2", "s", [])], layer=0)


def test_split_by_speaker_is_speaker_disjoint(toy):
    reps, utts = toy
    train, test = split_by_speaker(frame_dataset(reps, utts, layer=0), ["spkB"])
    assert set(train.groups) == {"spkA"} and set(test.groups) == {"spkB"}
    assert len(train) + len(test) == 8
    with pytest.raises(ValueError, match="None of the test speakers"):
        split_by_speaker(frame_dataset(reps, utts, layer=0), ["spkC"])
    with pytest.raises(ValueError, match="training set would be empty"):
        split_by_speaker(frame_dataset(reps, utts, layer=0), ["spkA", "spkB"])


# --------------------------------------------------------------------------
# Probes


def _blobs(rng, n_per_class=60, n_classes=4, dim=10, spread=0.3):
    centres = rng.standard_normal((n_classes, dim)) * 3
    y = np.repeat(np.arange(n_classes), n_per_class)
    return centres[y] + spread * rng.standard_normal((len(y), dim)), np.array([f"p{k}" for k in y])


def test_probe_separates_separable_classes_and_not_random_labels():
    rng = np.random.default_rng(0)
    x, y = _blobs(rng)
    xt, yt = _blobs(np.random.default_rng(0), spread=0.3)  # same centres, new noise below
    xt = xt + 0.3 * rng.standard_normal(xt.shape)
    res = train_probe(x, y, xt, yt)
    pred = res.probe.predict(xt)
    assert res.score == pytest.approx(np.mean(pred == yt)) and res.score > 0.97
    shuffled = rng.permutation(y)
    assert train_probe(x, shuffled, xt, yt).score < 0.5  # chance is 0.25


def _voices(rng, n=10):
    """Two training speakers and two held-out ones (x with an unusual voice, y like the training speakers), phones
    a and b; per held-out speaker n enrolment and n test rows. Returns X, labels, speakers, train, test."""
    X, y, spk, train, test = [], [], [], [], []
    for s, shift, voice, roles in (("t1", 0, 0, "t"), ("t2", 0, 0, "t"), ("x", 3, 5, "et"), ("y", 0, 0, "et")):
        for role in roles:
            for k in range(n):
                label = "ab"[k % 2]
                X.append([(-1 if label == "a" else 1) + shift + 0.1 * rng.standard_normal(), voice])
                y.append(label), spk.append(s)
                train.append(s.startswith("t") or role == "e")
                test.append(not s.startswith("t") and role == "t")
    return np.array(X), np.array(y), np.array(spk), np.array(train), np.array(test)


def test_heldout_scores_score_each_speaker_with_a_probe_that_never_saw_it():
    rng = np.random.default_rng(0)
    X, y, spk, train, test = _voices(rng)
    noise = rng.standard_normal((len(y), 3))
    table = heldout_scores({"layer": X, "control": noise}, y, spk, train, test, [["x"], ["y"]])
    assert list(table.columns) == ["layer", "control"] and list(table.index) == ["x", "y"]
    assert table.index.name == "speaker"
    # y sounds like the training speakers; x's voice moves both phones: a probe that never heard x says "b"
    assert table.loc["y", "layer"] == 1.0 and table.loc["x", "layer"] == 0.5
    # by hand: x is scored by a probe fitted on every training row except x's own
    fit = train & (spk != "x")
    probe = train_probe(noise[fit], y[fit], noise[test], y[test]).probe
    mine = test & (spk == "x")
    assert table.loc["x", "control"] == pytest.approx(np.mean(probe.predict(noise[mine]) == y[mine]))
    # with x's enrolment rows in training (a leak) the probe would have learned x's voice
    leaky = train_probe(X[train], y[train], X[mine], y[mine]).score
    assert leaky > 0.9


def test_heldout_scores_keep_speakers_of_a_fold_apart_and_refuse_bad_folds():
    rng = np.random.default_rng(1)
    X, y, spk, train, test = _voices(rng)
    together = heldout_scores({"layer": X}, y, spk, train, test, [["x", "y"]])
    assert together["layer"].tolist() == [0.5, 1.0]  # per speaker, not pooled over the fold
    with pytest.raises(ValueError, match="exactly one fold"):
        heldout_scores({"layer": X}, y, spk, train, test, [["x"]])
    with pytest.raises(ValueError, match="one entry per row"):
        heldout_scores({"layer": X[:-1]}, y, spk, train, test, [["x"], ["y"]])


def test_probe_standardises_features():
    rng = np.random.default_rng(1)
    x, y = _blobs(rng, dim=6, spread=2.0)
    scale = np.array([1e-4, 1.0, 1e4, 1.0, 1e3, 1e-2])
    a = train_probe(x[::2], y[::2], x[1::2], y[1::2])
    b = train_probe(x[::2] * scale, y[::2], x[1::2] * scale, y[1::2])
    np.testing.assert_array_equal(a.probe.predict(x[1::2]), b.probe.predict(x[1::2] * scale))
    # the same as a logistic regression on features standardised by hand with the training statistics
    mu, sd = x[::2].mean(0), x[::2].std(0)
    by_hand = LogisticRegression(max_iter=300, tol=1e-3).fit((x[::2] - mu) / sd, y[::2])
    np.testing.assert_allclose(a.probe.predict_proba(x[1::2]), by_hand.predict_proba((x[1::2] - mu) / sd), atol=1e-6)


def test_regression_probe_is_scored_with_r2():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 5))
    target = x @ np.array([1.0, -2.0, 0.0, 0.5, 0.0]) + 0.5 * rng.standard_normal(300)
    res = train_probe(x[:200], target[:200], x[200:], target[200:], task="regression")
    pred = res.probe.predict(x[200:])
    r2 = 1 - np.sum((target[200:] - pred) ** 2) / np.sum((target[200:] - target[200:].mean()) ** 2)
    assert res.score == pytest.approx(r2) and 0.85 < res.score < 0.99  # noise variance 0.25 of ≈5.5


def test_probe_bad_input():
    rng = np.random.default_rng(3)
    x, y = _blobs(rng)
    with pytest.raises(ValueError, match="both the training and the test set"):
        train_probe(x, y, x, y, groups=(np.array(["s1"] * len(y)), np.array(["s1"] * len(y))))
    with pytest.raises(ValueError, match="dimension"):
        train_probe(x, y, x[:, :3], y)
    with pytest.raises(ValueError, match="has 240 rows but y_train has 10"):
        train_probe(x, y[:10], x, y)
    with pytest.raises(ValueError, match="single class"):
        train_probe(x, np.array(["a"] * len(y)), x, y)
    with pytest.raises(ValueError, match="task"):
        train_probe(x, y, x, y, task="ranking")
    with pytest.raises(ValueError, match="empty"):
        train_probe(x[:0], y[:0], x, y)


# --------------------------------------------------------------------------
# Control tasks


def test_control_task_gives_one_label_per_type_drawn_from_the_token_distribution():
    rng = np.random.default_rng(4)
    n_types = 2000
    # label "A" covers 90 % of the tokens but only one type in ten: sampling by types would give ≈10 % "A"
    types = np.array([f"w{i}" for i in range(n_types)])
    labels = np.where(np.arange(n_types) % 10 == 0, "A", "B")
    counts = np.where(labels == "A", 81, 1)  # type frequency in the token stream
    tok_types, tok_labels = np.repeat(types, counts), np.repeat(labels, counts)
    mapping = control_task(rng.permutation(tok_types), tok_labels, seed=0)
    assert set(mapping) == set(types)
    share_a = np.mean([mapping[t] == "A" for t in types])
    assert 0.87 < share_a < 0.93  # binomial(2000, 0.9): sd 0.007
    ctrl = control_labels(tok_types, mapping)
    for t in types[:50]:
        assert len(set(ctrl[tok_types == t])) == 1
    assert control_task(tok_types, tok_labels, seed=0) == mapping
    assert control_task(tok_types, tok_labels, seed=1) != mapping


def test_control_task_defaults_to_the_types_as_labels_and_rejects_unknown_types():
    types = ["a"] * 5 + ["b"] * 3 + ["c"] * 2
    mapping = control_task(types, seed=3)
    assert set(mapping) == {"a", "b", "c"} and set(mapping.values()) <= {"a", "b", "c"}
    with pytest.raises(KeyError, match="Types without a control label"):
        control_labels(["a", "d"], mapping)
    with pytest.raises(ValueError, match="3 types but 2 labels"):
        control_task(["a", "b", "c"], ["x", "y"])
    assert selectivity(0.9, 0.55) == pytest.approx(0.35)


# --------------------------------------------------------------------------
# MDL


def test_block_ends_are_the_voita_titov_fractions():
    assert MDL_FRACTIONS == (0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.25, 12.5, 25, 50, 100)
    assert block_ends(1000).tolist() == [1, 2, 4, 8, 16, 32, 62, 125, 250, 500, 1000]
    assert block_ends(10).tolist() == [1, 2, 5, 10]  # duplicates removed, at least one item per block
    with pytest.raises(ValueError, match="end at 100"):
        block_ends(100, [10, 50])


def _online_code_by_hand(x, y, ends, k, eps=1e-3, C=1.0):
    """Transmit block 1 uniformly, then each next block with a probe fitted on everything before it."""
    bits = [ends[0] * np.log2(k)]
    for a, b in zip(ends[:-1], ends[1:]):
        if len(set(y[:a])) == 1:  # nothing to fit: the only class seen gets probability 1
            probs = [{y[0]: 1.0}] * (b - a)
        else:
            probe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=300, tol=1e-3))
            probe.fit(x[:a], y[:a])
            probs = [dict(zip(probe.classes_, row)) for row in probe.predict_proba(x[a:b])]
        bits.append(sum(-np.log2((1 - eps) * p.get(label, 0.0) + eps / k) for p, label in zip(probs, y[a:b])))
    return np.array(bits)


def test_online_codelength_matches_a_hand_computation():
    rng = np.random.default_rng(5)
    x, y = _blobs(rng, n_per_class=150, n_classes=3, dim=4, spread=1.5)
    # unshuffled, the first blocks hold class p0 only: the single-class case is exercised too
    code = online_codelength(x, y, seed=None, fractions=(2, 5, 10, 25, 50, 100))
    assert code.block_ends.tolist() == [9, 22, 45, 112, 225, 450]
    np.testing.assert_allclose(code.block_bits, _online_code_by_hand(x, y, code.block_ends, 3), rtol=1e-6)
    assert code.block_bits[0] == pytest.approx(9 * np.log2(3))
    assert code.block_bits[1] == pytest.approx(13 * -np.log2(1 - 1e-3 + 1e-3 / 3))
    assert code.codelength == pytest.approx(code.block_bits.sum())
    assert code.uniform_codelength == pytest.approx(450 * np.log2(3))
    assert code.compression == pytest.approx(code.uniform_codelength / code.codelength)
    # shuffling (the default) changes the order, hence the code, reproducibly
    shuffled = online_codelength(x, y, fractions=(2, 5, 10, 25, 50, 100))
    assert shuffled.codelength != code.codelength
    assert shuffled.codelength == online_codelength(x, y, fractions=(2, 5, 10, 25, 50, 100)).codelength


def test_online_codelength_rewards_extractable_labels():
    rng = np.random.default_rng(6)
    x, y = _blobs(rng, n_per_class=200, n_classes=8, dim=16, spread=0.5)
    easy = online_codelength(x, y)
    noise = online_codelength(x, rng.permutation(y))
    assert easy.compression > 4  # ≈ all labels predicted; the early blocks dominate
    assert noise.compression < 1.05  # nothing to extract: no better than the uniform code
    assert easy.n_classes == 8 and easy.block_ends[-1] == 1600


def test_online_codelength_bad_input():
    x = np.zeros((20, 2))
    with pytest.raises(ValueError, match="at least 2 classes"):
        online_codelength(x, np.array(["a"] * 20))
    with pytest.raises(ValueError, match="not in classes"):
        online_codelength(x, np.array(["a", "b"] * 10), classes=["a", "c"])
    with pytest.raises(ValueError, match="eps"):
        online_codelength(x, np.array(["a", "b"] * 10), eps=0.0)


def _layer_sets(rng, n=12):
    """Two layers and a noise control over the same rows: training speakers t1, t2 and held-out x (an unusual voice:
    shifted by one phone) and y (like the training speakers); phones a, b, c and a rare z not probed."""
    from course.probing import ProbingDataset

    who = np.repeat(["t1", "t2", "x", "y"], n)
    phones = np.tile(["a", "b", "c"], len(who) // 3)
    phones[[5, 29]] = "z"  # one z of t1 and one of x, left out of the probe
    centre = np.select([phones == "a", phones == "b", phones == "c"], [-3.0, 0.0, 3.0], 6.0)
    shift = np.where(who == "x", 3.0, 0.0)
    sets = []
    for noise in (0.4, 0.1):  # layer 0 noisier than layer 1
        X = np.c_[centre + shift + noise * rng.standard_normal(len(who)), 5.0 * (who == "x")]
        sets.append(ProbingDataset(X, phones, who, np.arange(len(who))))
    controls = [ProbingDataset(rng.standard_normal((len(who), 3)), phones, who, np.arange(len(who)))
                for _ in sets]
    return sets, controls


def test_layer_profile_scores_each_held_out_speaker_per_layer_with_its_control():
    from course.probing import layer_profile

    sets, controls = _layer_sets(np.random.default_rng(0))
    table = layer_profile(sets, controls, ["x", "y"], ["a", "b", "c"])
    assert list(table.columns) == ["layer", "speaker", "model", "control"]
    assert list(zip(table.layer, table.speaker)) == [(0, "x"), (0, "y"), (1, "x"), (1, "y")]
    # y sounds like the training speakers; a probe that never heard x's voice reads a as b, b as c: x keeps only
    # its three c (its z is not scored)
    assert table.loc[table.speaker == "y", "model"].tolist() == [1.0, 1.0]
    assert table.loc[(table.speaker == "x") & (table.layer == 1), "model"].item() == pytest.approx(3 / 11)
    assert table.control.max() < 0.8
    # by hand: layer 1's control, speaker y, from a probe fitted on the training speakers' a, b and c only
    ds = controls[1]
    fit = np.isin(ds.groups, ["t1", "t2"]) & (ds.y != "z")
    mine = (ds.groups == "y") & (ds.y != "z")
    probe = train_probe(ds.X[fit], ds.y[fit], ds.X[mine], ds.y[mine]).probe
    assert table.control.iloc[3] == pytest.approx(np.mean(probe.predict(ds.X[mine]) == ds.y[mine]))


def test_layer_profile_refuses_mismatched_controls():
    from course.probing import layer_profile

    sets, controls = _layer_sets(np.random.default_rng(1))
    with pytest.raises(ValueError, match="One control dataset per layer"):
        layer_profile(sets, controls[:1], ["x"], ["a", "b", "c"])
    with pytest.raises(ValueError, match="rows differ"):
        layer_profile(sets, controls[::-1][:1] + [sets[0].subset(np.arange(len(sets[0]))[::-1])], ["x"], ["a", "b"])
    with pytest.raises(ValueError, match="No row of a held-out speaker"):
        layer_profile(sets, controls, ["nobody"], ["a", "b", "c"])
