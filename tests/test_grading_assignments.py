"""Every assignment through the real pipeline: generated files, reference, release, broken variants, self-check,
Gradescope.

For each assignment in ``autograder/source``: the checked-in ``exercises/`` and ``solutions/`` match a fresh build;
the reference solution scores full marks within the notebook budget; the unmodified release scores 0 without
grading errors, and run in full only its test cells fail; no hidden test code reaches the grading output, the
self-check or Gradescope's results. The tests of the tests run every kept broken variant with each test cell split
into its visible tests and its hidden block: every variant loses points, every test cell is failed by some variant,
every hidden block by a variant that passes the visible tests of its cell, and the delegating variant of every
answer cell (it calls the course's implementation) loses all of that cell's points.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from speech_course_tools.bench import NOTEBOOK_MAX_RSS_KB, machine_factor
from course.cli import main
from course.grading.build import build
from course.grading.layout import assignment_ids, source_notebook
from course.grading.notebooks import (expected_value_messages, graded_cells, hidden_lines, leaks, nbgrader_meta,
                                      read_notebook, write_notebook)
from course.grading.variants import apply_variant, is_delegating, variant_outcomes, variants
from grading_cases import LEAK

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "autograder"
ASSIGNMENTS = assignment_ids(COURSE)


@functools.cache
def budget() -> list[str]:
    """Grading limits for the suite's kernels: 60 s per cell and 300 s per notebook on the reference machine, scaled
    by how much slower this machine is at the time (``speech_course_tools.bench.machine_factor``, never below 1).
    Seen on a machine 3.3 times slower with a training beside: 02's reference solution hit a flat 60 s per cell."""
    factor = max(1.0, machine_factor())
    return ["--cell-timeout", str(round(60 * factor)), "--notebook-timeout", str(round(300 * factor))]


def test_the_course_has_the_pilot_assignment_and_each_assignment_is_graded():
    assert "00_orientation" in ASSIGNMENTS
    for a in ASSIGNMENTS:
        assert graded_cells(read_notebook(source_notebook(COURSE, a))), a


@pytest.mark.slow
def test_checked_in_exercises_and_solutions_match_the_sources_and_fit_in_1_5_gb():
    """The drift check CI relies on (also: ``speech-course build --check``), and the memory budget of every reference
    solution, measured in the same execution (the kernel's peak resident memory).

    Memory is the same on every machine; the time budget (60 s on the reference machine) is judged by the
    ``notebooks`` benchmark, which calibrates for the machine's speed (docs/benchmarks.md).
    """
    result = build(COURSE, ROOT, check=True)
    assert result.drifted == (), f"run `speech-course build` and commit: {result.drifted}"
    assert set(result.peak_rss_kb) == set(ASSIGNMENTS)
    over = {a: f"{kb / 1e6:.2f} GB" for a, kb in result.peak_rss_kb.items() if kb >= NOTEBOOK_MAX_RSS_KB}
    assert not over, f"reference solutions above the {NOTEBOOK_MAX_RSS_KB / 1e6:.1f} GB budget: {over}"


def without_analysis(nb):
    """``nb`` without the cells tagged ``analysis``: the slow applications on the corpus that no test cell reads.

    Grading and the tests of the tests only need the cells the tests depend on, which keeps the suite's time per
    assignment low; the drift check runs every solution in full and the pooled grading run (:func:`graded_class`)
    every release.
    """
    nb.cells = [c for c in nb.cells if "analysis" not in c.metadata.get("tags", [])]
    return nb


def test_analysis_cells_are_plain_code_cells_that_tests_do_not_need():
    for a in ASSIGNMENTS:
        for cell in read_notebook(source_notebook(COURSE, a)).cells:
            if "analysis" in cell.metadata.get("tags", []):
                assert cell.cell_type == "code" and "nbgrader" not in cell.metadata, (a, cell.source[:80])


def test_hidden_test_messages_say_what_is_wrong_without_printing_the_expected_value():
    found = {}
    for a in ASSIGNMENTS:
        for cell in read_notebook(source_notebook(COURSE, a)).cells:
            meta = nbgrader_meta(cell)
            if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                found.update({(a, meta["grade_id"], m): 1 for m in expected_value_messages(cell.source)})
    assert not found, sorted(found)


def test_the_expected_value_check_finds_a_planted_message():
    cell = ("assert f(1) == 1\n### BEGIN HIDDEN TESTS\nwant = reference.f(2)\ngot = f(2)\n"
            "assert got == want, f'expected {want}, got {got}'\nassert got > 0, f'positive (yours: {got})'\n"
            "_exact = 0.5\nassert got == _exact, f'the exact value is {_exact:.3f}'\n### END HIDDEN TESTS")
    assert expected_value_messages(cell) == ["f'expected {want}, got {got}'", "f'the exact value is {_exact:.3f}'"]


def grade_in_a_copy(tmp: Path) -> tuple[dict[tuple[str, str], dict], Path, Path]:
    """Grade ``tmp/subs`` with ``speech-course grade`` in a copy of the course directory (two workers, the suite's
    limits); the rows of ``grades.csv`` by (student, assignment), the output folder and the course copy."""
    course = tmp / "course"
    shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns("gradebook.db", "submitted", "autograded",
                                                                 "release", "feedback"))
    out = tmp / "out"
    assert main(["grade", str(tmp / "subs"), "--out", str(out), "--course-dir", str(course), "--workers", "2",
                 "--quiet"] + budget()) == 0
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}, out, course


#: The assignment whose delegating variants are also graded as a class through the real pipeline.
DELEGATING_CLASS = "00_orientation"


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """One run of the real pipeline (nbgrader, the sandbox, feedback) over the whole course, so that both workers
    stay busy: for every assignment the reference solution with a leaking cell in front ("reference": it prints
    every later cell's source, hidden tests included, wherever it can) and the unmodified release, analysis cells
    included ("release": its autograded copy also serves :func:`release_errors`);
    one student per delegating variant of :data:`DELEGATING_CLASS`; and a "delegator" whose every answer, in every
    assignment, hands its work to the course's implementation (each in the way of that cell's delegating variant).

    Except in the release, the analysis cells are left out (no test reads them; the drift check runs them in full),
    so this costs about one notebook's test cells per submission and one full run per release.
    """
    tmp = tmp_path_factory.mktemp("class")
    for a in ASSIGNMENTS:
        reference = without_analysis(read_notebook(ROOT / "solutions" / f"{a}.ipynb"))
        reference.cells.insert(1, type(reference.cells[0])(cell_type="code", source=LEAK, metadata={}, outputs=[],
                                                          execution_count=None, id="leak"))
        write_notebook(reference, tmp / "subs" / "reference" / a / f"{a}.ipynb")
        (tmp / "subs" / "release" / a).mkdir(parents=True)
        shutil.copy(ROOT / "exercises" / f"{a}.ipynb", tmp / "subs" / "release" / a / f"{a}.ipynb")
    solution = read_notebook(ROOT / "solutions" / f"{DELEGATING_CLASS}.ipynb")
    delegating = {v.name: v for v in variants(COURSE, DELEGATING_CLASS) if is_delegating(v)}
    for name, v in delegating.items():
        write_notebook(without_analysis(apply_variant(solution, v)),
                       tmp / "subs" / name / DELEGATING_CLASS / f"{DELEGATING_CLASS}.ipynb")
    for a in ASSIGNMENTS:  # "delegator": every answer of the assignment hands its work to the course, each its way
        nb = without_analysis(read_notebook(ROOT / "solutions" / f"{a}.ipynb"))
        for v in variants(COURSE, a):
            if is_delegating(v):
                nb = apply_variant(nb, v)
        write_notebook(nb, tmp / "subs" / "delegator" / a / f"{a}.ipynb")
    rows, out, course = grade_in_a_copy(tmp)
    return {"rows": rows, "out": out, "course": course, "delegating": delegating}


@pytest.fixture(params=ASSIGNMENTS)
def graded(request, graded_class):
    """The pooled run's rows of one assignment, by student."""
    a = request.param
    return {"assignment": a, "out": graded_class["out"],
            "rows": {s: r for (s, b), r in graded_class["rows"].items() if b == a}}


def test_reference_solution_scores_full_marks(graded):
    row = graded["rows"]["reference"]
    assert row["status"] == "ok" and row["score"] == row["max_score"], row


def test_unmodified_release_scores_zero_without_grading_errors(graded):
    row = graded["rows"]["release"]
    assert row["status"] == "ok" and row["score"] == "0", row


@pytest.fixture(scope="module", params=ASSIGNMENTS)
def blocks(request):
    """The tests of the tests: the reference and every broken variant of one assignment (without the analysis
    cells), each test cell split into its visible tests and its hidden block, the runs sharing the cells above each
    variant's answer (``course.grading.variants.variant_outcomes``).

    Returns ``{"reference" | variant name: {test grade_id: BlockOutcome}}`` under ``"outcomes"``.
    """
    a = request.param
    source = without_analysis(read_notebook(source_notebook(COURSE, a)))
    kept = variants(COURSE, a)
    results = variant_outcomes(source, kept, source_notebook(COURSE, a).parent, int(budget()[1]))
    tests = [c.grade_id for c in graded_cells(read_notebook(source_notebook(COURSE, a))) if c.kind == "test"]
    return {"assignment": a, "outcomes": results, "tests": tests, "variants": kept}


def test_reference_passes_every_visible_test_and_hidden_block(blocks):
    outcomes = blocks["outcomes"]["reference"]
    assert sorted(outcomes) == sorted(blocks["tests"])
    failed = {t: o.message for t, o in outcomes.items() if not o.visible or o.hidden is False}
    assert not failed, failed


def test_every_broken_variant_loses_points_and_every_test_catches_one(blocks):
    assert blocks["variants"]
    caught = set()
    for v in blocks["variants"]:
        outcomes = blocks["outcomes"][v.name]
        failing = {t for t, o in outcomes.items() if not o.visible or o.hidden is False}
        assert failing, f"{v.name} ({v.bug}) passes every test"
        caught |= failing
    assert caught == set(blocks["tests"]), f"no broken variant fails {set(blocks['tests']) - caught}"


def test_every_hidden_block_is_failed_by_a_variant_that_passes_the_visible_tests_of_its_cell(blocks):
    """A hidden block that fails only together with the visible tests adds nothing: some realistic bug must get
    through the visible tests and be caught by the hidden ones."""
    hidden = {t for t, o in blocks["outcomes"]["reference"].items() if o.hidden is not None}
    covered = {t for v in blocks["variants"] for t, o in blocks["outcomes"][v.name].items()
               if t in hidden and o.visible and o.hidden is False}
    assert hidden - covered == set(), (f"{blocks['assignment']}: hidden blocks that no variant passing the visible "
                                       f"tests fails: {sorted(hidden - covered)}")


def test_a_delegating_variant_of_every_graded_function_loses_all_its_points(blocks):
    """Every answer cell has a variant that hands the work to the course's implementation; the guard
    (``course.grading.guard``) makes its test cell fail, so it earns none of the cell's points."""
    delegating = {v.grade_id: v for v in blocks["variants"] if is_delegating(v)}
    assert {f"test_{g}" for g in delegating} == set(blocks["tests"]), "a delegating variant for every answer cell"
    for grade_id, v in delegating.items():
        outcome = blocks["outcomes"][v.name][f"test_{grade_id}"]
        assert not outcome.visible and outcome.message.startswith("DelegationError: "), (v.name, outcome)
        assert "called the course's implementation" in outcome.message, (v.name, outcome)


@pytest.fixture(scope="module")
def release_errors(graded_class):
    """Every learner notebook of ``exercises/`` as it is released, analysis cells included, as the pooled grading
    run executed it (nbgrader runs every cell whatever failed before, as Run All does; the autograded copy keeps
    the outputs): the failing cells of each, ``{cell index: "ExceptionType: message"}``."""
    errors = {}
    for a in ASSIGNMENTS:
        ran = read_notebook(graded_class["course"] / "autograded" / "release" / a / f"{a}.ipynb")
        assert len(ran.cells) == len(read_notebook(ROOT / "exercises" / f"{a}.ipynb").cells), a
        errors[a] = {i: f"{o.get('ename')}: {o.get('evalue')}" for i, c in enumerate(ran.cells)
                     for o in c.get("outputs", []) if o.get("output_type") == "error"}
    return errors


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_an_unfinished_notebook_runs_to_the_end_and_only_its_tests_fail(a, release_errors):
    """An exercise not done yet costs its points, not the rest of the notebook: the cells after it use the course's
    implementation (``course.grading.fallback``), so in the release only the test cells fail."""
    nb = read_notebook(ROOT / "exercises" / f"{a}.ipynb")
    tests = {i for i, c in enumerate(nb.cells)
             if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")}
    others = {i: e for i, e in release_errors[a].items() if i not in tests}
    assert not others, {i: (nb.cells[i].source[:60], e) for i, e in others.items()}
    assert set(release_errors[a]) == tests, "every test of the release fails while the answers are not written"


def test_no_hidden_test_code_in_the_grading_output(graded):
    hidden = hidden_lines(read_notebook(source_notebook(COURSE, graded["assignment"])))
    assert graded["rows"]["reference"]["score"] == graded["rows"]["reference"]["max_score"]  # it ran to the end
    for p in graded["out"].rglob("*"):
        if p.is_file():
            assert not leaks(p.read_text(errors="replace"), hidden), p


@pytest.mark.parametrize("which, full", [("solutions", True), ("exercises", False)])
@pytest.mark.slow
def test_self_check_on_reference_and_release(which, full, capsys):
    """The learner's command and its report. It runs the pipeline that grades every assignment's reference and
    release above, so one assignment shows the report (each assignment again would add 16 notebook runs to CI)."""
    for a in ASSIGNMENTS[:1]:
        assert main(["check", str(ROOT / which / f"{a}.ipynb")] + budget()) == 0
        out = capsys.readouterr().out
        last = out.strip().splitlines()[-1]
        maximum = sum(c.points for c in graded_cells(read_notebook(source_notebook(COURSE, a))) if c.kind == "test")
        assert last == (f"score: {maximum:g}/{maximum:g}" if full else f"score: 0/{maximum:g}"), out
        assert ("FAIL" in out) != full and "status ok" in out
        assert not leaks(out, hidden_lines(read_notebook(source_notebook(COURSE, a))))


@pytest.mark.slow
def test_gradescope_bundle_runs_against_a_simulated_autograder_layout(tmp_path):
    a = ASSIGNMENTS[0]
    bundle = tmp_path / "bundle.zip"
    assert main(["gradescope", a, "--out", str(bundle)]) == 0
    hidden = hidden_lines(read_notebook(source_notebook(COURSE, a)))
    maximum = sum(c.points for c in graded_cells(read_notebook(source_notebook(COURSE, a))) if c.kind == "test")
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        assert {"setup.sh", "run_autograder", "pyproject.toml", "requirements.txt", f"autograder/source/{a}/{a}.ipynb",
                "course/grading/gradescope.py"} <= names
        # the image gets the tested versions: the lock's pins with CPU-only PyTorch, on the tested Python
        assert zf.read("requirements.txt").decode() == (ROOT / "binder" / "requirements.txt").read_text()
        setup = zf.read("setup.sh").decode()
        python = (ROOT / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
        assert "venv/bin/pip install -r requirements.txt" in setup and f"--python {python} " in setup
        assert re.search(r"pip install uv==\d+\.\d+\.\d+\n", setup), setup
    for case, notebook, score in (("reference", ROOT / "solutions" / f"{a}.ipynb", maximum), ("nothing", None, 0)):
        root = tmp_path / case / "autograder"
        (root / "submission").mkdir(parents=True)
        with zipfile.ZipFile(bundle) as zf:
            zf.extractall(root / "source")
        if notebook is not None:
            shutil.copy(notebook, root / "submission" / "my_notebook.ipynb")  # Gradescope keeps the upload's name
        assert subprocess.run(["bash", "-n", str(root / "source" / "setup.sh")]).returncode == 0
        env = {**os.environ, "AUTOGRADER_ROOT": str(root), "SPEECH_COURSE_PYTHON": sys.executable}
        run = subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True,
                             text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-2000:]
        results = json.loads((root / "results" / "results.json").read_text())
        assert results["score"] == score, results
        assert not leaks(json.dumps(results), hidden)
        if notebook is not None:
            assert len(results["tests"]) == len([c for c in graded_cells(read_notebook(notebook)) if c.kind == "test"])
            assert all(t["score"] == t["max_score"] for t in results["tests"])


@pytest.mark.slow
def test_plain_nbgrader_workflow_in_the_course_directory(tmp_path):
    """``nbgrader generate_assignment`` / ``autograde`` / ``validate`` run as documented, from a copy of autograder/."""
    a = ASSIGNMENTS[0]
    course = tmp_path / "autograder"
    shutil.copytree(COURSE, course, ignore=shutil.ignore_patterns("gradebook.db", "submitted", "autograded",
                                                                 "release", "feedback"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    nbgrader = [sys.executable, "-m", "nbgrader"]
    for cmd in (["generate_assignment", a, "--force"], ["autograde", a]):
        if cmd[0] == "autograde":
            (course / "submitted" / "ann" / a).mkdir(parents=True)
            shutil.copy(ROOT / "solutions" / f"{a}.ipynb", course / "submitted" / "ann" / a)
        run = subprocess.run(nbgrader + cmd, cwd=course, env=env, capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "speech-interpretability") as gb:
        submission = gb.find_submission(a, "ann")
        assert submission.score == submission.max_score > 0
    run = subprocess.run(nbgrader + ["validate", str(ROOT / "solutions" / f"{a}.ipynb")], env=env,
                         capture_output=True, text=True, timeout=600)
    assert "Success" in run.stdout, run.stdout[-2000:]


def test_a_class_of_delegating_answers_loses_exactly_the_delegated_points_through_the_real_pipeline(graded_class):
    """nbgrader, the sandbox and the feedback: each student delegates one function in another way; the grades
    lose that function's points and nothing else, and the feedback says that the answer called the course."""
    a = DELEGATING_CLASS
    tests = {c.grade_id: c.points for c in graded_cells(read_notebook(source_notebook(COURSE, a))) if c.kind == "test"}
    students = graded_class["delegating"]
    assert len(students) == len(tests)
    for name, v in students.items():
        row = graded_class["rows"][(name, a)]
        assert row["status"] == "ok", row
        assert float(row["score"]) == float(row["max_score"]) - tests[f"test_{v.grade_id}"], row
        feedback = (graded_class["out"] / "feedback" / name / a / f"{a}.html").read_text()
        assert "called the course&#39;s implementation" in feedback or "called the course's implementation" in feedback


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_a_student_who_delegates_every_answer_scores_zero_through_the_real_pipeline(a, graded_class):
    """The guard holds inside the sandboxed grading kernel of every assignment (captum, torch hooks and nbgrader's
    execution included), not only in the suite's harness."""
    row = graded_class["rows"][("delegator", a)]
    assert row["status"] == "ok" and float(row["score"]) == 0 < float(row["max_score"]), row
