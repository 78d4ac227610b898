"""The benchmarks' correctness comparisons, on small inputs: course against the references of the benchmarks.

Timings are not tested (they belong to ``speech-course bench``); only that ``course`` and the reference
implementations (or the reference libraries) agree, and that the benchmark runner reports what it should.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from speech_course_tools.benchmarks import core, load_all
from speech_course_tools.benchmarks.data import synthetic_layers
from speech_course_tools.benchmarks.references import abx as ref_abx
from speech_course_tools.benchmarks.references import cka as ref_cka
from speech_course_tools.benchmarks.references import context_mixing as ref_cm
from course import similarity as S

# --------------------------------------------------------------------------
# CKA


@pytest.fixture(scope="module")
def pair():
    return synthetic_layers(60, 24, n_layers=2, seed=0)


@pytest.mark.parametrize("debiased", [False, True])
def test_linear_cka_equals_the_gram_formulation(pair, debiased):
    x, y = pair
    expected = ref_cka.linear_cka(x, y, debiased=debiased)
    assert abs(S.cka(S.gram_linear(x), S.gram_linear(y), debiased=debiased) - expected) < 1e-10
    assert abs(S.feature_space_linear_cka(x, y, debiased=debiased) - expected) < 1e-10


@pytest.mark.parametrize("threshold", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("debiased", [False, True])
def test_rbf_cka_equals_the_reference(pair, threshold, debiased):
    x, y = pair
    ours = S.cka(S.gram_rbf(x, threshold), S.gram_rbf(y, threshold), debiased=debiased)
    assert abs(ours - ref_cka.rbf_cka(x, y, threshold, debiased)) < 1e-10


def test_reference_cka_properties():
    x, y = synthetic_layers(40, 10, n_layers=2, seed=1)
    rot = np.linalg.qr(np.random.default_rng(0).standard_normal((10, 10)))[0]
    assert np.isclose(ref_cka.linear_cka(x, x), 1.0)
    assert np.isclose(ref_cka.linear_cka(x, 3.0 * x @ rot + 5.0), 1.0), "invariant to rotation, scale, offset"
    assert np.isclose(ref_cka.linear_cka(x, y), ref_cka.linear_cka(y, x))
    # the unbiased HSIC of Song et al. equals the U-centred inner product divided by n (n - 3)
    k, ell = ref_cka.linear_kernel(x), ref_cka.linear_kernel(y)
    n = len(x)
    u = np.sum(S.center_gram(k, unbiased=True) * S.center_gram(ell, unbiased=True)) / (n * (n - 3))
    assert np.isclose(ref_cka.hsic_unbiased(k, ell), u, rtol=1e-10)


def test_reference_cka_matrix_matches_pairwise_cka():
    layers = synthetic_layers(50, 12, n_layers=4, seed=2)
    for debiased in (False, True):
        m = ref_cka.cka_matrix(layers, debiased=debiased)
        for i in range(4):
            for j in range(4):
                expected = 1.0 if i == j else S.feature_space_linear_cka(layers[i], layers[j], debiased=debiased)
                assert abs(m[i, j] - expected) < 1e-10


# --------------------------------------------------------------------------
# RSA against rsatoolbox


@pytest.fixture(scope="module")
def rsatoolbox():
    return pytest.importorskip("rsatoolbox")


def _tk_rdm(rsatoolbox, x, metric):
    return rsatoolbox.rdm.calc_rdm(rsatoolbox.data.Dataset(x), method=metric)


@pytest.mark.parametrize("metric", ["correlation", "euclidean"])
def test_rdms_equal_rsatoolbox(rsatoolbox, metric):
    x = synthetic_layers(30, 16, seed=3)[0]
    ours = S.upper_triangle(S.rdm(x, metric))
    np.testing.assert_allclose(ours, _tk_rdm(rsatoolbox, x, metric).get_vectors()[0], rtol=0, atol=1e-10)


@pytest.mark.parametrize("method, theirs", [("spearman", "spearman"), ("pearson", "corr"), ("cosine", "cosine")])
def test_rdm_comparisons_equal_rsatoolbox(rsatoolbox, method, theirs):
    x, y = synthetic_layers(30, 16, n_layers=2, seed=4)
    expected = rsatoolbox.rdm.compare(_tk_rdm(rsatoolbox, x, "correlation"), _tk_rdm(rsatoolbox, y, "correlation"),
                                      method=theirs)[0, 0]
    assert abs(S.compare_rdms(S.rdm(x), S.rdm(y), method) - expected) < 1e-12
    assert abs(S.rsa(x, y, "correlation", method) - expected) < 1e-12


def test_kendall_tau_a_with_ties_equals_rsatoolbox(rsatoolbox):
    x = synthetic_layers(24, 8, seed=5)[0]
    model = 1.0 - np.equal.outer(np.arange(24) % 4, np.arange(24) % 4).astype(float)  # categorical: ties
    expected = rsatoolbox.rdm.compare(_tk_rdm(rsatoolbox, x, "correlation"),
                                      rsatoolbox.rdm.RDMs(S.upper_triangle(model)[None]), method="tau-a")[0, 0]
    assert abs(S.compare_rdms(S.rdm(x), model, "kendall_tau_a") - expected) < 1e-12


# --------------------------------------------------------------------------
# ABX against the triple loop


def _items(seed: int = 0, n: int = 48, dim: int = 6):
    from course.abx import ABXItems

    rng = np.random.default_rng(seed)
    phones = rng.choice(["a", "e", "i"], n)
    speakers = rng.choice(["s1", "s2", "s3"], n)
    contexts = rng.choice(["b+d", "#+t"], n)
    centres = {"a": rng.standard_normal(dim), "e": rng.standard_normal(dim), "i": rng.standard_normal(dim)}
    feats = [centres[p] + 0.8 * rng.standard_normal((int(rng.integers(1, 6)), dim)) for p in phones]
    feats[0][0] = 0.0  # an all-zero frame: distance 0.5 from everything on both sides
    return ABXItems(feats, phones, speakers, contexts)


def test_reference_dtw_by_hand():
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    # the path (0, 0) (0, 1) (1, 2) costs 0
    assert ref_abx.dtw(a, b) == 0.0
    assert ref_abx.frame_distance(np.array([1.0, 0.0]), np.array([0.0, 2.0])) == 0.5
    assert ref_abx.frame_distance(np.zeros(2), np.array([0.3, 2.0])) == 0.5
    # among equal-cost paths the shortest wins: a constant cost matrix gives that cost
    assert np.isclose(ref_abx.dtw(np.array([[1.0, 0.0]] * 2), np.array([[0.0, 1.0]] * 3)), 0.5)


@pytest.mark.parametrize("mode", ["within", "across"])
@pytest.mark.parametrize("seed", [0, 1])
def test_abx_error_equals_the_triple_loop(mode, seed):
    from speech_course_tools.benchmarks.abx import compare_results
    from course.abx import abx_error

    items = _items(seed)
    theirs = ref_abx.abx_error(items.features, items.phones, items.speakers, items.contexts, mode)
    assert compare_results(abx_error(items, mode), theirs) <= 1e-12  # cells compared exactly inside


def test_abx_pair_distances_equal_the_reference_dtw():
    from course.abx import dtw_distance, pair_distances

    items = _items(2)
    pairs = np.array([(i, j) for i in range(10) for j in range(10)])
    ours = pair_distances(items.features, pairs)
    theirs = [ref_abx.dtw(items.features[i], items.features[j]) for i, j in pairs]
    # arccos near 1 resolves about 1e-8 (a frame with itself gives ~1e-9, not 0): BLAS and a plain dot product
    # differ there, and only there
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-7)
    far = np.abs(np.asarray(theirs)) > 1e-6
    np.testing.assert_allclose(ours[far], np.asarray(theirs)[far], rtol=1e-12)
    assert abs(dtw_distance(items.features[3], items.features[4]) - theirs[34]) < 1e-12


# --------------------------------------------------------------------------
# Context mixing


def test_rollout_equals_the_direct_product():
    from speech_course_tools.benchmarks.context_mixing import synthetic_attention
    from course.context_mixing import attention_rollout

    att = synthetic_attention(5, 3, 20, seed=1)
    for residual in (0.0, 0.5, 0.8):
        np.testing.assert_allclose(attention_rollout(att, residual), ref_cm.rollout_all(att, residual),
                                   rtol=0, atol=1e-12)
    r = ref_cm.rollout_direct(att)
    np.testing.assert_allclose(r.sum(1), 1.0)


def _tiny_pre_ln_w2v2():
    from transformers import Wav2Vec2Config, Wav2Vec2ForCTC

    torch.manual_seed(0)
    cfg = Wav2Vec2Config(vocab_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, conv_dim=(32,) * 7, num_conv_pos_embeddings=16,
                         num_conv_pos_embedding_groups=4, do_stable_layer_norm=True, attn_implementation="eager")
    return Wav2Vec2ForCTC(cfg).eval()


@torch.no_grad()
def test_value_zeroing_equals_the_per_word_loop_written_out_by_hand():
    from course.context_mixing import encoder_layer, value_zeroing

    model = _tiny_pre_ln_w2v2()
    x = torch.randn(1, 8000, generator=torch.Generator().manual_seed(1))
    hs = torch.stack(model.base_model(x, output_hidden_states=True).hidden_states)[:, 0]
    n = hs.shape[1]
    spans = [(0, 3), (3, 9), (9, 10), (12, n)]  # frames 10-11 belong to no word
    # the hand-written layer reproduces the model (the last one with the encoder's final norm)
    enc = model.base_model.encoder
    for index in (1, 2):
        layer = ref_cm.PreLNLayer(enc.layers[index - 1], enc.layer_norm if index == 2 else None)
        expected = hs[index] if index < 2 else model.base_model(x).last_hidden_state[0]
        torch.testing.assert_close(layer.forward(hs[index - 1]), expected, atol=1e-5, rtol=1e-5)
    theirs = ref_cm.value_zeroing_model(model, hs, spans)
    ours = np.stack([value_zeroing(h.run, h.attention, hs[i - 1], spans)
                     for i, h in ((i, encoder_layer(model, i)) for i in (1, 2))])
    assert theirs.shape == (2, 4, 4)
    np.testing.assert_allclose(theirs.sum(-1), 1.0)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)


# --------------------------------------------------------------------------
# The runner


def test_every_documented_benchmark_is_registered():
    registry = load_all()
    assert {"cka", "rsa", "abx", "probe", "attribution", "rollout", "value_zeroing", "attention_norms", "extraction",
            "grading", "notebooks", "families"} <= set(registry)
    assert all(b.group in ("methods", "system") for b in registry.values())


def test_max_abs_diff_and_row():
    assert core.max_abs_diff([1.0, np.nan], [1.5, np.nan]) == 0.5
    assert np.isnan(core.max_abs_diff([np.nan], [1.0]))
    with pytest.raises(ValueError):
        core.max_abs_diff([1.0], [1.0, 2.0])
    row = core.Row("x", "case", max_abs_diff=2e-6, ours_s=1.0, ref_s=4.0, tol=1e-6)
    assert row.ratio == 0.25 and row.accurate is False
    assert core.fmt_ratio(0.25) == "0.25x (4x faster)"


def test_runner_reports_rows_skips_and_wrong_results(tmp_path, monkeypatch, capsys):
    from speech_course_tools.benchmarks import cli

    load_all()

    def good(ctx):
        yield core.Row("good", "equal", max_abs_diff=0.0, ours_s=0.1, ref_s=0.2, tol=1e-6, goal="equal", met=True)

    def wrong(ctx):
        yield core.Row("wrong", "differs", max_abs_diff=1.0, tol=1e-6)

    fake = {"good": core.Benchmark("good", good, "a good one"),
            "missing": core.Benchmark("missing", good, "needs a module", requires=("no_such_module_here",)),
            "wrong": core.Benchmark("wrong", wrong, "a wrong one")}
    monkeypatch.setattr(core, "REGISTRY", fake)
    monkeypatch.setattr("speech_course_tools.benchmarks.REGISTRY", fake)
    monkeypatch.setattr("speech_course_tools.benchmarks.load_all", lambda: fake)
    out = tmp_path / "r.json"
    md = tmp_path / "r.md"
    assert cli.main(["good", "missing", "--quick", "--json", str(out), "--markdown", str(md)]) == 0
    text = capsys.readouterr().out
    assert "0.5x (2x faster)" in text and "skipped: no_such_module_here" in text
    report = json.loads(out.read_text())
    assert report["results"]["good"]["rows"][0]["ratio"] == 0.5 and report["machine"]["nproc"] >= 1
    assert "| equal |" in md.read_text()
    assert cli.main(["wrong"]) == 1
    assert "WRONG RESULT" in capsys.readouterr().out
    assert cli.main(["nope"]) == 2


@pytest.mark.slow
def test_measure_notebook_reports_time_and_peak_memory(tmp_path):
    import nbformat

    from speech_course_tools.bench import measure_notebook

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = bytearray(50_000_000)")]
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    row = measure_notebook(path)
    assert row["notebook"] == "tiny.ipynb" and row["seconds"] > 0
    assert row["peak_rss_kb"] > 50_000, "the 50 MB allocation shows in the kernel's peak"


def test_peak_rss_of_a_fresh_child_ignores_its_parents_size():
    import subprocess
    import sys

    from course.grading.memory import peak_rss_kb

    ballast = np.ones(40_000_000)  # 320 MB resident in this process
    assert peak_rss_kb() > 300_000
    code = "from course.grading.memory import peak_rss_kb; print(peak_rss_kb())"
    child = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert 0 < child < 200_000, "the child's own peak, not the parent's at fork time"
    del ballast
