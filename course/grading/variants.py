"""Deliberately broken answers: the tests of the tests.

Every graded function of an assignment has at least one broken variant in
``autograder/broken/<assignment>/<grade_id>-<bug>.py``: the complete source
of the solution cell ``grade_id`` with one realistic bug, explained in its
first comment line, and one that hands the work to the course's implementation
(``<grade_id>-delegates-<how>.py``). The test suite runs the reference solution
with each variant swapped in, every test cell split into its visible tests and
its hidden block (:func:`block_outcomes`), and checks that each variant loses
points, that a delegating variant loses all of its function's points, and that
every hidden block is failed by some variant that passes the visible tests of
its cell (a hidden test that only fails together with a visible one tests
nothing of its own).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from course.grading.notebooks import nbgrader_meta, split_hidden

#: Cell metadata key that marks the parts of a split test cell: ``{"grade_id": ..., "part": "visible" | "hidden"}``.
PART = "test_part"


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


def is_delegating(variant: Variant) -> bool:
    """Whether ``variant`` hands its function's work to the course's implementation (it must lose all its points)."""
    return variant.name.split("-", 1)[-1].startswith("delegates")


def split_tests(nb: NotebookNode) -> NotebookNode:
    """A copy of ``nb`` in which every test cell is two cells: its visible tests, then its hidden block (if any).

    The parts are marked with :data:`PART` in their metadata and carry no nbgrader metadata (the copy is executed
    directly, not graded).
    """
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            cells.append(cell)
            continue
        visible, hidden = split_hidden(cell.source)
        for part, source in (("visible", visible), ("hidden", "\n".join(hidden))):
            if part == "hidden" and not hidden:
                continue
            piece = new_code_cell(source, metadata={PART: {"grade_id": meta["grade_id"], "part": part}})
            piece.id = f"{cell.get('id', meta['grade_id'])}-{part}"[:64]
            cells.append(piece)
    nb.cells = cells
    return nb


@dataclass(frozen=True)
class BlockOutcome:
    """How one test cell fared, part by part."""

    visible: bool
    """Every visible test of the cell passed."""
    hidden: bool | None
    """Its hidden block passed (None: the cell has no hidden block)."""
    message: str
    """The first failure's ``ExceptionType: message`` ("" if both passed)."""


def block_outcomes(nb: NotebookNode, data_dir: Path, timeout: int) -> dict[str, BlockOutcome]:
    """Execute ``nb`` (a source notebook: answers and hidden tests) with its test cells split by
    :func:`split_tests`, every cell running whatever failed before, and report each test cell's parts.

    Parameters
    ----------
    nb : NotebookNode
        The notebook to run (trusted: the course's own code and its broken variants; no sandbox).
    data_dir : Path
        The assignment's folder (its data files are copied next to the kernel).
    timeout : int
        Seconds per cell.

    Returns
    -------
    dict
        ``{test grade_id: BlockOutcome}``.
    """
    from course.grading.build import execute_notebook

    run = execute_notebook(split_tests(nb), data_dir, timeout, allow_errors=True)
    parts: dict[str, dict[str, str | None]] = {}
    for cell in run.cells:
        mark = cell.get("metadata", {}).get(PART)
        if not mark:
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        failure = f"{errors[0].get('ename')}: {errors[0].get('evalue')}" if errors else None
        parts.setdefault(mark["grade_id"], {})[mark["part"]] = failure
    return {gid: BlockOutcome(visible=p.get("visible") is None,
                              hidden=None if "hidden" not in p else p["hidden"] is None,
                              message=next((m for m in (p.get("visible"), p.get("hidden")) if m), ""))
            for gid, p in parts.items()}
