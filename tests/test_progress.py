"""The progress view: visible tests rerun in the learner's kernel, one line per exercise, hidden tests never run."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course.grading.guard import DelegationError
from course.grading.progress import progress, release_notebook, run_visible_tests

RATED = "**Difficulty** ●○○○○ · **Importance** ●●●○○ · **Time box:** up to 5 minutes"


def _graded(source: str, grade_id: str, points: int):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "locked": True, "points": points,
                                 "schema_version": 3, "solution": False, "task": False}
    return cell


@pytest.fixture
def release(tmp_path):
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell(f"### Exercise 1 (2 points): `double`\n\n{RATED}"),
        new_code_cell("def double(x):\n    raise NotImplementedError"),
        _graded("assert double(2) == 4, 'double(2) should be 4'\n### BEGIN HIDDEN TESTS\nraise SystemExit('hidden')\n"
                "### END HIDDEN TESTS", "test_double", 2),
        new_markdown_cell(f"### Exercise 2 (3 points): `half`\n\n{RATED}"),
        _graded("assert half(4) == 2, 'half(4) should be 2'", "test_half", 3),
    ]
    path = tmp_path / "99_demo.ipynb"
    nbformat.write(nb, str(path))
    return path


def test_each_exercise_is_reported_with_its_points_and_first_message(release, capsys):
    namespace = {"double": lambda x: 2 * x, "half": lambda x: x}
    assert progress(namespace, "99_demo", notebook=release) is None  # nothing echoed as a cell's last line
    results = run_visible_tests(namespace, "99_demo", notebook=release)
    assert [(r.label, r.points, r.done) for r in results] == [("Exercise 1: `double`", 2, True),
                                                              ("Exercise 2: `half`", 3, False)]
    assert results[1].message == "AssertionError: half(4) should be 2"
    out = capsys.readouterr().out
    assert "visible tests passed for 2 of 5 points" in out and "speech-course check exercises/99_demo.ipynb" in out


def test_hidden_tests_are_never_run_and_the_namespace_is_not_changed(release):
    namespace = {"double": lambda x: 2 * x, "half": lambda x: x / 2}
    results = run_visible_tests(namespace, "99_demo", notebook=release)
    assert all(r.done for r in results), "the hidden block (SystemExit) must not run"
    assert set(namespace) == {"double", "half"}


def test_unstarted_and_delegated_exercises_say_so(release):
    def delegated(x):
        raise DelegationError("calls the course's version")

    def unstarted(x):
        raise NotImplementedError

    results = run_visible_tests({"double": unstarted, "half": delegated}, "99_demo", notebook=release)
    assert [r.message for r in results] == ["not started", "not done: the notebook is using the course's version "
                                                           "(finish yours above)"]
    broken = run_visible_tests({"double": lambda x: x + 1}, "99_demo", notebook=release)
    assert not broken[0].done and not broken[1].done and "NameError" in broken[1].message


def test_a_missing_release_names_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="99_nothing.ipynb"):
        release_notebook("99_nothing")


def test_the_course_release_is_found_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert release_notebook("02_probing").name == "02_probing.ipynb"


def test_progress_without_a_release_says_so_and_does_not_raise(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    progress({}, "99_nothing")
    assert "Cannot show your progress" in capsys.readouterr().out
