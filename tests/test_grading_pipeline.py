"""``speech-course grade`` on a generated class: correct, wrong, empty and adversarial submissions.

The class is graded once (module fixture) on the small ``99_mini`` test assignment, whose kernels start fast;
``test_grading_assignments.py`` runs the course's real assignments through the same pipeline.
"""

from __future__ import annotations

import copy
import csv
import shutil
import zipfile
from pathlib import Path

import pytest

from course.cli import main
from course.grading.assignments import prepare_assignment
from course.grading.notebooks import hidden_lines, leaks, read_notebook, solution_notebook, write_notebook
from grading_cases import cases, write_class
from system_packages import require_bubblewrap

HERE = Path(__file__).resolve().parent
MINI = HERE / "grading_data" / "course"
ASSIGNMENT = "99_mini"
FAST = ["--cell-timeout", "3", "--notebook-timeout", "45", "--memory", "1G"]


def _grades(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        return {r["student_id"]: r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class, graded once with two workers into OUT; the course directory is a scratch copy."""
    tmp = tmp_path_factory.mktemp("class")
    course = tmp / "course"
    shutil.copytree(MINI, course)
    prep = prepare_assignment(course, ASSIGNMENT, tmp / "prep")
    solution = solution_notebook(read_notebook(prep.source), read_notebook(prep.release))
    broken = copy.deepcopy(solution)
    for cell in broken.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "double":
            cell.source = "def double(x):\n    return x + 2"
    secret = [str(course), str(HERE.parent / "autograder"), str(HERE.parent / "solutions"), str(tmp)]
    expected = write_class(tmp / "subs", ASSIGNMENT, cases(solution, read_notebook(prep.release), broken, secret),
                           link_target=prep.source)
    out = tmp / "out"
    argv = ["grade", str(tmp / "subs"), "--out", str(out), "--workers", "2", "--course-dir", str(course), "--quiet"]
    assert main(argv + FAST) == 0
    return {"tmp": tmp, "course": course, "out": out, "expected": expected, "argv": argv, "solution": solution,
            "hidden": hidden_lines(read_notebook(prep.source))}


def test_every_student_gets_exactly_one_row_with_the_expected_status(graded):
    with open(graded["out"] / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["student_id"] for r in rows] == sorted(graded["expected"])
    assert set(rows[0]) >= {"student_id", "assignment", "score", "max_score", "status"}
    got = {r["student_id"]: r["status"] for r in rows}
    assert got == graded["expected"]
    assert all(r["max_score"] == "3" and r["assignment"] == ASSIGNMENT for r in rows)
    # the free-response answer (1 point) is left to the instructor: never in the autograded score or maximum
    assert all(r["manual_points"] == "1" for r in rows)


@pytest.mark.parametrize("student, score", [
    ("correct", "3"), ("wrong", "1"), ("empty", "0"), ("edited_tests", "1"), ("deleted_tests", "0"),
    ("duplicated_cells", "3"), ("other_kernel", "3"), ("sys_exit", "3"), ("big_output", "3"), ("leak", "3"),
    ("infinite_loop", "3"), ("memory_bomb", "3"), ("os_exit", "0"), ("segfault", "0"), ("uninterruptible", "0"),
    ("invalid_json", "0"), ("missing", "0"), ("wrong_filename", "0"), ("symlink", "0"),
])
def test_scores(graded, student, score):
    """Adversarial students cannot gain points, and never cost a well-behaved student theirs."""
    assert _grades(graded["out"])[student]["score"] == score


def test_statuses_explain_themselves(graded):
    rows = _grades(graded["out"])
    assert "cell 3" in rows["os_exit"]["detail"] and "cell(s) 3" in rows["infinite_loop"]["detail"]
    assert "99_mini_final.ipynb" in rows["wrong_filename"]["detail"]
    assert "output cut" in rows["big_output"]["detail"]


def test_feedback_for_every_row_and_no_hidden_test_code_anywhere_in_out(graded):
    out = graded["out"]
    for student in graded["expected"]:
        page = out / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
        assert page.is_file(), student
    text = (out / "feedback" / "wrong" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "Score: 1 / 3" in text and "FAIL" in text and "double must handle negative numbers" in text
    assert "hidden tests are not shown" in text
    assert "Written answers (1 point(s)) are graded by your instructor" in text
    files = [p for p in out.rglob("*") if p.is_file()]
    assert len(files) > len(graded["expected"])
    for p in files:
        found = leaks(p.read_text(encoding="utf-8", errors="replace"), graded["hidden"])
        assert not found, f"{p.relative_to(out)} shows hidden test code: {found}"


def test_the_leaking_student_really_saw_the_hidden_tests_during_grading(graded):
    """The check above is meaningful: the autograded notebook (instructor side) does contain the leak."""
    nb = graded["course"] / "autograded" / "leak" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert leaks(nb.read_text(), graded["hidden"])


def test_feedback_is_small_even_for_megabytes_of_output(graded):
    page = graded["out"] / "feedback" / "big_output" / ASSIGNMENT / f"{ASSIGNMENT}.html"
    assert page.stat().st_size < 1_000_000


def test_student_code_sees_no_course_files_no_other_students_and_no_network(graded):
    require_bubblewrap()
    nb = read_notebook(graded["course"] / "autograded" / "snoop" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs)
    listing = text.split("SNOOP-LIST", 1)[1].split("\n", 1)[0]
    assert listing.count("FileNotFoundError") == 4, listing  # autograder/, solutions/, the course copy, the class
    assert "SNOOP-NET connected" not in text and text.count("SNOOP-NET blocked") == 2
    env = text.split("SNOOP-ENV", 1)[1]
    assert "PATH" in env and "PYTEST_CURRENT_TEST" not in env  # the grader's environment is not passed on


def test_grades_are_recorded_in_the_class_gradebook(graded):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['course'] / 'gradebook.db'}", "speech-interpretability") as gb:
        assert gb.find_submission(ASSIGNMENT, "correct").score == 3
        assert gb.find_submission(ASSIGNMENT, "wrong").score == 1
        assert gb.find_submission(ASSIGNMENT, "missing").score == 0
        answer = gb.find_grade("reflect", "99_mini", ASSIGNMENT, "correct")
        assert answer.needs_manual_grade and answer.max_score == 1  # formgrader asks the instructor for it
    assert (graded["course"] / "autograded" / "correct" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").is_file()


def test_regrading_is_idempotent_and_student_regrades_one(graded):
    out, subs = graded["out"], graded["tmp"] / "subs"
    before = (out / "grades.csv").read_text()
    fixed = subs / "wrong" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    write_notebook(graded["solution"], fixed)  # the student resubmits a correct notebook
    assert main(graded["argv"] + FAST + ["--student", "wrong", "--student", "correct"]) == 0
    after = _grades(out)
    assert after["wrong"]["score"] == "3" and after["correct"]["score"] == "3"
    unchanged = {s: r for s, r in after.items() if s != "wrong"}
    assert unchanged == {s: r for s, r in _csv_rows(before).items() if s != "wrong"}


def _csv_rows(text: str) -> dict[str, dict]:
    return {r["student_id"]: r for r in csv.DictReader(text.splitlines())}


def test_a_zip_of_the_class_is_graded_the_same_way(graded, tmp_path):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for student in ("correct", "invalid_json", "missing"):
            folder = graded["tmp"] / "subs" / student
            for p in folder.rglob("*"):
                zf.write(p, f"export/{p.relative_to(folder.parent)}")
    out = tmp_path / "out"
    assert main(["grade", str(archive), "--out", str(out), "--course-dir", str(graded["course"]), "--quiet",
                 "--no-record"] + FAST) == 0
    got = {s: (r["status"], r["score"]) for s, r in _grades(out).items()}
    assert got == {"correct": ("ok", "3"), "invalid_json": ("invalid_notebook", "0"), "missing": ("missing", "0")}


def test_without_the_sandbox_grading_still_works_and_warns(graded, tmp_path, capsys):
    subs = tmp_path / "subs"
    shutil.copytree(graded["tmp"] / "subs" / "correct", subs / "correct")
    shutil.copytree(graded["tmp"] / "subs" / "memory_bomb", subs / "memory_bomb")
    out = tmp_path / "out"
    assert main(["grade", str(subs), "--out", str(out), "--course-dir", str(graded["course"]), "--quiet",
                 "--no-record", "--sandbox", "none"] + FAST) == 0
    assert "without filesystem and network isolation" in capsys.readouterr().err
    got = {s: (r["status"], r["score"]) for s, r in _grades(out).items()}
    assert got == {"correct": ("ok", "3"), "memory_bomb": ("memory_limit", "3")}
