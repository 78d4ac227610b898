"""A learner's progress through a notebook, shown by its last cell.

:func:`progress` runs the **visible** tests of every exercise again, in the learner's own kernel, and prints one
line per exercise: done or not, its points, and the first failure message. It reads the tests from the released
notebook (``exercises/NN_topic.ipynb``), so it never sees a hidden test; the grade itself comes from the hidden tests
too (``speech-course check NOTEBOOK``, or your instructor). It needs no second kernel, so it fits a 2 GB Binder.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

from course.grading.exercises import exercises
from course.grading.guard import DelegationError
from course.grading.layout import repo_root
from course.grading.notebooks import nbgrader_meta, read_notebook, split_hidden

#: Where a released notebook is looked for, in order (``None``: the current directory).
RELEASE_DIRS = (None, repo_root() / "exercises")


@dataclass
class ExerciseProgress:
    """One exercise's visible tests as run in the learner's kernel."""

    label: str
    points: float
    done: bool
    message: str


def release_notebook(assignment: str, notebook: str | Path | None = None) -> Path:
    """The released notebook of ``assignment``: ``notebook`` if given, else ``NN_topic.ipynb`` in the current
    directory or in the course's ``exercises/``.

    Raises
    ------
    FileNotFoundError
        Naming the places looked in.
    """
    if notebook is not None:
        candidates = [Path(notebook)]
    else:
        candidates = [(Path.cwd() if d is None else d) / f"{assignment}.ipynb" for d in RELEASE_DIRS]
    for path in candidates:
        if path.is_file():
            return path
    raise FileNotFoundError(f"Cannot find the notebook of {assignment} (looked at {', '.join(map(str, candidates))});"
                            " pass notebook='path/to/it.ipynb'.")


def run_visible_tests(namespace: dict, assignment: str, notebook: str | Path | None = None) -> list[ExerciseProgress]:
    """Run every graded test cell's visible part in a copy of ``namespace``; one result per exercise."""
    nb = read_notebook(release_notebook(assignment, notebook))
    heads = {ex.cell: ex for ex in exercises(nb)}
    results: list[ExerciseProgress] = []
    current = None
    for i, cell in enumerate(nb.cells):
        current = heads.get(i, current)
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        label = f"Exercise {current.number}: {current.title}" if current else meta.get("grade_id", f"cell {i}")
        source = split_hidden(cell.source)[0]
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, f"<{meta.get('grade_id', i)}>", "exec"), dict(namespace))  # noqa: S102
            done, message = True, ""
        except DelegationError:
            done, message = False, "not done: the notebook is using the course's version (finish yours above)"
        except NotImplementedError:
            done, message = False, "not started"
        except Exception as exc:  # noqa: BLE001 - any failure of a visible test is reported, not raised
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            done, message = False, f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        results.append(ExerciseProgress(label, float(meta.get("points", 0)), done, message))
    return results


def progress(namespace: dict, assignment: str, notebook: str | Path | None = None) -> None:
    """Print which exercises pass their visible tests, with points (:func:`run_visible_tests` returns them).

    Call it from the notebook's last cell: ``progress(globals(), "02_probing")``.
    """
    try:
        results = run_visible_tests(namespace, assignment, notebook)
    except FileNotFoundError as exc:  # e.g. a notebook copied elsewhere: say so, never fail the notebook's last cell
        print(f"Cannot show your progress: {exc}")
        return
    for r in results:
        mark = "done    " if r.done else "to do   "
        print(f"{mark}{r.label}  ({r.points:g} point{'s' if r.points != 1 else ''})"
              + (f"\n        {r.message}" if r.message else ""))
    done = sum(r.points for r in results if r.done)
    total = sum(r.points for r in results)
    print(f"visible tests passed for {done:g} of {total:g} points. The grade also runs hidden tests on other inputs: "
          f"save the notebook and run  speech-course check exercises/{assignment}.ipynb  in the course's folder")
