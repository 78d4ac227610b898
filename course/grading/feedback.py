"""Test outcomes and feedback that never shows hidden tests.

nbgrader's ``generate_feedback`` renders the autograded notebook, in which
the hidden tests have been restored, so its HTML would show them. Before
feedback is rendered, :func:`redact_notebook` therefore

* cuts every test cell back to its visible part,
* keeps only the error line (``Name: message``) of cells with hidden tests,
  dropping their tracebacks and printed output (student code running inside
  a test can print the test's source),
* keeps only the error line of student cells too (their other outputs can
  carry anything the student's code captured),
* replaces any hidden test line that still appears anywhere by
  ``[hidden test]``.

:func:`safe_feedback` adds a summary table and checks the final HTML once
more; if a hidden line were still there it would serve the summary alone.
"""

from __future__ import annotations

import copy
import html
import re

from nbformat import NotebookNode
from nbformat.v4 import new_output

from course.grading.notebooks import graded_cells, leaks, nbgrader_meta, redact, split_hidden
from course.grading.results import TestOutcome

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
#: Longest message kept per test or error.
MESSAGE_CHARS = 300


def _clean(text: str, hidden: list[str], limit: int = MESSAGE_CHARS) -> str:
    """A message safe to show: no ANSI colours, hidden lines redacted, escaped copies withheld, bounded length."""
    text = redact(_ANSI.sub("", str(text)), hidden).strip()
    if leaks(text, hidden):
        return "[message withheld: it contained hidden test code]"
    return text if len(text) <= limit else text[:limit] + " [...]"


def _error_line(out: NotebookNode, hidden: list[str]) -> str:
    return _clean(f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".rstrip(": "), hidden)


def _message(cell: NotebookNode | None, hidden: list[str]) -> str:
    """Why a test cell lost points: its last error, or what it wrote to stderr."""
    if cell is None:
        return "the test cell is missing from the submission"
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        return _error_line(errors[-1], hidden)
    stderr = [o for o in cell.get("outputs", []) if o.get("output_type") == "stream" and o.get("name") == "stderr"]
    if stderr:
        return _clean("wrote to stderr (nbgrader counts that as a failure): " + stderr[0].get("text", ""), hidden)
    return ""


def outcomes(nb: NotebookNode, grades: dict, source: NotebookNode, hidden: list[str]) -> list:
    """One :class:`~course.grading.results.TestOutcome` per test cell of the assignment, in order.

    Free-response answer cells are not outcomes: the instructor grades them (``JobResult.manual_points``).
    """

    by_id = {nbgrader_meta(c).get("grade_id"): c for c in nb.cells}
    result = []
    for cell in graded_cells(source):
        if cell.kind != "test":
            continue
        points = grades.get(cell.grade_id)
        passed = points is not None and points >= cell.points
        message = "" if passed else _message(by_id.get(cell.grade_id), hidden)
        result.append(TestOutcome(cell.grade_id, float(points or 0.0), cell.points, passed, bool(cell.hidden),
                                  message))
    return result


def unrun_outcomes(source: NotebookNode, status: str) -> list:
    """Every graded cell of the assignment as failed, because the notebook was not graded (``status``)."""

    return [TestOutcome(c.grade_id, 0.0, c.points, False, bool(c.hidden), f"not run: {status}")
            for c in graded_cells(source) if c.kind == "test"]


def redact_notebook(nb: NotebookNode, source: NotebookNode, hidden: list[str]) -> NotebookNode:
    """A copy of an autograded notebook that is safe to show to the student (see module docstring)."""
    nb = copy.deepcopy(nb)
    with_hidden = {c.grade_id for c in graded_cells(source) if c.hidden}
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type == "markdown" and not meta.get("locked"):
            cell.source = html.escape(cell.source, quote=False)  # a student's answer is text, not markup
        if meta.get("grade_id") in with_hidden:
            visible, _ = split_hidden(cell.source)
            cell.source = visible + "\n# (hidden tests are not shown)"
        else:
            cell.source = redact(cell.source, hidden)
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        cell.outputs = [new_output("error", ename=o.get("ename", "Error"), evalue=_clean(o.get("evalue", ""), hidden),
                                   traceback=[_error_line(o, hidden)]) for o in errors]
    return nb


def summary_html(result, student: str, assignment: str) -> str:  # noqa: ANN001 - JobResult
    """An HTML table of the test outcomes (escaped; no test source)."""
    rows = "".join(
        f"<tr><td>{html.escape(t.name)}{' (has hidden tests)' if t.hidden else ''}</td>"
        f"<td>{t.points:g} / {t.max_points:g}</td><td>{'pass' if t.passed else 'FAIL'}</td>"
        f"<td>{html.escape(t.message)}</td></tr>"
        for t in result.tests
    )
    detail = f"<p>{html.escape(result.detail)}</p>" if result.detail else ""
    if result.manual_points:
        detail += (f"<p>Written answers ({result.manual_points:g} point(s)) are graded by your instructor and are "
                   "not in this score.</p>")
    return (
        '<div id="speech-course-summary" style="font-family:sans-serif;margin:1em">'
        f"<h2>{html.escape(assignment)} &mdash; {html.escape(student)}</h2>"
        f"<p><b>Score: {result.score:g} / {result.max_score:g}</b> &middot; status: <code>{html.escape(result.status)}"
        f"</code></p>{detail}"
        "<table border=\"1\" cellpadding=\"4\" style=\"border-collapse:collapse\">"
        "<tr><th>test</th><th>points</th><th>result</th><th>message</th></tr>"
        f"{rows}</table></div>"
    )


def status_page(result, student: str, assignment: str) -> str:  # noqa: ANN001 - JobResult
    """A complete feedback page built from the summary alone."""
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(assignment)} feedback</title></head><body>"
            f"{summary_html(result, student, assignment)}</body></html>\n")


def safe_feedback(page: str | None, result, student: str, assignment: str, hidden: list[str]) -> str:  # noqa: ANN001
    """nbgrader's feedback page with the summary on top, or the summary alone if the page is missing or leaks."""
    if page is None or leaks(page, hidden):
        return status_page(result, student, assignment)
    summary = summary_html(result, student, assignment)
    match = re.search(r"<body[^>]*>", page)
    return page[:match.end()] + summary + page[match.end():] if match else summary + page
