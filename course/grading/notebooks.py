"""Reading nbgrader notebooks: graded cells, hidden tests, redaction, deterministic files.

nbgrader marks cells in ``cell.metadata["nbgrader"]`` (``grade``, ``solution``,
``locked``, ``grade_id``, ``points``) and delimits code inside cells with
comment lines::

    ### BEGIN SOLUTION / ### END SOLUTION          replaced by a stub in the release
    ### BEGIN HIDDEN TESTS / ### END HIDDEN TESTS  removed from the release
"""

from __future__ import annotations

import ast
import copy
import hashlib
import re
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import nbformat
from nbformat import NotebookNode

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"

#: Hidden lines shorter than this are too generic to redact (``assert ok``, ``)``).
MIN_REDACT_CHARS = 10
#: What replaces a hidden test line wherever it shows up in feedback.
REDACTED = "[hidden test]"
#: Widget views reference widget state by random ids; generated notebooks keep this text instead.
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_PLACEHOLDER = "[interactive widget: run the cell to use it]"
#: Notebook-level metadata kept in generated notebooks (everything else varies between machines).
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


@dataclass(frozen=True)
class GradedCell:
    """A cell that earns points.

    Attributes
    ----------
    grade_id : str
        nbgrader's cell name (unique within the notebook).
    points : float
    kind : {"test", "answer"}
        ``test``: a code cell whose tests pass or fail; ``answer``: a cell
        graded by hand or by nbgrader's solution checksum.
    hidden : tuple of str
        Lines between the hidden-test markers.
    visible : str
        Source without the hidden tests.
    """

    grade_id: str
    points: float
    kind: str
    hidden: tuple[str, ...]
    visible: str


def read_notebook(path: str | PathLike) -> NotebookNode:
    """Read a notebook (converted to format 4); raises on invalid files."""
    return nbformat.read(str(path), as_version=4)


def write_notebook(nb: NotebookNode, path: str | PathLike) -> None:
    """Write a notebook with a trailing newline (stable, diff-friendly)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def nbgrader_meta(cell: NotebookNode) -> dict:
    """The cell's nbgrader metadata ({} if none)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def split_hidden(source: str) -> tuple[str, list[str]]:
    """Split a cell's source into its visible part and its hidden test lines."""
    visible, hidden, inside = [], [], False
    for line in source.splitlines():
        if line.strip() == BEGIN_HIDDEN:
            inside = True
        elif line.strip() == END_HIDDEN:
            inside = False
        elif inside:
            hidden.append(line)
        else:
            visible.append(line)
    return "\n".join(visible).rstrip(), hidden


def graded_cells(nb: NotebookNode) -> list[GradedCell]:
    """The notebook's graded cells, in order."""
    cells = []
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if not meta.get("grade"):
            continue
        visible, hidden = split_hidden(cell.source)
        kind = "test" if cell.cell_type == "code" and not meta.get("solution") else "answer"
        cells.append(GradedCell(meta["grade_id"], float(meta.get("points", 0)), kind, tuple(hidden), visible))
    return cells


def points(cells: list[GradedCell] | tuple[GradedCell, ...], kind: str) -> float:
    """Total points of the ``kind`` cells: ``"test"`` (autograded) or ``"answer"`` (graded by the instructor)."""
    return float(sum(c.points for c in cells if c.kind == kind))


def hidden_lines(nb: NotebookNode) -> list[str]:
    """Distinctive hidden-test lines of a source notebook, longest first (for redaction)."""
    lines = {line.strip() for cell in graded_cells(nb) for line in cell.hidden}
    return sorted((s for s in lines if len(s) >= MIN_REDACT_CHARS and not s.startswith("#")),
                  key=lambda s: (-len(s), s))


def redact(text: str, hidden: list[str]) -> str:
    """Replace every occurrence of a hidden line in ``text`` by :data:`REDACTED`."""
    for line in hidden:
        if line in text:
            text = text.replace(line, REDACTED)
    return text


def skeleton(text: str) -> str:
    """Letters and digits only: what survives quoting, escaping and re-wrapping of code."""
    return re.sub(r"[^0-9A-Za-z]", "", text)


def leaks(text: str, hidden: list[str]) -> list[str]:
    """Hidden lines found in ``text``, verbatim or escaped (compared as :func:`skeleton`)."""
    flat = skeleton(text)
    return [line for line in hidden if line in text or (len(skeleton(line)) >= MIN_REDACT_CHARS
                                                          and skeleton(line) in flat)]


def withhold_lines(text: str, hidden: list[str]) -> str:
    """:func:`redact`, then replace every line that still :func:`leaks` a hidden line (for logs)."""
    lines = redact(text, hidden).splitlines()
    return "\n".join("[line withheld: it contained hidden test code]" if leaks(line, hidden) else line
                     for line in lines)


def strip_markers(source: str, begin: str, end: str, keep_inside: bool) -> str:
    """Remove a pair of marker lines, keeping or dropping what lies between them."""
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() == begin:
            inside = True
        elif line.strip() == end:
            inside = False
        elif keep_inside or not inside:
            out.append(line)
    return "\n".join(out)


def drop_duplicate_ids(nb: NotebookNode) -> int:
    """Keep only the last cell of each nbgrader ``grade_id``; earlier copies become plain cells.

    nbgrader's own de-duplication leaves an empty ``nbgrader`` dictionary on
    the earlier copies, which its next step then rejects as an outdated
    schema, so a student who duplicated a cell would not be graded at all.
    Keeping the last copy is what nbgrader intends. Returns the number of
    cells changed.
    """
    seen, changed = set(), 0
    for cell in reversed(nb.cells):
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id is None:
            continue
        if grade_id in seen:
            del cell.metadata["nbgrader"]
            changed += 1
        seen.add(grade_id)
    return changed


def solution_notebook(source: NotebookNode, release: NotebookNode) -> NotebookNode:
    """The reference solution as a learner would submit it.

    It is the release notebook (same cells, nbgrader metadata and
    checksums) with every solution cell's stub replaced by the source's
    solution code, markers removed. Test cells stay as released: without
    their hidden tests.
    """
    if len(source.cells) != len(release.cells):
        raise ValueError("The release does not have the source's cells; regenerate it with nbgrader.")
    nb = copy.deepcopy(release)
    for cell, src in zip(nb.cells, source.cells):
        if nbgrader_meta(cell).get("solution"):
            cell.source = strip_markers(src.source, BEGIN_SOLUTION, END_SOLUTION, keep_inside=True)
    return nb


def _cell_id(index: int, cell: NotebookNode) -> str:
    name = nbgrader_meta(cell).get("grade_id") or f"cell-{index:03d}"
    digest = hashlib.sha1(f"{index}:{name}".encode()).hexdigest()[:8]
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"{name}-{digest}")[:64]


def normalize(nb: NotebookNode, keep_outputs: bool) -> NotebookNode:
    """A deterministic copy of ``nb`` for the repository.

    Keeps only the kernelspec and the language name as notebook metadata,
    gives cells stable ids, drops execution timing and widget state, replaces
    widget views (their ids are random) by a short note, merges consecutive
    stream outputs (their split depends on timing), and removes outputs
    unless ``keep_outputs``.
    """
    nb = copy.deepcopy(nb)
    nb.metadata = NotebookNode({"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}})
    nb.nbformat, nb.nbformat_minor = 4, 5
    for i, cell in enumerate(nb.cells):
        cell.id = _cell_id(i, cell)
        meta = {k: v for k, v in cell.metadata.items() if k in ("nbgrader", "tags", "deletable", "editable")}
        cell.metadata = NotebookNode(meta)
        if cell.cell_type != "code":
            cell.pop("outputs", None)
            cell.pop("execution_count", None)
            continue
        if not keep_outputs:
            cell.outputs, cell.execution_count = [], None
            continue
        merged: list = []
        for out in cell.outputs:
            if "data" in out:
                if out.data.pop(WIDGET_MIME, None) is not None:
                    out.data = NotebookNode({"text/plain": WIDGET_PLACEHOLDER})
                out.metadata = NotebookNode({})
            # a print can arrive in one or several stream messages, depending on timing: merge them
            if (out.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                    and merged[-1].get("name") == out.get("name")):
                merged[-1].text = "".join(merged[-1].text) + "".join(out.text)
                continue
            merged.append(out)
        cell.outputs = merged
    return nb


def notebook_text(nb: NotebookNode) -> str:
    """The canonical text of a notebook (what is written to disk)."""
    return nbformat.writes(nb) + "\n"


#: Names of the course's modules and helpers as the notebooks import them: a value computed from one of these in a
#: test cell is an expected value.
REFERENCE_NAMES = re.compile(r"^(reference|\w+_ref|lenses|metrics|cm|attribution|reference_\w+|course_\w+)$")
#: Names that say they hold an expected value.
EXPECTED_NAMES = re.compile(r"want|expect|exact|^_?ref\d*$|truth|correct")


def expected_value_messages(source: str) -> list[str]:
    """Assertion messages of the hidden tests in a test cell's ``source`` that print an expected value.

    A hidden test's message should say what is wrong, not hand over the answer: an f-string message may show the
    learner's own result, but not a value computed with the course's implementation (``reference.…``,
    ``frames_ref.…``, a ``reference_…`` or ``course_…`` helper) or held in a name such as ``want``, ``expected``
    or ``exact``.

    Returns
    -------
    list of str
        The offending messages' source text.
    """

    tree = ast.parse(source)
    expected = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            used = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)} if node.value else set()
            if any(REFERENCE_NAMES.match(u) for u in used) or any(EXPECTED_NAMES.search(n) for n in names):
                expected |= names
        elif isinstance(node, ast.FunctionDef) and EXPECTED_NAMES.search(node.name):
            expected.add(node.name)
    _, hidden = split_hidden(source)
    hidden_text = "\n".join(hidden)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Assert) and node.msg is not None):
            continue
        segment = ast.get_source_segment(source, node) or ""
        if segment.splitlines()[0].strip() not in hidden_text:
            continue  # a visible test: the learner sees its code anyway
        shown = {n.id for part in ast.walk(node.msg) if isinstance(part, ast.FormattedValue)
                 for n in ast.walk(part.value) if isinstance(n, ast.Name)}
        if shown & expected or any(REFERENCE_NAMES.match(n) for n in shown):
            found.append(ast.get_source_segment(source, node.msg) or "")
    return found
