"""RDMs, RSA and CKA, checked against scipy, brute force and known properties."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform
from scipy.stats import kendalltau, pearsonr, spearmanr
from scipy.stats import ortho_group

from course.similarity import (
    center_gram,
    cka,
    compare_rdms,
    feature_space_linear_cka,
    gram_linear,
    gram_rbf,
    kendall_tau_a,
    partial_rsa,
    rdm,
    rsa,
    upper_triangle,
)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# --------------------------------------------------------------------------
# RDMs


@pytest.mark.parametrize("metric, scipy_metric", [("correlation", "correlation"), ("cosine", "cosine")])
def test_rdm_matches_scipy(rng, metric, scipy_metric):
    x = rng.standard_normal((12, 7)) + 3.0
    np.testing.assert_allclose(rdm(x, metric), squareform(pdist(x, scipy_metric)), atol=1e-12)


def test_euclidean_rdm_uses_rsatoolbox_scaling(rng):
    x = rng.standard_normal((9, 5))
    expected = squareform(pdist(x, "sqeuclidean")) / x.shape[1]
    np.testing.assert_allclose(rdm(x, "euclidean"), expected, atol=1e-12)
    # and it is not scipy's plain Euclidean distance
    assert not np.allclose(rdm(x, "euclidean"), squareform(pdist(x, "euclidean")))


def test_rdm_hand_worked_example():
    x = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
    d = rdm(x, "euclidean")
    assert d[0, 1] == pytest.approx(25 / 2)  # squared distance 25, 2 channels
    assert d[1, 2] == pytest.approx((4 + 9) / 2)
    assert np.all(np.diag(d) == 0) and np.array_equal(d, d.T)
    np.testing.assert_array_equal(upper_triangle(d), [d[0, 1], d[0, 2], d[1, 2]])


def test_rdm_bad_input(rng):
    with pytest.raises(ValueError, match="Unknown RDM metric"):
        rdm(rng.standard_normal((4, 3)), "manhattan")
    with pytest.raises(ValueError, match="n_stimuli, n_features"):
        rdm(rng.standard_normal(5))
    with pytest.raises(ValueError, match="NaN"):
        rdm(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="square"):
        upper_triangle(np.zeros((3, 4)))


# --------------------------------------------------------------------------
# RDM comparison


def test_rdm_comparisons_match_scipy(rng):
    a, b = rdm(rng.standard_normal((15, 6))), rdm(rng.standard_normal((15, 6)))
    ua, ub = upper_triangle(a), upper_triangle(b)
    assert compare_rdms(a, b, "spearman") == pytest.approx(spearmanr(ua, ub).statistic, abs=1e-12)
    assert compare_rdms(a, b, "pearson") == pytest.approx(pearsonr(ua, ub).statistic, abs=1e-12)
    assert compare_rdms(a, b, "cosine") == pytest.approx(ua @ ub / np.linalg.norm(ua) / np.linalg.norm(ub))
    # without ties tau-a equals scipy's tau-b
    assert compare_rdms(a, b, "kendall_tau_a") == pytest.approx(kendalltau(ua, ub).statistic, abs=1e-12)


def test_spearman_with_ties_matches_scipy():
    a = np.array([1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 0.5, 4.0, 2.0, 1.0])
    b = np.array([0.3, 0.1, 0.4, 0.4, 0.9, 0.2, 0.6, 0.5, 0.5, 0.8])
    m = squareform(a), squareform(b)  # 10 entries = 5 stimuli
    assert compare_rdms(*m, "spearman") == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)


def _tau_a_brute_force(a, b):
    s = 0
    for i, j in itertools.combinations(range(len(a)), 2):
        s += np.sign(a[i] - a[j]) * np.sign(b[i] - b[j])
    return s / (len(a) * (len(a) - 1) / 2)


def test_kendall_tau_a_counts_pairs_with_ties(rng):
    model = rng.integers(0, 3, size=45).astype(float)  # a categorical model RDM: many ties
    data = rng.standard_normal(45)
    assert kendall_tau_a(model, data, chunk=7) == pytest.approx(_tau_a_brute_force(model, data), abs=1e-12)
    # ties stay in the denominator: tau-a is smaller in magnitude than tau-b
    assert abs(kendall_tau_a(model, data)) < abs(kendalltau(model, data).statistic)
    # hand-worked: pairs (0,1) concordant, (0,2) tie in a -> 0, (1,2) discordant -> (1 + 0 - 1) / 3
    assert kendall_tau_a([1.0, 2.0, 1.0], [1.0, 3.0, 4.0]) == pytest.approx(0.0)
    assert kendall_tau_a([1.0, 2.0, 3.0], [1.0, 3.0, 4.0]) == pytest.approx(1.0)


def test_rsa_is_one_under_a_monotone_transform_of_the_rdm(rng):
    x = rng.standard_normal((20, 8))
    d = rdm(x, "euclidean")
    warped = np.exp(3 * d) - 1  # strictly increasing, zero stays zero
    assert compare_rdms(d, warped, "spearman") == pytest.approx(1.0)
    assert compare_rdms(d, warped, "kendall_tau_a") == pytest.approx(1.0)
    assert compare_rdms(d, warped, "pearson") < 0.999  # Pearson is not rank-based
    # rsa() of a representation with itself, and of a rotated copy (correlation distance is not rotation-invariant,
    # euclidean is)
    q = ortho_group.rvs(8, random_state=1)
    assert rsa(x, x @ q, metric="euclidean") == pytest.approx(1.0)
    assert rsa(x, rng.standard_normal((20, 3))) < 0.5


def test_compare_rdms_bad_input(rng):
    a = rdm(rng.standard_normal((6, 3)))
    with pytest.raises(ValueError, match="Unknown RDM comparison"):
        compare_rdms(a, a, "kendall_tau_b")
    with pytest.raises(ValueError, match="different numbers of stimuli"):
        compare_rdms(a, rdm(rng.standard_normal((7, 3))))
    with pytest.raises(ValueError, match="constant"):
        compare_rdms(a, np.ones((6, 6)) - np.eye(6), "pearson")
    with pytest.raises(ValueError, match="NaN"):
        compare_rdms(a, rdm(np.vstack([np.ones((1, 3)), rng.standard_normal((5, 3))])))
    with pytest.raises(ValueError, match="same stimuli"):
        rsa(rng.standard_normal((6, 3)), rng.standard_normal((5, 3)))


# --------------------------------------------------------------------------
# CKA


def _hsic_unbiased_song(k, l):
    """Song et al. (2012) unbiased HSIC, written from the paper's formula (independent of center_gram)."""
    n = len(k)
    kt, lt = k.copy(), l.copy()
    np.fill_diagonal(kt, 0)
    np.fill_diagonal(lt, 0)
    one = np.ones(n)
    term = np.trace(kt @ lt) + (one @ kt @ one) * (one @ lt @ one) / ((n - 1) * (n - 2)) \
        - 2 / (n - 2) * (one @ kt @ lt @ one)
    return term / (n * (n - 3))


def test_centring_matches_definitions(rng):
    x = rng.standard_normal((9, 4)) + 5.0
    k = gram_linear(x)
    h = np.eye(9) - np.ones((9, 9)) / 9
    np.testing.assert_allclose(center_gram(k), h @ k @ h, atol=1e-9)
    y = rng.standard_normal((9, 3))
    l_ = gram_linear(y)
    u = np.sum(center_gram(k, unbiased=True) * center_gram(l_, unbiased=True)) / (9 * 6)
    assert u == pytest.approx(_hsic_unbiased_song(k, l_), rel=1e-9)


def test_cka_matches_hand_written_formula(rng):
    x, y = rng.standard_normal((30, 10)), rng.standard_normal((30, 6))
    xc, yc = x - x.mean(0), y - y.mean(0)
    expected = np.linalg.norm(yc.T @ xc) ** 2 / (np.linalg.norm(xc.T @ xc) * np.linalg.norm(yc.T @ yc))
    assert cka(gram_linear(x), gram_linear(y)) == pytest.approx(expected, rel=1e-10)
    k, l_ = gram_linear(x), gram_linear(y)
    expected_u = _hsic_unbiased_song(k, l_) / np.sqrt(_hsic_unbiased_song(k, k) * _hsic_unbiased_song(l_, l_))
    assert cka(k, l_, debiased=True) == pytest.approx(expected_u, rel=1e-9)


@pytest.mark.parametrize("debiased", [False, True])
def test_feature_space_and_kernel_forms_agree(rng, debiased):
    x = rng.standard_normal((40, 25)) * 3 + 10.0  # offset data: a float32 computation would visibly drift
    y = x[:, :12] @ rng.standard_normal((12, 30)) + rng.standard_normal((40, 30))
    kernel = cka(gram_linear(x), gram_linear(y), debiased=debiased)
    assert feature_space_linear_cka(x, y, debiased=debiased) == pytest.approx(kernel, abs=1e-6)
    assert feature_space_linear_cka(x.astype(np.float32), y.astype(np.float32), debiased) == pytest.approx(
        kernel, abs=1e-5)


@pytest.mark.parametrize("debiased", [False, True])
def test_cka_invariances(rng, debiased):
    x = rng.standard_normal((50, 16))
    y = np.tanh(x @ rng.standard_normal((16, 20))) + 0.3 * rng.standard_normal((50, 20))
    base = feature_space_linear_cka(x, y, debiased)
    q = ortho_group.rvs(16, random_state=2)
    assert feature_space_linear_cka(x @ q, y, debiased) == pytest.approx(base, abs=1e-9)
    assert feature_space_linear_cka(7.5 * x, y, debiased) == pytest.approx(base, abs=1e-9)
    assert feature_space_linear_cka(x + 100.0, y, debiased) == pytest.approx(base, abs=1e-8)
    assert cka(gram_rbf(x @ q), gram_rbf(y), debiased) == pytest.approx(cka(gram_rbf(x), gram_rbf(y), debiased))
    # not invariant to an arbitrary invertible linear map (unlike CCA)
    a = rng.standard_normal((16, 16)) @ np.diag(np.logspace(0, 2, 16))
    assert abs(feature_space_linear_cka(x @ a, y, debiased) - base) > 1e-3


@pytest.mark.parametrize("debiased", [False, True])
def test_cka_of_a_representation_with_itself_is_one(rng, debiased):
    x = rng.standard_normal((20, 8))
    assert feature_space_linear_cka(x, x, debiased) == pytest.approx(1.0)
    assert cka(gram_rbf(x), gram_rbf(x), debiased) == pytest.approx(1.0)


def test_biased_cka_is_high_for_unrelated_data_at_small_n_debiased_is_not(rng):
    biased, debiased = [], []
    for _ in range(20):
        x, y = rng.standard_normal((10, 768)), rng.standard_normal((10, 768))
        biased.append(feature_space_linear_cka(x, y))
        debiased.append(feature_space_linear_cka(x, y, debiased=True))
    assert np.mean(biased) > 0.95  # measured ≈0.99
    assert abs(np.mean(debiased)) < 0.1  # measured ≈0.0 (sd ≈0.15 per draw)
    x, y = rng.standard_normal((200, 768)), rng.standard_normal((200, 768))
    assert feature_space_linear_cka(x, y) > 0.7  # still biased at n=200 (≈0.8)
    assert abs(feature_space_linear_cka(x, y, debiased=True)) < 0.03


def test_gram_rbf_matches_its_definition(rng):
    x = rng.standard_normal((11, 4))
    d2 = squareform(pdist(x, "sqeuclidean"))
    for t in (0.5, 1.0, 2.0):
        np.testing.assert_allclose(gram_rbf(x, t), np.exp(-d2 / (2 * t ** 2 * np.median(d2))), atol=1e-12)
    # the median includes the zero diagonal: it is not the median of the off-diagonal distances
    assert np.median(d2) != np.median(d2[np.triu_indices(11, 1)])


def test_cka_bad_input(rng):
    x = rng.standard_normal((3, 5))
    with pytest.raises(ValueError, match="at least 4"):
        cka(gram_linear(x), gram_linear(x), debiased=True)
    with pytest.raises(ValueError, match="at least 4"):
        feature_space_linear_cka(x, x, debiased=True)
    with pytest.raises(ValueError, match="same stimuli"):
        feature_space_linear_cka(rng.standard_normal((6, 2)), rng.standard_normal((7, 2)))
    with pytest.raises(ValueError, match="different stimuli"):
        cka(np.eye(5), np.eye(6))
    with pytest.raises(ValueError, match="symmetric"):
        cka(rng.standard_normal((5, 5)), np.eye(5))
    with pytest.raises(ValueError, match="constant"):
        feature_space_linear_cka(np.ones((6, 3)), rng.standard_normal((6, 3)))
    with pytest.raises(ValueError, match="threshold"):
        gram_rbf(x, 0.0)


# --------------------------------------------------------------------------
# partial_rsa


def _residual_partial(a, b, c):
    """Partial Spearman by regression of scipy ranks on [1, rank(c)] (independent of the module's formula)."""
    from scipy.stats import rankdata

    ra, rb, rc = (rankdata(upper_triangle(d)) for d in (a, b, c))
    design = np.column_stack([np.ones_like(rc), rc])
    res_a = ra - design @ np.linalg.lstsq(design, ra, rcond=None)[0]
    res_b = rb - design @ np.linalg.lstsq(design, rb, rcond=None)[0]
    return pearsonr(res_a, res_b)[0]


def test_partial_rsa_matches_regression_and_removes_a_shared_nuisance():
    rng = np.random.default_rng(0)
    n = 60

    def sym():
        m = rng.uniform(size=(n, n))
        m = m + m.T
        np.fill_diagonal(m, 0)
        return m

    nuisance, noise_a, noise_b, noise_c = sym(), sym(), sym(), sym()
    a, b = nuisance + noise_a, nuisance + noise_b  # related only through the nuisance
    assert compare_rdms(a, b) > 0.3, "the shared nuisance makes the two RDMs agree"
    assert abs(partial_rsa(a, b, nuisance)) < 0.05, "without the nuisance path nothing is left"
    assert partial_rsa(a, b, nuisance) == pytest.approx(_residual_partial(a, b, nuisance), abs=1e-10)
    c = nuisance + noise_a + 0.5 * noise_c  # shares noise_a with a: survives the control
    assert partial_rsa(a, c, nuisance) > 0.5
    assert partial_rsa(a, c, nuisance) == pytest.approx(_residual_partial(a, c, nuisance), abs=1e-10)
    with pytest.raises(ValueError, match="different numbers"):
        partial_rsa(a, b[:-1, :-1], nuisance)
    with pytest.raises(ValueError, match="explains one of the RDMs completely"):
        partial_rsa(nuisance, b, nuisance)


# --------------------------------------------------------------------------
# The within-speaker RSA profile (notebook 03's design exercise)


def _profile_stimuli(rng, n_layers=2):
    """Stimuli of speakers x (noisy), y (clean) and z (clean, with a large voice offset), interleaved; four phone
    prototypes; layers that get cleaner with depth and a noise control of another dimension."""
    from course.similarity import rdm

    prototypes = rng.standard_normal((4, 10))
    who = np.tile(["y", "x", "z"], 12)
    phone = np.repeat(np.arange(4), 9)
    noise = np.select([who == "x"], [3.0], 0.4)
    voice = np.where(who == "z", 4.0, 0.0)[:, None] * rng.standard_normal(10)
    layers = [prototypes[phone] + voice + noise[:, None] / (1 + l) * rng.standard_normal((36, 10))
              for l in range(n_layers)]
    controls = [rng.standard_normal((36, 6)) for _ in range(n_layers)]
    return layers, controls, rdm(prototypes[phone], "euclidean"), who


def test_rsa_profile_scores_each_speaker_on_its_own_pairs_with_its_control():
    from course.similarity import rsa_profile

    layers, controls, reference, who = _profile_stimuli(np.random.default_rng(0))
    table = rsa_profile(layers, controls, reference, who)
    assert list(table.columns) == ["layer", "speaker", "model", "control"]
    assert list(zip(table.layer, table.speaker)) == [(l, s) for l in (0, 1) for s in ("x", "y", "z")]
    # by hand, layer 1 of speaker z: its own stimuli only, RDM and reference restricted to them
    mine = np.flatnonzero(who == "z")
    expected = compare_rdms(rdm(layers[1][mine]), reference[np.ix_(mine, mine)])
    assert table.model.iloc[5] == pytest.approx(expected, abs=1e-12)
    expected_control = compare_rdms(rdm(controls[1][mine]), reference[np.ix_(mine, mine)])
    assert table.control.iloc[5] == pytest.approx(expected_control, abs=1e-12)
    model = table.set_index(["layer", "speaker"]).model
    assert model[0, "y"] > 0.8 and model[0, "z"] > 0.8 and model[0, "x"] < model[1, "x"] < model[1, "y"]
    assert table.control.abs().max() < 0.5
    # the voice offset of z would dominate cross-speaker pairs; within z it only shifts every pattern alike
    pooled = compare_rdms(rdm(layers[0]), reference)
    assert pooled < model[0, "z"] - 0.1


def test_rsa_profile_ignores_the_order_of_the_stimuli_and_refuses_bad_input():
    from course.similarity import rsa_profile

    layers, controls, reference, who = _profile_stimuli(np.random.default_rng(1), n_layers=3)
    order = np.random.default_rng(2).permutation(len(who))
    table = rsa_profile(layers, controls, reference, who)
    shuffled = rsa_profile([x[order] for x in layers], [c[order] for c in controls],
                           reference[np.ix_(order, order)], who[order])
    np.testing.assert_allclose(shuffled[["model", "control"]], table[["model", "control"]], atol=1e-12)
    with pytest.raises(ValueError, match="One control per layer"):
        rsa_profile(layers, controls[:2], reference, who)
    with pytest.raises(ValueError, match="reference_rdm must be"):
        rsa_profile(layers, controls, reference[:-1, :-1], who)
    with pytest.raises(ValueError, match="stimuli, speakers"):
        rsa_profile([x[:-1] for x in layers], controls, reference, who)
    lonely = who.copy()
    lonely[:2] = "w"
    with pytest.raises(ValueError, match="fewer than 3 stimuli"):
        rsa_profile(layers, controls, reference, lonely)
