"""Deliberately broken answers: the tests of the tests.

Every graded function of an assignment has at least one broken variant in
``autograder/broken/<assignment>/``: ``<grade_id>-<bug>.patch``, a first comment
line that explains the bug, then unified-diff hunks against the solution cell
``grade_id`` (its source without the solution markers), and one that hands the
work to the course's implementation, ``<grade_id>-delegates-<how>.py`` (a whole
cell: it replaces the answer by design). A change to a solution reaches its
variants; a variant whose lines the solution no longer has fails loudly
(:class:`VariantError`) and must be made again (:func:`make_patch`). The test
suite runs the reference solution with each variant swapped in, every test cell split into its visible tests and
its hidden block (:func:`variant_outcomes`), and checks that each variant loses
points, that a delegating variant loses all of its function's points, and that
every hidden block is failed by some variant that passes the visible tests of
its cell (a hidden test that only fails together with a visible one tests
nothing of its own).
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell

from course.errors import CourseError
from course.grading.build import THREAD_VARIABLES
from course.grading.layout import copy_data_files, source_notebook
from course.grading.notebooks import (BEGIN_SOLUTION, END_SOLUTION, nbgrader_meta, read_notebook, split_hidden,
                                     strip_markers)

#: Cell metadata key that marks the parts of a split test cell: ``{"grade_id": ..., "part": "visible" | "hidden"}``.
PART = "test_part"


@dataclass(frozen=True)
class Variant:
    """A broken replacement for one solution cell."""

    name: str
    grade_id: str
    source: str
    bug: str


class VariantError(CourseError, ValueError):
    """A broken variant that no longer applies to its solution cell, or a patch that cannot be read."""


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _solution_cell(nb: NotebookNode, grade_id: str) -> NotebookNode:
    """The solution cell ``grade_id`` of ``nb`` (KeyError if there is none)."""
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and meta.get("grade_id") == grade_id:
            return cell
    raise KeyError(f"No solution cell {grade_id!r}.")


def _delegates(name: str) -> bool:
    """Whether a variant named ``<grade_id>-<how>`` is a delegating one (``<grade_id>-delegates-...``)."""
    return name.split("-", 1)[-1].startswith("delegates")


def solution_base(solution: NotebookNode, grade_id: str) -> str:
    """The source of solution cell ``grade_id`` without its solution markers: what a variant's patch is against.

    Raises
    ------
    KeyError
        If the notebook has no solution cell with that id.
    """
    return strip_markers(_solution_cell(solution, grade_id).source, BEGIN_SOLUTION, END_SOLUTION, keep_inside=True)


def make_patch(base: str, broken: str, bug: str, context: int = 2) -> str:
    """The ``.patch`` text of a variant: ``# <bug>``, then the hunks that turn ``base`` into ``broken``."""
    hunks = list(difflib.unified_diff(base.splitlines(), broken.splitlines(), n=context, lineterm=""))[2:]
    if not hunks:
        raise VariantError("The broken source equals the solution: a variant must change something.")
    return "# " + bug.strip().removeprefix("#").strip() + "\n" + "\n".join(hunks) + "\n"


def apply_patch(base: str, patch: str, name: str = "variant") -> str:
    """The source a ``.patch`` variant gives: its header comment, then ``base`` with its hunks applied.

    A hunk applies where its context and removed lines occur in ``base`` exactly (the nearest such place to the line
    it names, so that an edit elsewhere in the cell does not break it); there is no fuzz.

    Raises
    ------
    VariantError
        A hunk whose lines ``base`` does not have (the solution changed under the variant), or a malformed patch.
    """
    lines = patch.rstrip("\n").split("\n")
    header = []
    while lines and not lines[0].startswith("@@"):
        header.append(lines.pop(0))
    if not header or not header[0].startswith("#"):
        raise VariantError(f"{name}: a patch starts with a comment line that explains the bug.")
    hunks: list[tuple[int, list[str], list[str]]] = []
    for line in lines:
        m = _HUNK.match(line)
        if m:
            hunks.append((int(m.group(1)), [], []))
        elif not hunks or line[:1] not in (" ", "-", "+") and line != "":
            raise VariantError(f"{name}: unreadable patch line {line!r}.")
        else:
            tag, text = (line[:1] or " "), line[1:]
            if tag in " -":
                hunks[-1][1].append(text)
            if tag in " +":
                hunks[-1][2].append(text)
    out = base.split("\n")
    shift = 0
    for k, (start, old, new) in enumerate(hunks, 1):
        expected = max(start - 1 + shift, 0)
        places = [i for i in range(len(out) - len(old) + 1) if out[i:i + len(old)] == old]
        if not places:
            near = out[expected:expected + len(old)]
            diff = next(((a, b) for a, b in zip(old, near) if a != b), (old[0] if old else "", ""))
            raise VariantError(f"{name}: hunk {k} expects line {diff[0]!r} near line {start}, the solution cell has "
                               f"{diff[1]!r}. The solution changed under this variant: make it again "
                               "(course.grading.variants.make_patch).")
        at = min(places, key=lambda i: abs(i - expected))
        out[at:at + len(old)] = new
        shift += len(new) - len(old)
    return "\n".join(header) + "\n" + "\n".join(out)


def variants(course_dir: Path, assignment: str) -> list[Variant]:
    """The broken variants kept for ``assignment`` (sorted by name): ``.patch`` files applied to the current
    solution cells, ``.py`` files (delegating variants) as they are.

    Raises
    ------
    VariantError
        A patch that no longer applies, or a whole-cell ``.py`` variant that does not delegate.
    """
    folder = Path(course_dir) / "broken" / assignment
    paths = sorted([*folder.glob("*.py"), *folder.glob("*.patch")], key=lambda p: p.stem)
    solution = read_notebook(source_notebook(Path(course_dir), assignment)) if any(
        p.suffix == ".patch" for p in paths) else None
    found = []
    for path in paths:
        grade_id = path.stem.split("-", 1)[0]
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".patch":
            try:
                base = solution_base(solution, grade_id)
            except KeyError as exc:
                raise VariantError(f"{assignment}/{path.name}: {exc.args[0]}") from None
            source = apply_patch(base, text, f"{assignment}/{path.name}").rstrip()
        else:
            if not _delegates(path.stem):
                raise VariantError(f"{assignment}/{path.name}: only delegating variants are whole cells; write the "
                                   "others as patches (course.grading.variants.make_patch).")
            source = text.rstrip()
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
    try:
        _solution_cell(nb, variant.grade_id).source = variant.source
    except KeyError:
        raise KeyError(f"No solution cell {variant.grade_id!r} for variant {variant.name}.") from None
    return nb


def is_delegating(variant: Variant) -> bool:
    """Whether ``variant`` hands its function's work to the course's implementation (it must lose all its points)."""
    return _delegates(variant.name)


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


def variant_outcomes(source: NotebookNode, broken: list[Variant], data_dir: Path, timeout: int,
                     workers: int = 2) -> dict[str, dict[str, BlockOutcome]]:
    """Run the source notebook and every broken variant of it, each test cell split by :func:`split_tests`, and
    report each test cell's parts.

    All runs share the execution of the cells they have in common: one process runs the source notebook cell by
    cell in an IPython shell (as a kernel would, every cell running whatever failed before) and, when it reaches
    the answer cell of a variant, forks; the child replaces that cell with the variant's code and runs to the end.
    A variant's run therefore starts from exactly the state a fresh run would have there, and the imports, models
    and features above it are computed once per assignment instead of once per variant. Torch runs on one thread
    per process (``workers`` processes at a time).

    Parameters
    ----------
    source : NotebookNode
        The source notebook (answers and hidden tests; trusted: no sandbox).
    broken : list of Variant
        The variants to run (each names an answer cell of ``source``).
    data_dir : Path
        The assignment's folder (its data files are copied next to the runs).
    timeout : int
        Seconds per cell.
    workers : int
        Runs at a time.

    Returns
    -------
    dict
        ``{"reference" | variant name: {test grade_id: BlockOutcome}}``.

    Raises
    ------
    KeyError
        If a variant names no answer cell of ``source``.
    RuntimeError
        If a run ends without a report (it crashed or ran out of time).
    """
    split = split_tests(source)
    answers = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(split.cells)
               if nbgrader_meta(c).get("solution")}
    forks: dict[int, list[list[str]]] = {}
    for v in broken:
        if v.grade_id not in answers:
            raise KeyError(f"No solution cell {v.grade_id!r} for variant {v.name}.")
        forks.setdefault(answers[v.grade_id], []).append([v.name, v.source])
    reports = _launch(split, forks, data_dir, timeout, workers)
    return {n: {gid: BlockOutcome(visible=p.get("visible") is None,
                                  hidden=None if "hidden" not in p else p["hidden"] is None,
                                  message=next((m for m in (p.get("visible"), p.get("hidden")) if m), ""))
                for gid, p in r["parts"].items()} for n, r in reports.items()}


def _launch(nb: NotebookNode, forks: dict[int, list[list[str]]], data_dir: Path, timeout: int,
            workers: int) -> dict[str, dict]:
    """Run ``nb`` in a fresh process (:func:`_run_job`) in a scratch copy of ``data_dir``, forking at ``forks``
    (``{cell index: [[name, code], ...]}``); each run's report by name ("reference" for ``nb`` itself)."""
    job = {"cells": [{"source": c.source, "part": c.get("metadata", {}).get(PART)} if c.cell_type == "code"
                     else None for c in nb.cells],
           "forks": {str(i): runs for i, runs in forks.items()}, "timeout": timeout, "workers": max(1, workers)}
    names = ["reference"] + [name for runs in forks.values() for name, _ in runs]
    with tempfile.TemporaryDirectory(prefix="speech-course-variants-") as tmp:
        copy_data_files(data_dir, Path(tmp))
        (Path(tmp) / ".job.json").write_text(json.dumps(job), encoding="utf-8")
        env = {**os.environ, **{k: "1" for k in THREAD_VARIABLES}, "MPLBACKEND": "Agg"}
        run = subprocess.run([sys.executable, "-m", "course.grading.variants", ".job.json", ".reports"], cwd=tmp,
                             env=env, capture_output=True, text=True, timeout=timeout * (len(nb.cells) + len(names)))
        reports = Path(tmp) / ".reports"
        missing = [n for n in names if not (reports / f"{n}.json").exists()]
        if missing:
            raise RuntimeError(f"no report from {missing} (exit status {run.returncode}): {run.stderr[-2000:]}")
        return {n: json.loads((reports / f"{n}.json").read_text(encoding="utf-8")) for n in names}


def _run_cell(shell: Any, source: str, timeout: int) -> str | None:  # noqa: ANN401 - an IPython shell
    """Run one cell in ``shell`` within ``timeout`` seconds; its failure as ``ExceptionType: message``, or None."""
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"the cell ran longer than {timeout} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(timeout)
    try:
        result = shell.run_cell(source, store_history=False)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    error = result.error_before_exec or result.error_in_exec
    return None if error is None else f"{type(error).__name__}: {error}"


def _run_job(job_file: str, reports: str) -> None:
    """The process :func:`variant_outcomes` starts: run the job's cells, fork at the variants' answer cells, and
    write each run's report to ``reports/<name>.json``: ``{"parts": {grade_id: {part: failure or None}},
    "errors": {cell index: failure}}``."""
    import matplotlib  # by design: the forked runs choose the backend before anything draws

    matplotlib.use("Agg")
    from IPython.core.interactiveshell import InteractiveShell  # by design: only the child process runs cells
    from traitlets.config import Config  # by design: as above

    job = json.loads(Path(job_file).read_text(encoding="utf-8"))
    out = Path(reports)
    out.mkdir()
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    parts: dict[str, dict[str, str | None]] = {}
    errors: dict[str, str] = {}
    children: set[int] = set()

    def run_from(start: int, first: str | None) -> None:
        for i, cell in enumerate(job["cells"][start:], start):
            if str(i) in job["forks"]:
                fork_at(i)
            if cell is None:
                continue
            failure = _run_cell(shell, first if i == start and first is not None else cell["source"],
                                job["timeout"])
            if cell["part"]:
                parts.setdefault(cell["part"]["grade_id"], {})[cell["part"]["part"]] = failure
            if failure is not None:
                errors[str(i)] = failure

    def fork_at(i: int) -> None:
        for name, code in job["forks"][str(i)]:
            while len(children) >= job["workers"]:
                children.discard(os.wait()[0])
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:  # the variant's run: this cell with its code, then to the end
                try:
                    children.clear()
                    job["forks"] = {}  # a variant's run forks no further
                    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                        run_from(i, code)
                    (out / f"{name}.json").write_text(json.dumps({"parts": parts, "errors": errors}), encoding="utf-8")
                finally:
                    os._exit(0)
            children.add(pid)

    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        run_from(0, None)
    while children:
        children.discard(os.wait()[0])
    (out / "reference.json").write_text(json.dumps({"parts": parts, "errors": errors}), encoding="utf-8")


if __name__ == "__main__":
    _run_job(*sys.argv[1:3])
