"""Deliberately broken answers: the tests of the tests.

Every graded function of an assignment has at least one broken variant in
``autograder/broken/<assignment>/<grade_id>-<bug>.py``: the complete source
of the solution cell ``grade_id`` with one realistic bug, explained in its
first comment line. The test suite grades the reference solution with each
variant swapped in and checks that it loses points, and that every test cell
fails for at least one variant (a test that no bug can fail tests nothing).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from course.grading.notebooks import nbgrader_meta


@dataclass(frozen=True)
class Variant:
    """A broken replacement for one solution cell."""

    name: str
    grade_id: str
    source: str
    bug: str


def variants(course_dir: Path, assignment: str) -> list[Variant]:
    """The broken variants kept for ``assignment`` (sorted by name)."""
    found = []
    for path in sorted((Path(course_dir) / "broken" / assignment).glob("*.py")):
        grade_id = path.stem.split("-", 1)[0]
        source = path.read_text(encoding="utf-8").rstrip()
        first = source.splitlines()[0] if source else ""
        found.append(Variant(path.stem, grade_id, source, first.removeprefix("#").strip()))
    return found


def apply_variant(solution: NotebookNode, variant: Variant) -> NotebookNode:
    """A copy of ``solution`` whose solution cell ``variant.grade_id`` holds the broken code.

    Raises
    ------
    KeyError
        If the notebook has no solution cell with that id.
    """
    nb = copy.deepcopy(solution)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and meta.get("grade_id") == variant.grade_id:
            cell.source = variant.source
            return nb
    raise KeyError(f"No solution cell {variant.grade_id!r} for variant {variant.name}.")
