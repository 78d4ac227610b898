"""``speech-course check NOTEBOOK``: a learner grades their own notebook locally.

The notebook goes through exactly the pipeline a class submission goes
through (real nbgrader, the sandbox, visible and hidden tests); the report
lists each test's outcome and message, never the hidden tests' code, and
ends with ``score: X/Y``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from course.grading.assignments import prepare_assignment
from course.grading.grade import course_cache, run_submission
from course.grading.job import not_graded
from course.grading.layout import assignment_ids, check_course_dir, source_notebook
from course.grading.notebooks import nbgrader_meta, read_notebook
from course.grading.results import GRADED, STATUSES, JobResult
from course.grading.sandbox import Limits, resolve_mode
from course.grading.submissions import Submission, check_notebook

#: The student id a self-check is graded under.
LEARNER = "learner"


def guess_assignment(notebook: Path, course_dir: Path) -> str:
    """The assignment a notebook belongs to: its file name, else the one sharing most graded cell ids.

    Raises
    ------
    ValueError
        If no assignment matches.
    """
    if not Path(notebook).is_file():
        raise FileNotFoundError(f"No such notebook: {notebook}")
    known = assignment_ids(course_dir)
    if notebook.stem in known:
        return notebook.stem
    try:
        ids = {nbgrader_meta(c).get("grade_id") for c in read_notebook(notebook).cells} - {None}
    except Exception:  # noqa: BLE001 - an unreadable notebook is reported by the check itself
        ids = set()
    overlap = {a: len(ids & {nbgrader_meta(c).get("grade_id") for c in
                             read_notebook(course_dir / "source" / a / f"{a}.ipynb").cells}) for a in known}
    best = max(overlap, key=overlap.get, default=None)
    if best is None or overlap[best] == 0:
        raise ValueError(f"Cannot tell which assignment {notebook.name} belongs to; pass --assignment "
                         f"(one of {', '.join(known)}).")
    return best


def check_learner_notebook(notebook: Path, course_dir: Path, assignment: str | None = None,
                           limits: Limits = Limits(), sandbox: str = "auto", ensure_corpus: bool = True) -> JobResult:
    """Grade one notebook like a submission and return the result."""
    course_dir = check_course_dir(course_dir)
    notebook = Path(notebook)
    if not notebook.is_file():
        raise FileNotFoundError(f"No such notebook: {notebook}")
    assignment = assignment or guess_assignment(notebook, course_dir)
    source_notebook(course_dir, assignment)  # an unknown assignment is an error before any warning
    mode = resolve_mode(sandbox)
    with tempfile.TemporaryDirectory(prefix="speech-course-check-") as tmp:
        prep = prepare_assignment(course_dir, assignment, Path(tmp) / "prep")
        problem = check_notebook(notebook)
        if problem:
            return not_graded("invalid_notebook", problem, prep.source_nb(), prep.max_score)
        job_dir = Path(tmp) / "job"
        job_dir.mkdir()
        sub = Submission(LEARNER, assignment, notebook)
        return run_submission(sub, prep, job_dir, mode, limits, course_cache(ensure_corpus))


def report(result: JobResult, assignment: str) -> str:
    """The text ``speech-course check`` prints."""
    lines = [f"{assignment}: status {result.status} ({STATUSES.get(result.status, '')})"]
    if result.detail:
        lines.append(f"  {result.detail}")
    for t in result.tests:
        mark = "PASS" if t.passed else "FAIL"
        hidden = " (includes hidden tests)" if t.hidden else ""
        lines.append(f"  {mark}  {t.name}{hidden}  {t.points:g}/{t.max_points:g}")
        if t.message:
            lines.append(f"        {t.message}")
    if result.status not in GRADED:
        lines.append("  (the notebook could not be graded, so every test counts as failed)")
    if result.manual_points:
        lines.append(f"  + {result.manual_points:g} point(s) for written answers, graded by your instructor")
    lines.append(f"score: {result.score:g}/{result.max_score:g}")
    return "\n".join(lines)
