"""Tests of the model-free helpers of ``course.features`` (extraction is tested in test_models.py)."""

import numpy as np
import pytest

from course.features import speaker_normalise


def test_speaker_normalise_gives_each_speaker_zero_mean_and_unit_variance():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(5, 2, (40, 3)), rng.normal(-1, 0.5, (30, 3))])
    spk = np.array(["a"] * 40 + ["b"] * 30)
    order = rng.permutation(len(x))  # rows need not be grouped by speaker
    out = speaker_normalise(x[order], spk[order])
    for s in ("a", "b"):
        rows = out[spk[order] == s]
        np.testing.assert_allclose(rows.mean(0), 0, atol=1e-12)
        np.testing.assert_allclose(rows.std(0), 1, atol=1e-12)
    np.testing.assert_allclose(out[np.argsort(order)][:40], (x[:40] - x[:40].mean(0)) / x[:40].std(0))


def test_speaker_normalise_centres_constant_dimensions_and_single_rows():
    x = np.array([[1.0, 7.0], [3.0, 7.0], [4.0, 2.0]])
    out = speaker_normalise(x, ["a", "a", "b"])
    np.testing.assert_array_equal(out, [[-1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    assert np.isfinite(out).all()


def test_speaker_normalise_keeps_float_dtype_copies_and_validates():
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    before = x.copy()
    out = speaker_normalise(x, [1, 2, 1, 2, 1, 2])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(x, before)
    assert speaker_normalise(np.arange(6).reshape(3, 2), ["a"] * 3).dtype == np.float64
    assert speaker_normalise(np.zeros((0, 4)), []).shape == (0, 4)
    with pytest.raises(ValueError, match="one speaker per row"):
        speaker_normalise(x, ["a"] * 5)
    with pytest.raises(ValueError, match="shape"):
        speaker_normalise(x[:, 0], ["a"] * 6)
