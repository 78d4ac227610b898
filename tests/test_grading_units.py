"""Grading building blocks that need no kernel: notebooks, redaction, submissions, limits, CLI."""

from __future__ import annotations

import ast
import json
import os
import resource
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course.cli import main
from course.grading import notebooks as N
from course.grading.fallback import learner_or_reference
from course.grading.layout import assignment_ids, source_notebook
from course.grading.sandbox import Limits, parse_size, resolve_mode, wrap_kernel_command
from course.grading.submissions import SubmissionError, check_notebook, collect, extract_zip
from course.grading.variants import BlockOutcome, variants

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "autograder"
ASSIGNMENTS = assignment_ids(COURSE)


# -- hidden tests -----------------------------------------------------------------------------------------------


def test_split_hidden_and_solution_notebook():
    src = "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(5) == 10\n### END HIDDEN TESTS"
    visible, hidden = N.split_hidden(src)
    assert visible == "assert f(1) == 2" and hidden == ["assert f(5) == 10"]
    assert N.strip_markers(src, N.BEGIN_HIDDEN, N.END_HIDDEN, keep_inside=False) == "assert f(1) == 2"


def test_redaction_catches_verbatim_and_escaped_copies():
    hidden = ['assert double(-7) == -14, "negative numbers"']
    assert N.redact(f"x {hidden[0]} y", hidden) == f"x {N.REDACTED} y"
    escaped = repr(["assert double(-7) == -14, \"negative numbers\"\n"])  # as a list of captured cells prints
    assert N.leaks(escaped.replace('"', '\\"'), hidden)
    assert N.withhold_lines("fine\n" + json.dumps(hidden[0]), hidden).splitlines()[1].startswith("[line withheld")
    assert not N.leaks("AssertionError: negative numbers", hidden)  # a test's message is not its code


def _literals(code: str) -> set:
    """Constants passed to calls: the inputs a test feeds to the learner's functions."""
    out = set()
    for node in ast.walk(ast.parse(code or "pass")):
        if isinstance(node, ast.Call):
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                out |= {repr(c.value) for c in ast.walk(arg) if isinstance(c, ast.Constant)}
    return out


def _calls(code: str) -> set:
    return {ast.dump(n) for n in ast.walk(ast.parse(code or "pass")) if isinstance(n, ast.Call) and n.args}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_tests_use_other_inputs_than_the_visible_ones(assignment):
    cells = N.graded_cells(N.read_notebook(source_notebook(COURSE, assignment)))
    tests = [c for c in cells if c.kind == "test"]
    assert tests and all(c.hidden for c in tests), "every test cell should have hidden tests"
    for c in tests:
        hidden = "\n".join(c.hidden)
        assert _literals(hidden) - _literals(c.visible), f"{c.grade_id}: hidden tests reuse the visible inputs"
        assert not _calls(hidden) & _calls(c.visible), f"{c.grade_id}: a hidden call repeats a visible one"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_function_has_a_broken_variant(assignment):
    nb = N.read_notebook(source_notebook(COURSE, assignment))
    # code answer cells; markdown answers (reflections) are graded by the instructor and have no variants
    solution_ids = {N.nbgrader_meta(c)["grade_id"] for c in nb.cells
                    if N.nbgrader_meta(c).get("solution") and c.cell_type == "code"}
    kept = variants(COURSE, assignment)
    assert {v.grade_id for v in kept} == solution_ids
    for v in kept:
        assert v.bug and v.source.startswith("#"), f"{v.name}: explain the bug in a first comment line"
        compile(v.source, v.name, "exec")


# -- generated notebooks ----------------------------------------------------------------------------------------


def test_normalize_merges_stream_chunks_so_timing_cannot_cause_drift():
    one = nbformat.v4.new_code_cell("print(1); print(2)")
    one.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n2\n")]
    two = nbformat.v4.new_code_cell("print(1); print(2)")
    two.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n"),
                   nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    texts = []
    for cell in (one, two):
        nb = nbformat.v4.new_notebook()
        nb.cells = [cell]
        texts.append(N.notebook_text(N.normalize(nb, keep_outputs=True)))
    assert texts[0] == texts[1]


def test_normalize_is_deterministic_and_drops_volatile_metadata():
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "x", "display_name": "X"}, "widgets": {"state": 1}})
    timing = {"iopub.status.busy": "2024-01-01T00:00:00Z"}
    cell = nbformat.v4.new_code_cell("1", metadata={"execution": timing, "nbgrader": {"grade": False}})
    cell.outputs = [nbformat.v4.new_output("display_data", data={N.WIDGET_MIME: {"model_id": "abc"},
                                                                 "text/plain": "VBox(...)"})]
    nb.cells = [cell]
    a, b = N.normalize(nb, keep_outputs=True), N.normalize(nb, keep_outputs=True)
    assert N.notebook_text(a) == N.notebook_text(b)
    assert "widgets" not in a.metadata and "execution" not in a.cells[0].metadata
    assert a.cells[0].outputs[0].data == {"text/plain": N.WIDGET_PLACEHOLDER}
    assert N.normalize(nb, keep_outputs=False).cells[0].outputs == []


def test_drop_duplicate_ids_keeps_the_last_copy():
    meta = {"nbgrader": {"grade_id": "f", "solution": True, "grade": False, "locked": False, "schema_version": 3}}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a", metadata=json.loads(json.dumps(meta))),
                                         nbformat.v4.new_code_cell("b", metadata=json.loads(json.dumps(meta)))])
    assert N.drop_duplicate_ids(nb) == 1
    assert "nbgrader" not in nb.cells[0].metadata and N.nbgrader_meta(nb.cells[1])["grade_id"] == "f"


# -- submissions --------------------------------------------------------------------------------------------------


def _nb_text() -> str:
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]))


def test_check_notebook_statuses(tmp_path):
    good = tmp_path / "good.ipynb"
    good.write_text(_nb_text())
    assert check_notebook(good) == ""
    cases = {"bad.ipynb": b"{nope", "list.ipynb": b"[1, 2]", "bin.ipynb": b"\xff\xfe\x00",
             "v3.ipynb": json.dumps({"cells": [], "nbformat": 3}).encode()}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert check_notebook(tmp_path / name), name
    (tmp_path / "link.ipynb").symlink_to(good)
    assert "link" in check_notebook(tmp_path / "link.ipynb")


def test_collect_gives_every_student_a_row_per_assignment(tmp_path):
    for student, files in {"ann": {"00_orientation.ipynb": _nb_text()}, "bob": {}, "cy": {"final.ipynb": _nb_text()},
                           "bad name": {"00_orientation.ipynb": _nb_text()}}.items():
        d = tmp_path / student / "00_orientation"
        d.mkdir(parents=True)
        for name, text in files.items():
            (d / name).write_text(text)
    (tmp_path / "dee" / "00-orientation").mkdir(parents=True)
    subs, warnings = collect(tmp_path, ["00_orientation", "01_other"])
    status = {s.student: s.status for s in subs}
    assert status == {"ann": "", "bob": "missing", "cy": "wrong_filename", "bad name": "invalid_student_id",
                      "dee": "missing"}
    assert any("00-orientation" in w for w in warnings)
    with pytest.raises(SubmissionError):
        collect(tmp_path, ["00_orientation"], students=["nobody"])
    with pytest.raises(SubmissionError):
        collect(tmp_path, ["00_orientation"], assignments=["99_unknown"])


def test_zip_extraction_is_safe_and_unwraps_one_folder(tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("class/ann/00_orientation/00_orientation.ipynb", _nb_text())
        zf.writestr("../escape.txt", "x")
        zf.writestr("/abs.txt", "x")
        link = zipfile.ZipInfo("class/ann/00_orientation/link.ipynb")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    out = extract_zip(archive, tmp_path / "x")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "x" / "abs.txt").exists()
    assert not (out / "class" / "ann" / "00_orientation" / "link.ipynb").exists()
    subs, _ = collect(out, ["00_orientation"])
    assert [(s.student, s.status) for s in subs] == [("ann", "")]
    (tmp_path / "not.zip").write_text("plain text")
    with pytest.raises(SubmissionError):
        extract_zip(tmp_path / "not.zip", tmp_path / "y")


# -- sandbox command and limits ---------------------------------------------------------------------------------


def test_parse_size():
    assert parse_size("3G") == 3 * 1024**3 and parse_size("512M") == 512 * 1024**2 and parse_size("1000") == 1000
    for bad in ("", "lots", "-1G", "0"):
        with pytest.raises(ValueError):
            parse_size(bad)


def test_bwrap_command_shows_only_what_the_kernel_needs(tmp_path):
    cmd = wrap_kernel_command(["python", "-m", "ipykernel_launcher"], "bwrap", Limits(), writable=[tmp_path],
                              cwd=tmp_path, cache_dir=tmp_path / "cache")
    binds = {cmd[i + 1] for i, a in enumerate(cmd) if a in ("--ro-bind", "--ro-bind-try", "--bind")}
    assert str(COURSE) not in binds and str(ROOT / "solutions") not in binds and str(ROOT) not in binds
    assert str(ROOT / "course") in binds and str(tmp_path) in binds
    assert {"--unshare-all", "--die-with-parent", "--clearenv"} <= set(cmd)
    assert "--share-net" not in cmd
    assert cmd[-3:] == ["python", "-m", "ipykernel_launcher"]
    plain = wrap_kernel_command(["k"], "none", Limits(memory_bytes=123), writable=[])
    assert plain[-1] == "k" and "course.grading.limits" in plain and "123" in plain


def test_limits_launcher_applies_the_limits():
    code = "import resource as r; print(r.getrlimit(r.RLIMIT_DATA)[0], r.getrlimit(r.RLIMIT_FSIZE)[0])"
    out = subprocess.run([sys.executable, "-m", "course.grading.limits", "--memory", str(2 * 1024**3),
                          "--file-size", "4096", "--", sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == [str(2 * 1024**3), "4096"]
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] != 4096  # this process is untouched


def test_limits_launcher_keeps_pyarrow_from_reserving_a_third_of_the_cap():
    pytest.importorskip("pyarrow")
    code = ("import pyarrow as pa; pa.array([1, 2, 3]); "
            "print(pa.default_memory_pool().backend_name, "
            "[l.split()[1] for l in open('/proc/self/status') if l.startswith('VmData')][0])")
    launch = [sys.executable, "-m", "course.grading.limits", "--memory", str(3 * 1024**3), "--"]
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    backend, data_kb = subprocess.run(launch + [sys.executable, "-c", code], capture_output=True, text=True,
                                      env=env, check=True).stdout.split()
    assert backend == "system"
    if sys.platform.startswith("linux"):
        plain_backend, plain_kb = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                                 env=env, check=True).stdout.split()
        # without the launcher the default pool reserves about 1 GiB of data segment up front
        assert int(data_kb) < int(plain_kb) - 500_000 or plain_backend == "system", (data_kb, plain_kb)


def test_resolve_mode_warns_when_the_sandbox_is_off():
    seen = []
    assert resolve_mode("none", warn=seen.append) == "none" and "without" in seen[0]
    with pytest.raises(ValueError):
        resolve_mode("docker")


def test_fallback_to_the_reference(capsys):
    def unfinished(t):
        raise NotImplementedError

    def reference(t):
        return t * 2

    assert learner_or_reference(unfinished, reference, [(1,)]) is reference
    assert "not implemented" in capsys.readouterr().out
    assert learner_or_reference(lambda t: t * 2, reference, [(1,), (2,)]) is not reference
    assert learner_or_reference(lambda t: np.zeros(2), lambda t: np.ones(2), [(0,)]).__name__ == "<lambda>"


def test_fallback_compares_numbers_and_tables_up_to_round_off():
    import pandas as pd

    def ref_num(t):
        return 0.1 * 3

    def ref_table(t):
        return pd.DataFrame({"mean": [0.3, 1.0]}, index=["a", "b"])

    assert learner_or_reference(lambda t: 0.3, ref_num, [(0,)]) is not ref_num  # 0.1 * 3 != 0.3 exactly
    assert learner_or_reference(lambda t: 0.31, ref_num, [(0,)]) is ref_num
    mine = learner_or_reference(lambda t: pd.DataFrame({"mean": [0.1 * 3, 1.0]}, index=["a", "b"]), ref_table, [(0,)])
    assert mine is not ref_table
    wrong_index = learner_or_reference(lambda t: pd.DataFrame({"mean": [0.3, 1.0]}, index=["b", "a"]), ref_table,
                                       [(0,)])
    assert wrong_index is ref_table
    # a profile table (numbers beside text): numbers up to round-off, text exactly
    profile = pd.DataFrame({"layer": [0, 0], "speaker": ["s1", "s2"], "model": [0.3, 0.7]})

    def ref_profile(t):
        return profile

    for table, used in ((profile.assign(model=[0.1 * 3, 0.7]), "mine"), (profile.assign(speaker=["s1", "s3"]), "ref"),
                        (profile.assign(model=[0.31, 0.7]), "ref")):
        chosen = learner_or_reference(lambda t: table, ref_profile, [(0,)])
        assert (chosen is ref_profile) == (used == "ref"), table


def test_fallback_compares_tensors_and_sequences():
    import torch

    def ref(t):
        return torch.tensor([0.1 * 3, 1.0]), [np.ones(2), {"k": 1}]

    assert learner_or_reference(lambda t: (torch.tensor([0.3, 1.0]), [np.ones(2), {"k": 1}]), ref, [(0,)]) is not ref
    assert learner_or_reference(lambda t: (torch.tensor([0.3, 1.1]), [np.ones(2), {"k": 1}]), ref, [(0,)]) is ref
    assert learner_or_reference(lambda t: (torch.tensor([0.3, 1.0]), [np.ones(2), {"k": 2}]), ref, [(0,)]) is ref
    assert learner_or_reference(lambda t: (torch.tensor([0.3, 1.0]), [np.ones(2)]), ref, [(0,)]) is ref


# -- command line -----------------------------------------------------------------------------------------------


def test_grading_commands_have_help(capsys):
    for cmd in ("build", "grade", "check", "gradescope", "bench-grading"):
        with pytest.raises(SystemExit) as exc:
            main([cmd, "--help"])
        assert exc.value.code == 0 and "usage: speech-course" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["grade", "/nonexistent/class", "--out", "/tmp/x"], "No such folder or zip"),
    (["grade", "SUBS", "--out", "OUT", "--memory", "lots"], "Not a size"),
    (["grade", "SUBS", "--out", "OUT", "--workers", "0"], "--workers"),
    (["check", "/nonexistent.ipynb"], "No such notebook"),
    (["check", "NB", "--assignment", "99_nothing"], "No assignment"),
    (["build", "--assignment", "99_nothing", "--check"], "Unknown assignment"),
    (["gradescope", "99_nothing", "--out", "OUT"], "No assignment"),
    (["grade", "SUBS", "--out", "OUT", "--course-dir", "/nonexistent"], "No nbgrader course directory"),
])
def test_bad_input_gives_an_error_line_not_a_traceback(tmp_path, capsys, argv, message):
    (tmp_path / "subs").mkdir()
    (tmp_path / "nb.ipynb").write_text(_nb_text())
    names = {"SUBS": str(tmp_path / "subs"), "OUT": str(tmp_path / "out"), "NB": str(tmp_path / "nb.ipynb")}
    assert main([names.get(a, a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("speech-course: error:") and message in err and "Traceback" not in err


def _cell(source: str, **nbgrader) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    return cell


@pytest.mark.slow
def test_variant_runs_start_from_the_state_above_their_answer_and_report_each_part(tmp_path):
    """``variant_outcomes`` forks at a variant's answer cell: the child sees what the cells above computed, its code
    replaces the answer, the reference run is not affected, and a cell that runs too long fails with a timeout."""
    from course.grading.variants import Variant, variant_outcomes

    nb = nbformat.v4.new_notebook()
    nb.cells = [_cell("x = 1"),
                _cell("def f():\n    return x", solution=True, grade=False, grade_id="f"),
                _cell("assert f() == 1, 'one'\n### BEGIN HIDDEN TESTS\nassert f() + x == 2, 'two'\n"
                      "### END HIDDEN TESTS", grade=True, solution=False, grade_id="test_f", points=1),
                _cell("after = f()")]
    broken = [Variant("f-two", "f", "def f():\n    return 2 * x", "doubles"),
              Variant("f-slow", "f", "import time\ndef f():\n    time.sleep(30)\n    return x", "sleeps"),
              Variant("f-hidden", "f", "x = 0\ndef f():\n    return 1", "passes the visible test only")]
    got = variant_outcomes(nb, broken, tmp_path, timeout=2)
    assert set(got) == {"reference", "f-two", "f-slow", "f-hidden"}
    assert got["reference"]["test_f"] == BlockOutcome(visible=True, hidden=True, message="")
    assert got["f-two"]["test_f"] == BlockOutcome(visible=False, hidden=False, message="AssertionError: one")
    assert got["f-slow"]["test_f"].message.startswith("TimeoutError: ")
    assert got["f-hidden"]["test_f"] == BlockOutcome(visible=True, hidden=False, message="AssertionError: two")


# -- broken variants as patches -----------------------------------------------------------------------------------


def test_a_patch_variant_round_trips_and_survives_an_edit_elsewhere_in_the_cell():
    from course.grading.variants import apply_patch, make_patch

    base = "def f(x):\n    y = x + 1  # one more\n    z = y * 2\n    return z"
    broken = "def f(x):\n    y = x + 1  # one more\n    z = y * 3\n    return z"
    patch = make_patch(base, broken, "# Bug: triples instead of doubling")
    assert patch.startswith("# Bug: triples instead of doubling\n@@ ")
    assert apply_patch(base, patch) == "# Bug: triples instead of doubling\n" + broken
    edited = "import math\n\n" + base.replace("# one more", "# one more (a comment the fix changed)")
    assert "z = y * 3" in apply_patch(edited, make_patch(base, broken, "Bug: triples", context=0))


def test_a_patch_that_no_longer_applies_fails_loudly_with_its_hunk():
    from course.grading.variants import VariantError, apply_patch, make_patch

    base = "def f(x):\n    y = x + 1\n    return y * 2"
    patch = make_patch(base, base.replace("y * 2", "y * 3"), "Bug: triples")
    with pytest.raises(VariantError, match=r"hunk 1 expects line .* The solution changed"):
        apply_patch(base.replace("y * 2", "2 * y"), patch, "f-triples")
    with pytest.raises(VariantError, match="comment line"):
        apply_patch(base, patch.split("\n", 1)[1])
    with pytest.raises(VariantError, match="must change something"):
        make_patch(base, base, "Bug: none")


def test_only_delegating_variants_may_be_whole_cells(tmp_path):
    from course.grading.variants import VariantError

    shutil.copytree(COURSE / "source" / "00_orientation", tmp_path / "source" / "00_orientation")
    broken = tmp_path / "broken" / "00_orientation"
    broken.mkdir(parents=True)
    (broken / "time_to_frame-rounds.py").write_text("# Bug: rounds\ndef time_to_frame(t):\n"
                                                    "    return round(t / 0.02)\n")
    with pytest.raises(VariantError, match="only delegating variants are whole cells"):
        variants(tmp_path, "00_orientation")


def test_new_gradebooks_get_nbgraders_own_revision_without_a_subprocess(tmp_path, monkeypatch):
    """``course.grading.assignments.alembic_head`` replaces nbgrader's ``alembic heads`` subprocess (3.3 s per new
    gradebook): it must stamp the revision that command prints, and no subprocess may run."""
    import nbgrader.api
    from nbgrader.api import Gradebook
    from nbgrader.dbutil import _temp_alembic_ini

    from course.grading.assignments import alembic_head, nbgrader_api

    with _temp_alembic_ini(f"sqlite:///{tmp_path / 'unused.db'}") as ini:  # what nbgrader's own function runs
        heads = subprocess.check_output([str(Path(sys.executable).parent / "alembic"), "-c", ini, "heads"], text=True)
    expected = heads.split()[0]
    assert alembic_head() == expected
    nbgrader_api(tmp_path)
    monkeypatch.setattr(subprocess, "check_output", lambda *a, **k: pytest.fail(f"a subprocess ran: {a}"))
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}", "c") as gb:
        stamped = gb.db.execute(nbgrader.api.text("SELECT version_num FROM alembic_version")).scalar()
    assert stamped == expected


def test_the_longest_notebooks_are_graded_first_and_an_unreadable_one_does_not_stop_the_order(tmp_path):
    from course.grading.grade import _code_cells
    from course.grading.submissions import Submission

    subs = []
    for name, n in (("short", 2), ("long", 9), ("middle", 5)):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1") for _ in range(n)]
                                      + [nbformat.v4.new_markdown_cell("x")])
        path = tmp_path / f"{name}.ipynb"
        path.write_text(json.dumps(nb))
        subs.append(Submission(name, "00_orientation", path))
    (tmp_path / "broken.ipynb").write_text("{not json")
    subs.append(Submission("broken", "00_orientation", tmp_path / "broken.ipynb"))
    assert [s.student for s in sorted(subs, key=_code_cells, reverse=True)] == ["long", "middle", "short", "broken"]
