"""CKA against Kornblith et al.'s Gram-matrix formulation, RSA against rsatoolbox."""

from __future__ import annotations

from importlib.metadata import version
from typing import Iterator

import numpy as np

from speech_course_tools.benchmarks.core import Context, Row, benchmark, best_time, compare_timed, max_abs_diff
from speech_course_tools.benchmarks.data import synthetic_layers
from speech_course_tools.benchmarks.references import cka as ref

CKA_TOL = 1e-6
SPEED_GOAL = 20.0  # feature-space linear CKA vs the Gram formulation at n = 5 000


def _accuracy_goal(diff: float, tol: float = CKA_TOL) -> tuple[str, bool]:
    return f"|Δ| ≤ {tol:g}", bool(diff <= tol)


@benchmark("cka", "linear, RBF and debiased CKA vs Kornblith et al.'s Gram-matrix formulation",
           requires=("course.similarity",))
def bench_cka(ctx: Context) -> Iterator[Row]:
    """Linear, RBF and debiased CKA; one pair of layers, a layer sweep and a layer-by-layer matrix."""
    from course import similarity as S  # by design: a benchmark loads what it measures

    reference = "Kornblith et al. 2019 Gram-matrix CKA (benchmarks/references/cka.py)"
    n = ctx.size(5000, 1000)
    for dim in (768, 192):
        x, y = synthetic_layers(n, dim, n_layers=2, seed=dim)
        size = f"n={n}, {dim}-d"
        for debiased in (False, True):
            tag = "debiased " if debiased else ""
            r_ours, r_ref, t_gram, t_ref = compare_timed(
                lambda: S.cka(S.gram_linear(x), S.gram_linear(y), debiased=debiased),
                lambda: ref.linear_cka(x, y, debiased=debiased), ctx.repeats, budget_s=30)
            goal, met = _accuracy_goal(max_abs_diff(r_ours, r_ref))
            yield Row("cka", f"{tag}linear CKA, Gram (cka(gram_linear))", size, max_abs_diff(r_ours, r_ref),
                      t_gram, t_ref, reference, goal, met, CKA_TOL, note=f"CKA = {r_ref:.4f}")
            r_fs, t_fs = best_time(lambda: S.feature_space_linear_cka(x, y, debiased=debiased), ctx.repeats)
            diff = max_abs_diff(r_fs, r_ref)
            speedup = t_ref / t_fs
            goal, met = _accuracy_goal(diff)
            if n == 5000 and not debiased and dim == 768:
                goal += f"; ≥ {SPEED_GOAL:g}x faster"
                met = met and speedup >= SPEED_GOAL
            yield Row("cka", f"{tag}linear CKA, feature space", size, diff, t_fs, t_ref, reference, goal, met, CKA_TOL,
                      note=f"speed-up over the Gram formulation: {speedup:.1f}x")

    n_rbf = ctx.size(2000, 500)
    x, y = synthetic_layers(n_rbf, 768, n_layers=2, seed=1)
    for debiased in (False, True):
        r_ours, r_ref, t_ours, t_ref = compare_timed(
            lambda: S.cka(S.gram_rbf(x), S.gram_rbf(y), debiased=debiased),
            lambda: ref.rbf_cka(x, y, debiased=debiased), ctx.repeats, budget_s=30)
        diff = max_abs_diff(r_ours, r_ref)
        goal, met = _accuracy_goal(diff)
        yield Row("cka", f"{'debiased ' if debiased else ''}RBF CKA (t = 1)", f"n={n_rbf}, 768-d", diff, t_ours,
                  t_ref, reference + "; distances from scipy cdist", goal, met, CKA_TOL, note=f"CKA = {r_ref:.4f}")

    # layer-wise analysis: every layer of a 12-layer model against one representation (e.g. the last layer)
    layers = synthetic_layers(n, 768, n_layers=12, seed=2)
    last = layers[-1]

    def ours_sweep() -> np.ndarray:
        return np.array([S.feature_space_linear_cka(layer, last) for layer in layers])

    def ref_sweep() -> np.ndarray:
        gram_last = ref.linear_kernel(last)
        return np.array([ref.cka_from_grams(ref.linear_kernel(layer), gram_last) for layer in layers])

    r_ours, r_ref, t_ours, t_ref = compare_timed(ours_sweep, ref_sweep, ctx.repeats, budget_s=40)
    diff = max_abs_diff(r_ours, r_ref)
    goal, met = _accuracy_goal(diff)
    yield Row("cka", "12 layers vs the last, feature space", f"n={n}, 12 x 768-d", diff, t_ours, t_ref,
              reference + " (last layer's Gram computed once)", goal, met, CKA_TOL,
              note=f"CKA from {r_ref.min():.3f} to {r_ref.max():.3f}")

    # a full layer-by-layer matrix: the Gram route computes each of the 12 Gram matrices once
    n_mat = ctx.size(2000, 500)
    layers = synthetic_layers(n_mat, 768, n_layers=12, seed=3)

    def ours_matrix() -> np.ndarray:
        m = np.eye(len(layers))
        for i in range(len(layers)):
            for j in range(i + 1, len(layers)):
                m[i, j] = m[j, i] = S.feature_space_linear_cka(layers[i], layers[j])
        return m

    r_ours, r_ref, t_ours, t_ref = compare_timed(ours_matrix, lambda: ref.cka_matrix(layers), ctx.repeats,
                                                 budget_s=40)
    diff = max_abs_diff(r_ours, r_ref)
    goal, met = _accuracy_goal(diff)
    yield Row("cka", "12 x 12 layer matrix, feature space per pair", f"n={n_mat}, 12 x 768-d", diff, t_ours, t_ref,
              reference + " (each Gram matrix computed and centred once)", goal, met, CKA_TOL,
              note="66 pairs; the Gram route reuses its 12 Gram matrices")


# --------------------------------------------------------------------------
# RSA


RSA_TOL = 1e-10
#: course's comparison name -> rsatoolbox's.
RSA_METHODS = {"spearman": "spearman", "pearson": "corr", "cosine": "cosine", "kendall_tau_a": "tau-a"}


def _rsatoolbox_rdm(X: np.ndarray, metric: str):  # noqa: ANN202
    import rsatoolbox  # optional: without it the benchmark is reported as skipped

    return rsatoolbox.rdm.calc_rdm(rsatoolbox.data.Dataset(X), method=metric)


@benchmark("rsa", "RDMs and RDM comparisons vs rsatoolbox", requires=("course.similarity", "rsatoolbox"))
def bench_rsa(ctx: Context) -> Iterator[Row]:
    """RDMs (correlation, squared Euclidean / channels) and their comparison, with rsatoolbox as the reference."""

    import rsatoolbox  # optional: without it the benchmark is reported as skipped

    from course import similarity as S  # by design: a benchmark loads what it measures

    reference = f"rsatoolbox {version('rsatoolbox')}"
    n = ctx.size(1000, 300)
    x, y = synthetic_layers(n, 768, n_layers=2, seed=4)
    size = f"n={n} stimuli, 768-d"
    for metric in ("correlation", "euclidean"):
        ours, theirs, t_ours, t_ref = compare_timed(
            lambda: S.upper_triangle(S.rdm(x, metric)),
            lambda: _rsatoolbox_rdm(x, metric).get_vectors()[0], ctx.repeats)
        diff = max_abs_diff(ours, theirs)
        yield Row("rsa", f"RDM, {metric}", size, diff, t_ours, t_ref, reference, f"|Δ| ≤ {RSA_TOL:g}",
                  diff <= RSA_TOL, RSA_TOL)
    rdm_x, rdm_y = S.rdm(x), S.rdm(y)
    tk_x, tk_y = _rsatoolbox_rdm(x, "correlation"), _rsatoolbox_rdm(y, "correlation")
    for method in ("spearman", "pearson", "cosine"):
        ours, theirs, t_ours, t_ref = compare_timed(
            lambda: S.compare_rdms(rdm_x, rdm_y, method),
            lambda: rsatoolbox.rdm.compare(tk_x, tk_y, method=RSA_METHODS[method])[0, 0], ctx.repeats)
        diff = max_abs_diff(ours, theirs)
        yield Row("rsa", f"compare RDMs, {method}", size, diff, t_ours, t_ref, reference, f"|Δ| ≤ {RSA_TOL:g}",
                  diff <= RSA_TOL, RSA_TOL, note=f"value {theirs:.4f}")
    # Kendall's tau-a is O(m^2) over the m = n (n - 1) / 2 dissimilarities in course: a smaller stimulus set
    n_tau = ctx.size(200, 100)
    xs = x[:n_tau]
    categorical = np.equal.outer(np.arange(n_tau) % 5, np.arange(n_tau) % 5)  # a model RDM with ties
    model_rdm = 1.0 - categorical.astype(float)
    tk_model = rsatoolbox.rdm.RDMs(S.upper_triangle(model_rdm)[None])
    tk_xs = _rsatoolbox_rdm(xs, "correlation")
    rx = S.rdm(xs)
    ours, theirs, t_ours, t_ref = compare_timed(
        lambda: S.compare_rdms(rx, model_rdm, "kendall_tau_a"),
        lambda: rsatoolbox.rdm.compare(tk_xs, tk_model, method="tau-a")[0, 0], ctx.repeats)
    diff = max_abs_diff(ours, theirs)
    yield Row("rsa", "compare RDMs, Kendall tau-a (categorical model RDM, ties)", f"n={n_tau} stimuli", diff,
              t_ours, t_ref, reference, f"|Δ| ≤ {RSA_TOL:g}", diff <= RSA_TOL, RSA_TOL,
              note="course's tau-a is O(m^2) in the m dissimilarities, rsatoolbox's O(m log m)")
    ours, theirs, t_ours, t_ref = compare_timed(
        lambda: S.rsa(x, y),
        lambda: rsatoolbox.rdm.compare(_rsatoolbox_rdm(x, "correlation"), _rsatoolbox_rdm(y, "correlation"),
                                       method="spearman")[0, 0], ctx.repeats)
    diff = max_abs_diff(ours, theirs)
    yield Row("rsa", "rsa(X, Y): two correlation RDMs + Spearman", size, diff, t_ours, t_ref, reference,
              f"|Δ| ≤ {RSA_TOL:g}", diff <= RSA_TOL, RSA_TOL)
