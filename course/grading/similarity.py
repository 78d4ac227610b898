"""Copies flagged for the instructor: information for review, never a grade.

``speech-course similarity`` (and ``speech-course grade``, after grading) reads a class of submissions and reports
three kinds of findings in ``OUT/similarity.csv`` and ``OUT/similarity.md``:

``copy``
    a function of an answer cell whose normalised code matches the course's own implementation of it
    (:data:`course.grading.references.REFERENCES`) or the model answer of ``autograder/source``;
``pair``
    two students whose answer cells of one assignment share most of their code, once the code the release notebook
    gives (the stubs, the tests, the surrounding cells) is set aside, as MOSS sets aside "base code";
``grader``
    a cell that uses the grading machinery or something that could evade the no-delegation guard
    (``sys.settrace``, ``exec``, ``course.grading``, ...);

plus ``note`` rows for what could not be read (a corrupt notebook, a cell that does not parse).

How code is compared
--------------------
Each piece of code is parsed with :mod:`ast`; docstrings, comments, type annotations and the text of string
literals are dropped, and every identifier the code binds itself (arguments, variables, its own functions) becomes
the same placeholder ``v``, while names it takes from elsewhere (``np``, ``math.floor``, ``len``, attributes, keyword
arguments) are kept. The canonical source (:func:`ast.unparse`) is split into tokens (words, punctuation marks, line
ends and indentation changes), the tokens into k-grams of :data:`K` tokens, hashed, and of every :data:`WINDOW`
consecutive hashes the smallest is kept (winnowing: Schleimer, Wilkerson and Aiken, SIGMOD 2003). Any run of
``K + WINDOW - 1`` identical tokens is then sure to share a fingerprint, and runs shorter than ``K`` never count.
Fingerprints of the code the release notebook gives are removed from both sides. The score of two pieces of code is
the share of the smaller one's fingerprints found in the other (the overlap coefficient: a copy padded with code of
its own, or a copy of part of a longer function, still scores high); it is only computed when both have at least
:data:`MIN_FINGERPRINTS` fingerprints (shorter code is too generic to judge).

Calibration (this course's code): the deliberately broken answers of ``autograder/broken`` (the model answer with
one bug) score 0.8 or more against the model answer in about two cases of three; answers written independently of
the course (see ``tests/test_similarity_report.py``) score at most 0.46, and model answers against the course
implementation of a *different* function at most 0.45, apart from functions that are variants of each other
(``comprehensiveness``/``sufficiency``, ``center_gram``/``unbiased_center_gram``). Hence :data:`THRESHOLD` 0.8.

Nothing here runs student code.
"""

from __future__ import annotations

import ast
import contextlib
import csv
import functools
import hashlib
import inspect
import io
import itertools
import re
import tempfile
import textwrap
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from course.grading.layout import assignment_ids, check_course_dir, default_course_dir, source_notebook
from course.grading.references import reference_functions
from course.grading.submissions import collect, extract_zip
from course.grading.notebooks import (BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION, nbgrader_meta,
                                      read_notebook, strip_markers)

#: Tokens per k-gram: shared runs shorter than this never count (about one short statement).
K = 8
#: Winnowing window: any shared run of ``K + WINDOW - 1`` = 11 tokens or more yields a shared fingerprint.
WINDOW = 4
#: Fingerprints of its own (beyond the given code) the smaller side needs for a score: about four lines of code.
#: Shorter code (``time_to_frame`` written the plain way, in two lines) is too generic to tell copying from the one
#: natural answer.
MIN_FINGERPRINTS = 12
#: Scores from this value on are reported.
THRESHOLD = 0.8
#: A fingerprint found in more students' answers than this is a common idiom, not evidence of a pair (as MOSS's -m).
COMMON_LIMIT = 10
#: Columns of ``similarity.csv``.
CSV_FIELDS = ("kind", "assignment", "student", "other", "function", "score", "detail")
_KIND_ORDER = {"copy": 0, "pair": 1, "grader": 2, "note": 3}
_WORD = re.compile(r"\w+|[^\w\s]")

#: What flags a cell as touching the grader: (label, pattern), searched in the code without its comments.
GRADER_PATTERNS: tuple[tuple[str, str], ...] = (
    ("course.grading", r"\bcourse\s*\.\s*grading(?:\s*\.\s*\w+)*|\bfrom\s+course\s+import\s+[^\n]*\bgrading\b"),
    ("sys.settrace", r"\bsettrace\b"),
    ("sys.setprofile", r"\bsetprofile\b"),
    ("sys.modules", r"\bsys\s*\.\s*modules\b"),
    ("sys._getframe", r"\b_getframe\b"),
    ("__code__", r"__code__"),
    ("__globals__", r"__globals__"),
    ("inspect.getsource", r"\bgetsource(?:lines|file)?\b"),
    ("exec", r"(?<![.\w])exec\s*\("),
    ("eval", r"(?<![.\w])eval\s*\("),
    ("compile", r"(?<![.\w])compile\s*\("),
    ("__import__", r"\b__import__\b"),
    ("importlib", r"\bimportlib\b"),
    ("subprocess", r"\bsubprocess\b"),
    ("multiprocessing", r"\bmultiprocessing\b"),
    ("os.system", r"\bos\s*\.\s*(?:system|popen|fork|exec\w*|spawn\w*)\b"),
    ("ctypes", r"\bctypes\b"),
    ("gc.get_referents", r"\bget_referents\b|\bget_referrers\b"),
)

_ANY_GRADER = re.compile("|".join(f"(?:{pattern})" for _, pattern in GRADER_PATTERNS))


@dataclass(frozen=True)
class Finding:
    """One row of ``similarity.csv``.

    Attributes
    ----------
    kind : {"copy", "pair", "grader", "note"}
    assignment, student : str
    other : str
        ``copy``: the dotted path of the course function, or ``model answer``; ``pair``: the other student.
    function : str
        ``copy``: the learner's function; ``pair``: the answer cells that share code; ``grader``: the cell.
    score : float or None
        Share of the smaller side's fingerprints found in the other side (``copy``, ``pair``).
    detail : str
    """

    kind: str
    assignment: str
    student: str
    other: str = ""
    function: str = ""
    score: float | None = None
    detail: str = ""

    def sort_key(self) -> tuple:
        return (_KIND_ORDER.get(self.kind, 9), self.assignment, self.student, self.other, self.function,
                -(self.score or 0.0), self.detail)

    def as_csv(self) -> dict[str, str]:
        return {"kind": self.kind, "assignment": self.assignment, "student": self.student, "other": self.other,
                "function": self.function, "score": "" if self.score is None else f"{self.score:.2f}",
                "detail": self.detail}


# ---------------------------------------------------------------------------------------------------------------
# normalised tokens and fingerprints


def _python(source: str) -> str:
    """A cell's code with IPython's ``%magic`` and ``!shell`` lines blanked."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def parse_cell(source: str) -> ast.Module:
    """Parse a notebook cell (IPython's magic lines blanked); SyntaxError if it does not parse."""
    return ast.parse(_python(source))


def functions(source: str) -> dict[str, str]:
    """The source of every function a cell defines at its top level, by name; SyntaxError if it does not parse."""
    text = _python(source)
    lines = text.splitlines()
    found = {}
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno] + [d.lineno for d in node.decorator_list])
            found[node.name] = "\n".join(lines[start - 1:node.end_lineno])
    return found


class _Canonical(ast.NodeTransformer):
    """Drops docstrings, annotations and string contents; renames the names in ``bound`` to ``v``."""

    def __init__(self, bound: set[str]) -> None:
        self.bound = bound

    def generic_visit(self, node: ast.AST) -> ast.AST:
        node = super().generic_visit(node)
        if isinstance(getattr(node, "body", None), list) and not node.body and not isinstance(node, ast.Module):
            node.body = [ast.Pass()]  # a function that held only its docstring
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None  # a docstring, or a string used as a comment
        return self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.Constant("S") if isinstance(node.value, (str, bytes)) else node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return ast.Constant("S")

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.Name("v", node.ctx) if node.id in self.bound else node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return ast.arg("v")  # annotations dropped

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        node.returns = None
        node.name = "v" if node.name in self.bound else node.name
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.name = "v" if node.name in self.bound else node.name
        return self.generic_visit(node)

    def visit_Global(self, node: ast.Global | ast.Nonlocal) -> ast.AST:
        node.names = ["v" if n in self.bound else n for n in node.names]
        return node

    visit_Nonlocal = visit_Global

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        node.name = "v" if node.name else None
        return self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | None:
        if node.value is None:
            return None
        return self.visit(ast.copy_location(ast.Assign([node.target], node.value), node))


def bound_names(tree: ast.AST) -> set[str]:
    """The identifiers ``tree`` binds itself: arguments, assigned names, its functions and classes (not imports)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
    return names


def normalised_tokens(source: str) -> list[str]:
    """The tokens of a piece of code after normalisation (see the module docstring); SyntaxError if it does not parse.

    Examples
    --------
    >>> normalised_tokens("def f(x):\\n    '''Doc.'''\\n    return np.mean(x)  # average")
    ['def', 'v', '(', 'v', ')', ':', '<newline>', '<indent>', 'return', 'np', '.', 'mean', '(', 'v', ')', \
'<newline>', '<dedent>']
    """
    tree = parse_cell(source)
    text = ast.unparse(_Canonical(bound_names(tree)).visit(tree))
    # ast.unparse writes one statement per line, indented by 4 spaces, with no comments or multi-line strings left:
    # words, punctuation and indentation changes are all there is to split
    tokens, depth = [], 0
    for line in text.splitlines():
        level = (len(line) - len(line.lstrip())) // 4
        tokens += ["<indent>"] * (level - depth) + ["<dedent>"] * (depth - level)
        tokens += _WORD.findall(line) + ["<newline>"]
        depth = level
    return tokens + ["<dedent>"] * depth


def _hash(gram: tuple[str, ...]) -> int:
    return int.from_bytes(hashlib.blake2b("\x1f".join(gram).encode(), digest_size=8).digest(), "big")


def fingerprints(tokens: list[str], k: int | None = None, window: int | None = None) -> set[int]:
    """Winnowed fingerprints of a token sequence: the smallest k-gram hash of every ``window`` consecutive ones.

    ``k`` and ``window`` default to :data:`K` and :data:`WINDOW`. A sequence shorter than ``k`` tokens has none.
    """
    k, window = k or K, window or WINDOW
    hashes = [_hash(tuple(tokens[i:i + k])) for i in range(len(tokens) - k + 1)]
    if len(hashes) <= window:
        return {min(hashes)} if hashes else set()
    return {min(hashes[i:i + window]) for i in range(len(hashes) - window + 1)}


@functools.lru_cache(maxsize=4096)
def code_fingerprints(source: str) -> frozenset[int]:
    """:func:`fingerprints` of the :func:`normalised_tokens` of ``source`` (cached: a class repeats its stubs)."""
    return frozenset(fingerprints(normalised_tokens(source)))


def overlap(a: set[int], b: set[int], min_size: int | None = None) -> float | None:
    """Share of the smaller set found in the other; None if either has fewer than ``min_size`` fingerprints
    (default :data:`MIN_FINGERPRINTS`)."""
    if min(len(a), len(b)) < (min_size or MIN_FINGERPRINTS):
        return None
    return len(a & b) / min(len(a), len(b))


# ---------------------------------------------------------------------------------------------------------------
# what the grader may not be touched with


def _without_comments(source: str) -> str:
    """``source`` with its comments blanked out (as far as it tokenizes)."""
    lines = source.splitlines(keepends=True)
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                (row, start), (_, end) = tok.start, tok.end
                lines[row - 1] = lines[row - 1][:start] + " " * (end - start) + lines[row - 1][end:]
    except (tokenize.TokenError, SyntaxError):
        pass
    return "".join(lines)


def grader_hits(source: str) -> list[str]:
    """The labels of :data:`GRADER_PATTERNS` a cell uses (comments ignored; strings count: ``getattr(sys, "set"...)``).

    A dotted ``course.grading.*`` module is reported by its name, e.g. ``course.grading.guard``.
    """
    if not _ANY_GRADER.search(source):
        return []  # the common case, without tokenizing
    code, hits = _without_comments(source), set()
    for label, pattern in GRADER_PATTERNS:
        for match in re.finditer(pattern, code):
            text = re.sub(r"\s+", "", match.group(0))
            hits.add(text if label == "course.grading" and text.startswith("course.") else label)
    return sorted(hits)


# ---------------------------------------------------------------------------------------------------------------
# the course's side: given code, model answers, course implementations


def _release_stub(source: str) -> str:
    """An answer cell as the release shows it: the solution replaced by ``raise NotImplementedError()``."""
    out, inside = [], False
    for line in source.splitlines():
        if line.strip() == BEGIN_SOLUTION:
            inside = True
            out.append(line[:len(line) - len(line.lstrip())] + "raise NotImplementedError()")
        elif line.strip() == END_SOLUTION:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


@dataclass
class CourseSide:
    """What the submissions of one assignment are compared with.

    Attributes
    ----------
    base : set of int
        Fingerprints of the code the release notebook gives (every code cell; answer cells as stubs).
    given_hits : set of str
        :func:`grader_hits` of the release's plain cells (e.g. ``course.grading.fallback``): not reported in plain
        cells of a submission.
    model : dict
        ``{grade_id: {function name: fingerprints}}`` of the model answers (autograder/source), given code left out.
    course : dict
        ``{graded function name: {dotted path: fingerprints}}`` of the course's implementations, given code left
        out.
    notes : list of str
    """

    base: set[int] = field(default_factory=set)
    given_hits: set[str] = field(default_factory=set)
    model: dict[str, dict[str, frozenset[int]]] = field(default_factory=dict)
    course: dict[str, dict[str, frozenset[int]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def course_side(course_dir: Path, assignment: str) -> CourseSide:
    """Read the source notebook, the release (``exercises/<assignment>.ipynb`` beside the course directory, if there
    is one) and the course implementations of ``assignment``; what cannot be read becomes a note."""

    side = CourseSide()
    given: list[tuple[str, bool]] = []  # (code, is a plain cell: no nbgrader metadata, the learner may edit it)
    models: dict[str, str] = {}
    for cell in read_notebook(source_notebook(course_dir, assignment)).cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code":
            continue
        if meta.get("solution"):
            given.append((_release_stub(cell.source), False))
            models[meta["grade_id"]] = strip_markers(cell.source, BEGIN_SOLUTION, END_SOLUTION, keep_inside=True)
        else:
            given.append((strip_markers(cell.source, BEGIN_HIDDEN, END_HIDDEN, keep_inside=False), not meta))
    release = Path(course_dir).parent / "exercises" / f"{assignment}.ipynb"
    if release.is_file():
        given += [(c.source, not nbgrader_meta(c)) for c in read_notebook(release).cells if c.cell_type == "code"]
    for code, plain in given:
        with contextlib.suppress(SyntaxError, ValueError, RecursionError):
            side.base |= code_fingerprints(code)
        if plain:
            side.given_hits.update(grader_hits(code))
    for grade_id, code in models.items():
        try:
            side.model[grade_id] = {n: code_fingerprints(f) - side.base for n, f in functions(code).items()}
        except SyntaxError as exc:
            side.notes.append(f"the model answer {grade_id} does not parse ({exc}): not compared")
    try:
        implementations = reference_functions(assignment)
    except (KeyError, LookupError, ImportError) as exc:
        side.notes.append(f"course implementations not compared: {exc}")
        implementations = {}
    for name, funcs in implementations.items():
        for fn in funcs:
            path = f"{fn.__module__}.{fn.__qualname__}"
            try:
                fps = code_fingerprints(textwrap.dedent(inspect.getsource(fn)))
            except (OSError, TypeError, SyntaxError) as exc:
                side.notes.append(f"{path} not compared: no source ({exc})")
                continue
            side.course.setdefault(name, {})[path] = fps - side.base
    return side


# ---------------------------------------------------------------------------------------------------------------
# the students' side


@dataclass
class StudentAnswers:
    """The answer cells of one submission.

    Attributes
    ----------
    functions : dict
        ``{grade_id: {function name: source}}`` of the answer cells that parse.
    fingerprints : dict
        ``{fingerprint: {grade_id, ...}}``: the answer cells' fingerprints that are not given code.
    hits : dict
        ``{cell: [grader hit, ...]}`` for answer cells and cells without nbgrader metadata.
    notes : list of str
    """

    functions: dict[str, dict[str, str]] = field(default_factory=dict)
    fingerprints: dict[int, set[str]] = field(default_factory=dict)
    hits: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def student_answers(path: Path, side: CourseSide) -> StudentAnswers:
    """Read one submitted notebook (raises on an unreadable file)."""
    answers = StudentAnswers()
    fps: dict[int, set[str]] = defaultdict(set)
    for index, cell in enumerate(read_notebook(path).cells):
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or (meta and not meta.get("solution")):
            continue  # markdown, and locked or test cells (nbgrader restores those from the gradebook)
        name = str(meta.get("grade_id") or f"cell {index + 1}")  # numbered from 1, as in grades.csv's details
        hits = grader_hits(cell.source)
        if not meta:  # a cell outside the answers, as given or edited: only what the release itself does not use
            hits = [h for h in hits if h not in side.given_hits]
        if hits:
            answers.hits[name] = hits
        if not meta:
            continue
        try:
            answers.functions[name] = functions(cell.source)
            cell_fingerprints = code_fingerprints(cell.source)
        except (SyntaxError, ValueError, RecursionError) as exc:  # ValueError: null bytes; RecursionError: nesting
            answers.notes.append(f"answer cell {name} does not parse ({type(exc).__name__}: {exc}): not compared")
            continue
        for fp in cell_fingerprints - side.base:
            fps[fp].add(name)
    answers.fingerprints = dict(fps)
    return answers


# ---------------------------------------------------------------------------------------------------------------
# findings


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f}%)"


def _best(mine: frozenset[int], candidates: dict[str, frozenset[int]]) -> tuple[float, str] | None:
    """The highest :func:`overlap` of ``mine`` with one of ``candidates`` and its name (None if none is scored)."""
    scored = [(score, name) for name, theirs in candidates.items()
              if (score := overlap(mine, theirs)) is not None]
    return min(scored, key=lambda t: (-t[0], t[1]), default=None)


def copy_findings(assignment: str, student: str, answers: StudentAnswers, side: CourseSide,
                  threshold: float = THRESHOLD) -> list[Finding]:
    """Functions of the answer cells that match a course implementation or the model answer.

    Each function a cell defines is compared with the course implementations registered for its own name and for
    the cell's exercise (so a copied helper counts too), and with the model answer's functions of the same cell or
    name; the best course implementation and the best model function are reported if they reach ``threshold``.
    """
    found = []
    for grade_id, defined in sorted(answers.functions.items()):
        for name, source in sorted(defined.items()):
            mine = code_fingerprints(source) - side.base
            course = {**side.course.get(grade_id, {}), **side.course.get(name, {})}
            model = {f"the model answer's {n} (autograder/source)": fps for cell, defs in side.model.items()
                     for n, fps in defs.items() if cell == grade_id or n == name}
            for other, candidates in (("", course), ("model answer", model)):
                best = _best(mine, candidates)
                if best is None or best[0] < threshold:
                    continue
                score, match = best
                shared = len(mine & candidates[match])
                found.append(Finding("copy", assignment, student, other or match, name, score,
                                     f"matches {match}: shares {_share(shared, len(mine))} of this function's "
                                     f"fingerprints and {_share(shared, len(candidates[match]))} of the other's"))
    return found


def pair_findings(assignment: str, answers: dict[str, StudentAnswers], threshold: float = THRESHOLD,
                  common_limit: int = COMMON_LIMIT) -> list[Finding]:
    """Pairs of students whose answer cells of ``assignment`` share at least ``threshold`` of their fingerprints.

    An inverted index (fingerprint -> students) counts the shared fingerprints of every pair that shares any; a
    fingerprint held by more than ``common_limit`` students is a common idiom and ignored.
    """
    index: dict[int, list[str]] = defaultdict(list)
    for student in sorted(answers):
        for fp in answers[student].fingerprints:
            index[fp].append(student)
    common = {fp for fp, holders in index.items() if len(holders) > common_limit}
    size = {s: len(a.fingerprints.keys() - common) for s, a in answers.items()}
    shared: dict[tuple[str, str], int] = defaultdict(int)
    for fp, holders in index.items():
        if fp not in common:
            for pair in itertools.combinations(holders, 2):
                shared[pair] += 1
    found = []
    for (a, b), n in sorted(shared.items()):
        smaller = min(size[a], size[b])
        if smaller < MIN_FINGERPRINTS or n / smaller < threshold:
            continue
        both = (answers[a].fingerprints.keys() & answers[b].fingerprints.keys()) - common
        cells: dict[str, int] = defaultdict(int)
        for fp in both:
            for cell in answers[a].fingerprints[fp] | answers[b].fingerprints[fp]:
                cells[cell] += 1
        names = sorted(cells, key=lambda c: (-cells[c], c))
        found.append(Finding("pair", assignment, a, b, " ".join(names), n / smaller,
                             f"{n} shared fingerprints: {_share(n, size[a])} of {a}'s, {_share(n, size[b])} of {b}'s; "
                             "shared per cell: " + ", ".join(f"{c} {cells[c]}" for c in names)))
    return found


def grader_findings(assignment: str, student: str, answers: StudentAnswers) -> list[Finding]:
    """Cells that use the grading machinery or a way around the no-delegation guard."""
    return [Finding("grader", assignment, student, "", cell, None, "touches the grader: uses " + ", ".join(hits))
            for cell, hits in sorted(answers.hits.items())]


def find_similarities(root: Path, course_dir: Path, threshold: float = THRESHOLD,
                      say: Callable[[str], None] = print) -> list[Finding]:
    """Every finding for the class in the folder ``root`` (``<student_id>/<assignment_id>/<notebook>.ipynb``), sorted.

    Unreadable notebooks and cells become ``note`` findings; nothing raises for what a submission contains.
    """

    course_dir = check_course_dir(course_dir)
    subs, warnings = collect(Path(root), assignment_ids(course_dir))
    for warning in warnings:
        say(f"speech-course: warning: {warning}")
    found: list[Finding] = []
    by_assignment: dict[str, dict[str, StudentAnswers]] = defaultdict(dict)
    sides: dict[str, CourseSide] = {}
    for sub in subs:
        if sub.path is None:
            if sub.status != "missing":
                found.append(Finding("note", sub.assignment, sub.student,
                                     detail=f"skipped ({sub.status}): {sub.detail}"))
            continue
        if sub.assignment not in sides:
            try:
                sides[sub.assignment] = course_side(course_dir, sub.assignment)
            except Exception as exc:  # noqa: BLE001 - the students can still be compared with each other
                sides[sub.assignment] = CourseSide(notes=[f"the course's side could not be read "
                                                          f"({type(exc).__name__}: {exc}): no copy check"])
            found += [Finding("note", sub.assignment, "", detail=n) for n in sides[sub.assignment].notes]
        side = sides[sub.assignment]
        try:
            answers = student_answers(sub.path, side)
        except Exception as exc:  # noqa: BLE001 - a submission that cannot be read is noted, never fatal
            found.append(Finding("note", sub.assignment, sub.student,
                                 detail=f"skipped: cannot read the notebook ({type(exc).__name__}: {exc})"))
            continue
        by_assignment[sub.assignment][sub.student] = answers
        found += [Finding("note", sub.assignment, sub.student, detail=n) for n in answers.notes]
        found += copy_findings(sub.assignment, sub.student, answers, side, threshold)
        found += grader_findings(sub.assignment, sub.student, answers)
    for assignment, answers in sorted(by_assignment.items()):
        found += pair_findings(assignment, answers, threshold)
    return sorted(found, key=Finding.sort_key)


def write_csv(path: Path, findings: Iterable[Finding]) -> None:
    """Write ``similarity.csv``."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(x.as_csv() for x in findings)


def summary(findings: list[Finding], threshold: float) -> str:
    """The human-readable summary (Markdown) of ``similarity.md``."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    titles = {"copy": "Copies of the course's code", "pair": "Near-identical pairs of students",
              "grader": "Answers that touch the grader", "note": "Not compared"}
    lines = ["# Similarity report", "",
             "Information for review, not a verdict: a high score says that two pieces of code are the same once "
             "names, comments, docstrings and layout are set aside; read both before drawing a conclusion. Scores "
             f"are the share of the smaller side's code found in the other (reported from {threshold:.2f}); code "
             "given by the release notebook is not counted.", ""]
    for kind, title in titles.items():
        rows = [f for f in findings if f.kind == kind]
        lines += [f"## {title} ({len(rows)})", ""]
        if not rows:
            lines += ["None.", ""]
            continue
        lines += ["| assignment | student | other | function / cells | score | detail |", "|---|---|---|---|---|---|"]
        lines += [f"| {r.assignment} | {cell(r.student)} | {cell(r.other)} | {cell(r.function)} | "
                  f"{'' if r.score is None else f'{r.score:.2f}'} | {cell(r.detail)} |" for r in rows]
        lines.append("")
    return "\n".join(lines)


def similarity_report(submissions: Path, out: Path, course_dir: Path | None = None, *,
                      threshold: float = THRESHOLD, say: Callable[[str], None] = print) -> Path:
    """Compare a class's submissions and write ``out/similarity.csv`` and ``out/similarity.md``.

    Parameters
    ----------
    submissions : Path
        Folder or zip of ``<student_id>/<assignment_id>/<notebook>.ipynb``, as for ``speech-course grade``.
    out : Path
        Output folder (created).
    course_dir : Path, optional
        nbgrader course directory (default: the repository's ``autograder/``).
    threshold : float
        Scores from this value on are reported (default :data:`THRESHOLD`).
    say : callable
        Where the one-line summary goes.

    Returns
    -------
    Path
        ``out/similarity.csv``: ``kind, assignment, student, other, function, score, detail``, sorted by kind
        (copy, pair, grader, note), assignment, student.
    """

    if not 0 <= threshold <= 1:
        raise ValueError(f"The threshold is a share between 0 and 1, got {threshold}.")
    submissions = Path(submissions)
    if not submissions.exists():
        raise FileNotFoundError(f"No such folder or zip: {submissions}")
    with tempfile.TemporaryDirectory(prefix="speech-course-similarity-") as tmp:
        root = extract_zip(submissions, Path(tmp)) if submissions.is_file() else submissions
        findings = find_similarities(root, Path(course_dir or default_course_dir()), threshold, say)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "similarity.csv"
    write_csv(path, findings)
    (out / "similarity.md").write_text(summary(findings, threshold) + "\n", encoding="utf-8")
    counts = {k: sum(f.kind == k for f in findings) for k in _KIND_ORDER}
    say(f"Similarity: {counts['copy']} copy, {counts['pair']} pair, {counts['grader']} grader, {counts['note']} note "
        f"finding(s): {path} (information for review, not a verdict)")
    return path
