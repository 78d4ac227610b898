import numpy as np
import pytest

from course.frames import (conv_receptive_field, starts_after_end, duration_stats, frame_labels, num_frames, pool_segments,
                           segment_frames, time_to_frame)
from course.textgrid import Interval


@pytest.mark.parametrize("t, frame", [
    (0.0, 0), (0.0199999, 0), (0.02, 1), (0.04, 2), (0.06, 3), (0.58, 29),  # 0.58 / 0.02 is 28.999999999999996
    (0.1, 5), (0.13999, 6), (0.14, 7), (1.0, 50), (2.3, 115),
])
def test_time_to_frame_boundaries(t, frame):
    assert time_to_frame(t) == frame


def test_time_to_frame_rejects_negative():
    with pytest.raises(ValueError, match=">= 0"):
        time_to_frame(-0.01)


@pytest.mark.parametrize("start, end, frames", [
    (0.0, 0.02, [0]),           # exactly one frame
    (0.0, 0.01, [0]),           # ends at frame 0's centre: too short, midpoint frame
    (0.01, 0.03, [0]),          # centre 0.01 inside, centre 0.03 excluded (end is exclusive)
    (0.0100001, 0.03, [1]),     # no centre inside: the frame holding the midpoint 0.02
    (0.05, 0.13, [2, 3, 4, 5]),  # centres 0.05, 0.07, 0.09, 0.11 (0.13 excluded)
    (0.06, 0.12, [3, 4, 5]),    # centres 0.07, 0.09, 0.11
    (0.29, 0.31, [14]),         # centre 0.29 inside
])
def test_segment_frames_centre_convention(start, end, frames):
    assert list(segment_frames(start, end)) == frames


def test_adjacent_segments_share_no_frame_and_cover_everything():
    bounds = np.round(np.cumsum([0, 0.033, 0.047, 0.021, 0.089, 0.06]), 6)
    owned = [list(segment_frames(a, b)) for a, b in zip(bounds[:-1], bounds[1:])]
    flat = [f for fr in owned for f in fr]
    assert flat == sorted(set(flat)), "a frame belongs to two segments"
    assert flat == list(range(flat[0], flat[-1] + 1)), "a frame between segments is owned by none"


def test_segment_frames_clips_to_n_frames_and_validates():
    assert list(segment_frames(0.5, 0.9, n_frames=30)) == [25, 26, 27, 28, 29]
    assert list(segment_frames(2.0, 2.1, n_frames=30)) == [29]  # beyond the output: last frame
    with pytest.raises(ValueError, match="after its start"):
        segment_frames(0.3, 0.3)


def test_num_frames_matches_wav2vec2_front_end():
    # wav2vec2's conv stack: kernel 400 samples, stride 320
    assert num_frames(399) == 0
    assert num_frames(400) == 1
    assert num_frames(16000) == 49
    assert num_frames(16000 * 2) == 99


def test_pool_segments_mean_and_other_reductions():
    feats = np.arange(20, dtype=np.float64).reshape(10, 2)  # frame n = [2n, 2n+1]
    ivs = [Interval(0.0, 0.06, "a"), Interval(0.06, 0.1, "b"), Interval(0.1, 0.2, "c")]
    pooled = pool_segments(feats, ivs)
    np.testing.assert_allclose(pooled[0], feats[0:3].mean(0))
    np.testing.assert_allclose(pooled[1], feats[3:5].mean(0))
    np.testing.assert_allclose(pooled[2], feats[5:10].mean(0))
    np.testing.assert_allclose(pool_segments(feats, ivs, reduce="max")[2], feats[9])
    np.testing.assert_allclose(pool_segments(feats, ivs, reduce="first")[1], feats[3])
    with pytest.raises(ValueError, match="reduce"):
        pool_segments(feats, ivs, reduce="median")
    with pytest.raises(ValueError, match="n_frames, dim"):
        pool_segments(feats[:, 0], ivs)


def test_frame_labels():
    ivs = [Interval(0.02, 0.06, "a"), Interval(0.08, 0.1, "b")]
    assert frame_labels(ivs, 6) == ["", "a", "a", "", "b", ""]


def test_frame_labels_centre_on_a_boundary_and_past_the_end():
    # 0.07 s is exactly frame 3's centre: it belongs to the segment starting there
    ivs = [Interval(0.0, 0.07, "a"), Interval(0.07, 0.7, "b"), Interval(0.7, 0.9, "c")]
    labels = frame_labels(ivs, 35)  # 35 frames end at 0.7 s (35 * 0.02 = 0.7000000000000001 in floats)
    assert labels[:4] == ["a", "a", "a", "b"]
    assert labels[-1] == "b" and "c" not in labels
    assert frame_labels([], 3, silence="sil") == ["sil"] * 3
    with pytest.raises(ValueError, match="n_frames"):
        frame_labels(ivs, -1)


def test_frame_labels_keeps_short_segments_whatever_their_order():
    short_first = [Interval(0.021, 0.029, "s"), Interval(0.029, 0.08, "a")]
    assert frame_labels(short_first, 5) == ["", "s", "a", "a", ""]
    assert frame_labels(short_first[::-1], 5) == ["", "s", "a", "a", ""]
    # starts inside the last frame but after its centre: it takes the last frame
    assert frame_labels([Interval(0.0, 0.195, "a"), Interval(0.195, 0.3, "b")], 10)[-2:] == ["a", "b"]


def test_frame_labels_keeps_every_segment_and_agrees_with_the_centre_rule():
    rng = np.random.default_rng(1)
    bounds = np.round(np.cumsum(np.r_[0.1, rng.uniform(0.005, 0.15, 200)]), 6)
    ivs = [Interval(a, b, f"p{i}") for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]
    assert any(b - a < 0.02 for a, b in zip(bounds[:-1], bounds[1:])), "the test needs short segments"
    n = int(bounds[-1] / 0.02) - 3  # the last segments start after the output ends
    labels = frame_labels(ivs, n)
    kept = {iv.label for iv in ivs if iv.start < n * 0.02}
    assert kept == set(labels) - {""}, "a segment that starts inside the output must keep a frame"
    for k, label in enumerate(labels):  # a frame keeps its centre's segment unless a short segment took it
        centre = (k + 0.5) * 0.02
        owner = next((iv.label for iv in ivs if iv.start <= centre < iv.end), "")
        taken = next((iv for iv in ivs if iv.label == label and not iv.start <= centre < iv.end), None)
        assert label == owner or (taken is not None and len(segment_frames(taken.start, taken.end, n)) == 1)


def test_conv_receptive_field():
    assert conv_receptive_field([10, 3, 3, 3, 3, 2, 2], [5, 2, 2, 2, 2, 2, 2]) == (400, 320)  # wav2vec 2.0
    assert conv_receptive_field([3, 3], [1, 2]) == (5, 2)
    with pytest.raises(ValueError, match="one kernel size"):
        conv_receptive_field([3], [1, 2])


def test_duration_stats_per_label_in_ms():
    from types import SimpleNamespace

    utts = [SimpleNamespace(phones=[Interval(0.0, 0.05, "a"), Interval(0.05, 0.08, "b"), Interval(0.08, 0.1, "")],
                            words=[Interval(0.0, 0.08, "ab")]),
            SimpleNamespace(phones=[Interval(0.2, 0.27, "a"), Interval(0.27, 0.36, "a")], words=[])]
    table = duration_stats(utts)
    assert list(table.index) == ["a", "b"] and table.index.name == "phone"
    assert list(table.columns) == ["count", "mean", "median", "std"]
    np.testing.assert_allclose(table.loc["a"], [3, 70, 70, np.std([50, 70, 90])])
    np.testing.assert_allclose(table.loc["b"], [1, 30, 30, 0])
    assert table["count"].dtype.kind == "i"
    assert list(duration_stats(utts, tier="words").index) == ["ab"]
    assert len(duration_stats([])) == 0
    with pytest.raises(ValueError, match="tier"):
        duration_stats(utts, tier="syllables")


def test_a_segment_starting_on_the_end_of_the_last_frame_has_no_frame():
    assert starts_after_end(0.58, 29)  # 0.58 / 0.02 = 28.999999999999996: float noise must not give it frame 28
    assert not starts_after_end(0.5799, 29)
    assert starts_after_end(1.25, 20000, 1 / 16000) and not starts_after_end(1.2499, 20000, 1 / 16000)
