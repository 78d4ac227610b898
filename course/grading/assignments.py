"""Turning an assignment's source notebook into nbgrader's release and gradebook.

:func:`prepare_assignment` runs the real ``nbgrader generate_assignment`` in a
scratch course directory. The result is what every other step needs: the
release notebook (for ``exercises/``), a gradebook that knows the
assignment's cells and checksums (copied for every grading job), and the
hidden test lines (for redacting feedback).
"""

from __future__ import annotations

import functools
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from course.errors import CourseError
from course.grading.layout import source_notebook, tools_on_path
from course.grading.nbconfig import COURSE_ID
from course.grading.notebooks import GradedCell, graded_cells, hidden_lines, points, read_notebook


class GradingError(CourseError, ValueError):
    """nbgrader rejected a course source notebook (bad input to the build, not a student's fault)."""


@dataclass(frozen=True)
class PreparedAssignment:
    """An assignment ready to be released and graded.

    Attributes
    ----------
    id : str
        Assignment id, also the notebook's name.
    source : Path
        Source notebook (solutions and hidden tests).
    release : Path
        nbgrader's release notebook (stubs, no hidden tests).
    gradebook : Path
        Gradebook holding just this assignment.
    data_dir : Path
        The assignment's source folder (its non-notebook files are copied next to each submission).
    cells : tuple of GradedCell
    hidden : tuple of str
        Hidden test lines to redact from anything a student sees.
    """

    id: str
    source: Path
    release: Path
    gradebook: Path
    data_dir: Path
    cells: tuple[GradedCell, ...]
    hidden: tuple[str, ...]

    @property
    def notebook(self) -> str:
        """File name of the assignment's notebook."""
        return f"{self.id}.ipynb"

    @property
    def max_score(self) -> float:
        """Autograded points (test cells); free-response answers are graded by the instructor."""
        return points(self.cells, "test")

    @property
    def manual_points(self) -> float:
        """Points of the answer cells the instructor grades by hand (in formgrader)."""
        return points(self.cells, "answer")

    def source_nb(self) -> NotebookNode:
        return read_notebook(self.source)


def alembic_head() -> str:
    """The revision nbgrader stamps on a new gradebook, read in this process.

    nbgrader's own ``get_alembic_version`` runs the ``alembic heads`` command in a subprocess for every gradebook it
    creates, and a grading run creates one per assignment before any notebook runs: preparing an assignment took
    3.6 s with it and 0.3 s with this (median of 3, 2-core machine 1.5 times slower than the reference one,
    2026-12-07). Same revision scripts, same answer (``tests/test_grading_units.py``).
    """
    from alembic.script import ScriptDirectory  # start-up: with nbgrader, below
    from nbgrader.dbutil import ALEMBIC_DIR  # start-up, as above

    heads = ScriptDirectory(ALEMBIC_DIR).get_heads()
    if len(heads) != 1:
        raise GradingError(f"nbgrader's database migrations have {len(heads)} heads ({heads}); expected one.")
    return heads[0]


_ALEMBIC_HEAD = functools.cache(alembic_head)


def nbgrader_api(root: Path, config=None):  # noqa: ANN001, ANN201 - traitlets Config, nbgrader API
    """An ``NbGraderAPI`` for the course directory ``root``.

    New gradebooks get their database revision from :func:`alembic_head` (computed once per process) instead of an
    ``alembic`` subprocess each.
    """
    import nbgrader.api  # start-up: nbgrader's applications take about 3 s to import
    from nbgrader.apps import NbGraderAPI  # start-up, as above
    from nbgrader.coursedir import CourseDirectory  # start-up, as above
    from traitlets.config import Config  # start-up, as above

    nbgrader.api.get_alembic_version = _ALEMBIC_HEAD
    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.course_id = COURSE_ID
    if config is not None:
        c.merge(config)
    coursedir = CourseDirectory(config=c)
    api = NbGraderAPI(coursedir=coursedir, config=c)
    api.log.setLevel(logging.WARNING)
    return api


def prepare_assignment(course_dir: Path, assignment: str, work: Path) -> PreparedAssignment:
    """Run ``nbgrader generate_assignment`` for one assignment in the scratch directory ``work``.

    Raises
    ------
    FileNotFoundError
        If the assignment does not exist.
    GradingError
        If nbgrader rejects the source notebook.
    """
    src = source_notebook(course_dir, assignment)
    root = Path(work) / assignment
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(src.parent, root / "source" / assignment, symlinks=False)
    with tools_on_path():
        result = nbgrader_api(root).generate_assignment(assignment, force=True, create=True)
    release = root / "release" / assignment / f"{assignment}.ipynb"
    if not result["success"] or not release.is_file():
        raise GradingError(f"nbgrader generate_assignment failed for {assignment}:\n{result.get('log', '')}"
                           f"{result.get('error', '')}")
    nb = read_notebook(src)
    return PreparedAssignment(
        id=assignment, source=src, release=release, gradebook=root / "gradebook.db", data_dir=src.parent,
        cells=tuple(graded_cells(nb)), hidden=tuple(hidden_lines(nb)),
    )
