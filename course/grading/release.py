"""``speech-course release``: a learner repository for a graded class, without solutions or hidden tests.

The course repository carries its reference solutions (``solutions/``) and
hidden tests (``autograder/source``) on purpose: it is made for self-study. A
graded class needs a repository that learners can clone without them.
:func:`write_release` writes one from the current checkout (no network):

=========================  ====================================================================================
released                   what
=========================  ====================================================================================
``course/``                the package every notebook imports, with ``course/shipped/`` (models, data), as is
``exercises/``             the learner notebooks, as built by ``speech-course build``; a learner README
``autograder/``            the self-check course directory: ``source/NN_topic/NN_topic.ipynb`` are the exercise
                           notebooks with their stubs marked as solution regions, so nbgrader releases exactly
                           the learner's notebook and its gradebook holds the **visible** tests only;
                           ``nbgrader_config.py``; :data:`MARKER` says that this is a learner release
``binder/``                the mybinder.org configuration, as is
``docs/``                  the learner-facing pages only (:data:`LEARNER_DOCS`) and the files they show
``README.md``              written for learners: setup, JupyterLab, self-check, submission, Binder link
top-level files            ``pyproject.toml``, ``requirements.lock``, ``.gitignore``, ``references.bib`` (the
                           keys the notebooks' reference lists end with), a licence file if any
=========================  ====================================================================================

Everything else is left out, and :attr:`ReleaseResult.left_out` says why
(:data:`LEFT_OUT`): ``solutions/``, ``autograder/source`` (hidden tests and
solutions), ``autograder/broken`` (answers with one bug each), ``tests/``,
``slides/`` (speaker notes with possible answers), the maintainers' and
instructors' documentation, ``speech_course_tools/``, ``tools/``, ``.ci/``, and any
top-level entry this module does not know.

Known limit: ``course/`` implements every method the notebooks teach (the
notebooks fall back on those implementations when an exercise is unfinished,
and the later analyses use them), so a learner who reads the package finds an
implementation of each graded function. The release cannot remove them
without breaking the notebooks; ``docs/grading.md`` (running a graded class)
says what instructors should know.

``speech-course check`` works in the release unchanged: it finds
``autograder/`` next to the ``course`` package (:func:`course.grading.layout.default_course_dir`),
grades with the visible tests, and prints :data:`VISIBLE_ONLY_NOTE` because of
the marker file.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import stat
import subprocess
import textwrap
import tomllib
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from course.errors import CourseError
from course.grading.layout import ASSIGNMENT_RE
from course.grading.notebooks import (BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION, nbgrader_meta,
                                      notebook_text, read_notebook, strip_markers)
from course.grading.sandbox import Limits


class ReleaseError(CourseError, ValueError):
    """The release cannot be written as asked (a ValueError: ``speech-course`` prints it as a message)."""


#: File in the release's ``autograder/`` that marks a learner release (visible tests only).
MARKER = "learner-release.json"
#: What ``speech-course check`` prints in a learner release, before its report.
VISIBLE_ONLY_NOTE = ("Note: this is a learner release of the course: the check runs the visible tests only. Your "
                     "instructor also runs hidden tests (other inputs, edge cases), so your grade can be lower than "
                     "the score below.")
#: Pages of ``docs/`` written for learners (the others are for instructors and maintainers).
LEARNER_DOCS = ("corpus.md", "models.md")
#: Whole directories released as they are in the checkout.
TREES = ("course", "exercises", "binder")
#: Top-level files released as they are.
FILES = ("pyproject.toml", "requirements.lock", ".gitignore", "references.bib")
#: Licence files, by name (case-insensitive, any extension).
LICENCE_RE = re.compile(r"^(licen[cs]e|copying|notice)(\.[a-z]+)?$", re.IGNORECASE)
#: Why the rest of the checkout stays out of the release.
LEFT_OUT = {
    "solutions": "reference solutions (model answers)",
    "autograder/source": "the assignment sources hold the solutions and the hidden tests; the release has its own "
                         "autograder/source with the visible tests only",
    "autograder/broken": "deliberately broken answers, each a solution with one bug (a patch, or a whole cell)",
    "autograder/claims": "the checks of the notebooks' findings, run when the solutions are built: they restate "
                         "the findings the learner is asked to find",
    "tests": "the test suite (it reads the solutions and the hidden tests)",
    "slides": "the decks' speaker notes are the instructor's: they hold possible answers to the discussion "
              "questions and point at the edge cases the hidden tests check",
    "docs/methods.md": "it documents the reference implementations, the rules the graded functions must follow",
    "speech_course_tools": "the repository's tooling: training the shipped models, building the slides, the "
                           "benchmarks with their reference implementations, the lock",
    "tools": "maintainers' scripts (retraining the models, trying the newest dependencies)",
    ".ci": "the repository's CI script",
    "book": "the course book's assets (vendored MathJax): the book is built from the solutions",
    "README.md": "replaced by a README for learners",
    "exercises/README.md": "replaced by a README for learners",
    "autograder/README.md": "replaced by a README for the learner release",
}
#: Checkout entries that are not part of any repository (environments, caches, build output): not reported.
_LOCAL = re.compile(r"^(\.git|\.venv|venv|\.pytest_cache|\.mypy_cache|\.ruff_cache|__pycache__|build|dist|"
                    r"test-artifacts|.*\.egg-info|\.ipynb_checkpoints|\.DS_Store)$")
#: Never copied out of a released tree.
_SKIP = re.compile(r"^(__pycache__|\.ipynb_checkpoints|\.DS_Store|.*\.py[co])$")
#: GitHub account names: letters, digits, single inner hyphens, at most 39 characters.
_OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
#: GitHub repository names.
_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
#: Git refs as Binder takes them: a branch, a tag or a commit.
_REF_RE = re.compile(r"^[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*$")
#: nbgrader's stubs (its defaults, which the course keeps).
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")
TEXT_STUB = "YOUR ANSWER HERE"


@dataclass(frozen=True)
class ReleaseResult:
    """What :func:`write_release` wrote.

    Attributes
    ----------
    out : Path
        The release (absolute).
    files : tuple of str
        Every file written, as a path relative to ``out`` (POSIX separators), sorted.
    assignments : tuple of str
        The assignment ids released.
    left_out : dict of str to str
        Paths of the checkout that are not in the release, and why.
    binder_url : str or None
        The Binder launch link of the README, if a repository was given.
    """

    out: Path
    files: tuple[str, ...]
    assignments: tuple[str, ...]
    left_out: dict[str, str]
    binder_url: str | None


def parse_binder_repo(spec: str) -> tuple[str, str]:
    """``(owner, name)`` of a GitHub repository given as ``OWNER/NAME`` (a trailing ``.git`` is dropped).

    Raises
    ------
    ReleaseError
        If ``spec`` is not of that form.
    """
    parts = spec.strip().removesuffix(".git").split("/")
    if (len(parts) != 2 or not _OWNER_RE.match(parts[0]) or not _NAME_RE.match(parts[1])
            or parts[1] in (".", "..")):
        raise ReleaseError(f"--binder-repo {spec!r}: expected OWNER/NAME of a GitHub repository, e.g. "
                           f"alice/speech-course-2027 (letters, digits, '-' in OWNER; also '.' and '_' in NAME).")
    return parts[0], parts[1]


def binder_url(repo: str, ref: str = "HEAD", notebook: str = "exercises/00_orientation.ipynb") -> str:
    """The mybinder.org link that builds ``repo`` (``OWNER/NAME`` on GitHub) at ``ref`` and opens ``notebook``.

    The form is the main README's: ``https://mybinder.org/v2/gh/OWNER/NAME/REF?urlpath=lab/tree/NOTEBOOK``.

    Raises
    ------
    ReleaseError
        If ``repo`` or ``ref`` is malformed.
    """
    owner, name = parse_binder_repo(repo)
    if not _REF_RE.match(ref) or ".." in ref or ref.endswith(".lock") or ref.startswith("-"):
        raise ReleaseError(f"--binder-ref {ref!r}: expected a branch, tag or commit, e.g. main or HEAD.")
    quoted = urllib.parse.quote(ref, safe="")
    return f"https://mybinder.org/v2/gh/{owner}/{name}/{quoted}?urlpath=lab/tree/{notebook}"


def is_learner_release(course_dir: Path) -> bool:
    """Whether ``course_dir`` is the self-check course directory of a learner release (visible tests only)."""
    return (Path(course_dir) / MARKER).is_file()


def learner_release_note(course_dir: Path) -> str | None:
    """:data:`VISIBLE_ONLY_NOTE` if ``course_dir`` is a learner release's, else None."""
    return VISIBLE_ONLY_NOTE if is_learner_release(course_dir) else None


def check_checkout(repo: Path) -> Path:
    """Return ``repo`` resolved, or raise ReleaseError if it is not a checkout of the course repository."""
    repo = Path(repo).expanduser().resolve()
    needed = ("course/__init__.py", "exercises", "autograder/source", "pyproject.toml")
    missing = [p for p in needed if not (repo / p).exists()]
    if missing:
        raise ReleaseError(f"{repo} is not a checkout of the course repository (no {', '.join(missing)}). Run "
                           f"`speech-course release` from an editable install of a clone (pip install -e .), or "
                           f"pass --repo.")
    return repo


def stub_regions(cell: NotebookNode) -> NotebookNode:
    """A released answer cell with nbgrader's stub wrapped in solution markers.

    nbgrader replaces a marked region by the stub, indented like the
    ``### BEGIN SOLUTION`` line, so ``nbgrader generate_assignment`` turns the
    result back into exactly the released cell; without markers it would
    replace the whole cell (the function's ``def`` line and docstring too).

    Raises
    ------
    ReleaseError
        If the cell holds no stub.
    """
    lines = cell.source.split("\n")
    out, found, i = [], 0, 0
    while i < len(lines):
        line = lines[i]
        indent = line[:len(line) - len(line.lstrip())]
        if (cell.cell_type == "code" and line.strip() == CODE_STUB[0] and i + 1 < len(lines)
                and lines[i + 1] == indent + CODE_STUB[1]):
            out += [indent + BEGIN_SOLUTION, line, lines[i + 1], indent + END_SOLUTION]
            found, i = found + 1, i + 2
            continue
        if cell.cell_type == "markdown" and line.strip() == TEXT_STUB:
            out += [indent + BEGIN_SOLUTION, line, indent + END_SOLUTION]
            found, i = found + 1, i + 1
            continue
        out.append(line)
        i += 1
    if not found:
        raise ReleaseError(f"answer cell {nbgrader_meta(cell).get('grade_id')!r} holds no nbgrader stub "
                           f"({CODE_STUB[0]!r} or {TEXT_STUB!r}): rebuild exercises/ with `speech-course build`.")
    new = copy.deepcopy(cell)
    new.source = "\n".join(out)
    return new


def unmark(source: str) -> str:
    """``source`` without its solution marker lines (what :func:`stub_regions` added), all else kept as is."""
    return "\n".join(line for line in source.split("\n") if line.strip() not in (BEGIN_SOLUTION, END_SOLUTION))


def self_check_source(exercise: NotebookNode) -> NotebookNode:
    """The source notebook of the release's self-check course: the exercise with its stubs marked.

    It holds nothing the learner's notebook does not: removing the marker lines
    gives the exercise back, cell for cell.
    """
    nb = copy.deepcopy(exercise)
    nb.cells = [stub_regions(c) if nbgrader_meta(c).get("solution") else c for c in nb.cells]
    return nb


def _grade_ids(nb: NotebookNode) -> list[str]:
    return [g for g in (nbgrader_meta(c).get("grade_id") for c in nb.cells) if g]


def _check_exercise(repo: Path, assignment: str) -> NotebookNode:
    """The released notebook of an assignment, checked against its source: same graded cells, no outputs, and no
    line that the source does not show outside its solutions and hidden tests (so not an answer filled in locally,
    not a hidden test)."""
    path = repo / "exercises" / f"{assignment}.ipynb"
    if not path.is_file():
        raise ReleaseError(f"exercises/{assignment}.ipynb is missing: run `speech-course build`.")
    exercise = read_notebook(path)
    source = read_notebook(repo / "autograder" / "source" / assignment / f"{assignment}.ipynb")
    rebuild = "rebuild exercises/ with `speech-course build` (or restore it from git)"
    if _grade_ids(exercise) != _grade_ids(source) or len(exercise.cells) != len(source.cells):
        raise ReleaseError(f"exercises/{assignment}.ipynb does not have the cells of its source: {rebuild}.")
    stubs = {*CODE_STUB, TEXT_STUB}
    for i, (cell, src) in enumerate(zip(exercise.cells, source.cells)):
        if cell.get("outputs") or cell.get("execution_count"):
            raise ReleaseError(f"exercises/{assignment}.ipynb has outputs (cell {i}): was it run? {rebuild}.")
        visible = strip_markers(strip_markers(src.source, BEGIN_HIDDEN, END_HIDDEN, keep_inside=False),
                                BEGIN_SOLUTION, END_SOLUTION, keep_inside=False)
        allowed = {line.strip() for line in visible.splitlines()} | stubs
        extra = [line for line in cell.source.splitlines() if line.strip() not in allowed]
        if extra or BEGIN_HIDDEN in cell.source or BEGIN_SOLUTION in cell.source:
            raise ReleaseError(f"exercises/{assignment}.ipynb, cell {i}, has lines that its source shows only in "
                               f"a solution or a hidden test, or not at all: was it edited? {rebuild}.")
    return exercise


def _check_out(repo: Path, out: Path, force: bool) -> Path:
    """``out`` resolved, checked to be a safe target; with ``force`` its contents (except ``.git``) are removed."""
    out = Path(out).expanduser().resolve()
    if out == repo or repo.is_relative_to(out):
        raise ReleaseError(f"--out {out} contains the course repository; choose a folder outside it.")
    if Path.home().resolve().is_relative_to(out) or out == Path(out.anchor):
        raise ReleaseError(f"--out {out} is your home folder, a folder above it or the file system's root; choose "
                           f"a new folder.")
    for tree in (*TREES, "autograder", "docs"):
        if out.is_relative_to(repo / tree):
            raise ReleaseError(f"--out {out} is inside the repository's {tree}/, which the release reads; choose "
                               f"a folder outside it.")
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"--out {out} exists and is not a folder.")
    if out.is_dir():
        present = [p for p in out.iterdir() if p.name != ".git"]
        if present and not force:
            raise ReleaseError(f"--out {out} is not empty ({len(present)} entries, e.g. {present[0].name}); choose "
                               f"a new folder, or pass --force to replace everything in it except .git/.")
        for p in present:  # only entries of out; symbolic links are removed, never followed
            if p.is_symlink() or not p.is_dir():
                p.unlink()
            else:
                shutil.rmtree(p)
    return out


def _copy_file(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    mode = src.stat().st_mode
    os.chmod(dst, 0o755 if mode & stat.S_IXUSR else 0o644)


def _tree_files(root: Path) -> list[Path]:
    """Regular files under ``root``, sorted, without caches; a symbolic link is an error (it could point anywhere)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not _SKIP.match(d))
        for name in sorted(dirnames + filenames):
            if (Path(dirpath) / name).is_symlink():
                raise ReleaseError(f"{Path(dirpath) / name} is a symbolic link; the release copies plain files only.")
        found += [Path(dirpath) / f for f in sorted(filenames) if not _SKIP.match(f)]
    return found


def _linked_files(page: Path) -> list[Path]:
    """Files in ``docs/`` that a Markdown page links or shows (images, data), other pages excluded."""
    targets = re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8"))
    files = []
    for t in targets:
        if "://" in t or t.startswith("mailto:") or t.endswith(".md"):
            continue
        path = (page.parent / t).resolve()
        if path.is_file() and path.is_relative_to(page.parent.resolve()):
            files.append(path)
    return files


def _source_commit(repo: Path) -> str | None:
    """The checkout's commit (read-only ``git rev-parse``), or None outside git."""
    try:
        run = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = run.stdout.strip()
    return commit if run.returncode == 0 and re.fullmatch(r"[0-9a-f]{40}", commit) else None


def _section(markdown: str, heading: str) -> str:
    """The body of ``## heading`` in ``markdown`` ("" if there is none)."""
    m = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", markdown, flags=re.M | re.S)
    return m.group(1).strip() if m else ""


def _intro(markdown: str) -> str:
    """What comes between the title and the first ``##`` heading."""
    m = re.search(r"^# [^\n]*\n(.*?)(?=^## |\Z)", markdown, flags=re.M | re.S)
    return m.group(1).strip() if m else ""


def _table(text: str) -> str:
    """The first Markdown table in ``text``."""
    m = re.search(r"^\|.*?(?=\n(?!\|)|\Z)", text, flags=re.M | re.S)
    return m.group(0).strip() if m else ""


#: Width of the generated Markdown prose (the repository's style).
WIDTH = 118


def _wrap(parts: list[str]) -> list[str]:
    """Fill each one-line paragraph and bullet to :data:`WIDTH`; code blocks, tables, links and text taken
    from the main README (already several lines) are kept as they are."""
    out, in_code = [], False
    for part in parts:
        if part.startswith("```"):
            in_code = not in_code
        if in_code or part.startswith(("```", "|", "#", "[![")) or "\n" in part or len(part) <= WIDTH:
            out.append(part)
            continue
        indent = "  " if part.startswith("* ") else ""
        out.append(textwrap.fill(part, WIDTH, subsequent_indent=indent, break_long_words=False,
                                 break_on_hyphens=False))
    return out


def learner_readme(main_readme: str, assignments: list[str], binder: str | None) -> str:
    """The release's ``README.md``, for learners.

    The course description, the notebook table and the licence come from the
    main README (``main_readme``); the rest is written here.
    """
    first = f"exercises/{assignments[0]}.ipynb" if assignments else "exercises/NN_topic.ipynb"
    title = re.search(r"^# (.+)$", main_readme, flags=re.M)
    limits = Limits()
    parts = [f"# {title.group(1).strip() if title else 'Interpretability Techniques for Speech Models'}", ""]
    if _intro(main_readme):
        parts += [_intro(main_readme), ""]
    parts += [
        "This is the **class edition** of the course: the notebooks you work in, the `course` package they import "
        "(with the small models it ships), and the tools to set up and check your work. The reference solutions "
        "and the hidden tests your instructor grades with are not part of it.",
        "",
        "## Set up",
        "",
        "On a machine with Python 3.11 or newer (Linux or macOS), from the root of this repository, create `.venv` "
        "and install exactly the tested version of every dependency (a few minutes, mostly the PyTorch download):",
        "",
        "```bash",
        "python3 -m venv .venv && .venv/bin/pip install -r requirements.lock -e .",
        "```",
        "",
        "then build the course's speech corpus (about 180 MB, synthesised on your machine) and check that "
        "everything the course loads works:",
        "",
        "```bash",
        ".venv/bin/speech-course setup",
        "```",
        "",
        "If something stops working later (a notebook cannot compute MFCCs, a model does not load), run "
        "`.venv/bin/speech-course doctor`: it names what fails and the command that fixes it. On a laptop without "
        "an NVIDIA GPU, the same versions as smaller CPU-only builds are in `binder/requirements.txt`: install "
        "with `.venv/bin/pip install -r binder/requirements.txt` instead of the lock.",
        "",
        "## Start the course",
        "",
        "```bash",
        ".venv/bin/jupyter lab exercises/",
        "```",
        "",
        f"Start with `{first}`. Every notebook runs offline on the shipped models.",
        "",
    ]
    table = _table(_section(main_readme, "The notebooks"))
    if table:
        parts += [table, ""]
    parts += ["## Run in the browser (Binder)", ""]
    if binder:
        parts += [
            f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder})",
            "",
            f"The badge starts the course on [mybinder.org](https://mybinder.org) with nothing to install "
            f"([launch link]({binder})). The first launch after a change to the repository builds the image "
            "(often more than ten minutes). A session has 2 GB of memory for everything: shut down a notebook's "
            "kernel (*Kernel ▸ Shut Down Kernel*) before you start the next. Nothing is kept: download your "
            "notebooks (*File ▸ Download*) before you leave.",
        ]
    else:
        parts += [
            "No Binder link has been set up for this copy of the course. To add one, put this line here, with the "
            "GitHub account and repository that host this copy in place of `OWNER/NAME` (or have the release "
            "written with `speech-course release --binder-repo OWNER/NAME`):",
            "",
            "```",
            f"[![Binder](https://mybinder.org/badge_logo.svg)](https://mybinder.org/v2/gh/OWNER/NAME/HEAD?urlpath="
            f"lab/tree/{first})",
            "```",
        ]
    parts += [
        "",
        "## Check your work",
        "",
        "In JupyterLab, the **Validate** button of the notebook toolbar runs the notebook's visible tests. In a "
        "terminal, from the root of this repository:",
        "",
        "```bash",
        f".venv/bin/speech-course check {first}",
        "```",
        "",
        "grades the notebook the way your instructor's grader does (a fresh kernel, top to bottom, with the "
        "grading limits) and prints each test's outcome and message, then `score: X/Y`. It runs the **visible "
        "tests only**: the hidden tests, which call your functions with other inputs and edge cases, are not in "
        "this repository; your instructor runs them when grading, so your grade can be lower than the score "
        "`check` reports. Passing the visible tests by special-casing their inputs earns nothing. Written answers "
        "(reflection questions) are graded by your instructor; `check` says how many points they are worth. "
        "Where the course is installed rather than linked (`pip install -r binder/requirements.txt`, Binder), "
        f"tell `check` where the tests are: `speech-course check --course-dir autograder {first}`.",
        "",
        "## Submit",
        "",
        "* Submit each notebook under its own name, `<assignment_id>.ipynb`: the assignment id is the notebook's "
        f"name in `exercises/` (`{Path(first).name}`). A notebook under another name (`probing_final.ipynb`, "
        "`02_probing (1).ipynb`) is not graded until it is renamed and resubmitted.",
        "* Write your code in the cells that say `# YOUR CODE HERE` (remove the `raise NotImplementedError()`) and "
        "your written answers in the cells that say `YOUR ANSWER HERE`. Do not delete, split or duplicate the "
        "graded cells: the test cells are restored from the instructor's copy when grading.",
        "* Before you submit, run *Kernel ▸ Restart Kernel and Run All Cells*: the grader runs the notebook top "
        f"to bottom in a fresh kernel, without network access, with limits (by default {limits.cell_timeout} s "
        f"per cell and {limits.memory_bytes / 1024**3:g} GB of memory).",
        "* Hand it in the way your instructor tells you (a course platform, an upload form, Gradescope): one "
        "file per assignment.",
        "",
        "## What is in this repository",
        "",
        "| path | what |",
        "| --- | --- |",
        "| `exercises/` | your notebooks, one per topic |",
        "| `course/` | the Python package every notebook imports (`import course`), with the small models it ships "
        "in `course/shipped/` |",
        "| `autograder/` | the self-check's course directory: the visible tests of every notebook (no solutions, "
        "no hidden tests) |",
        "| `binder/` | configuration to run the course on mybinder.org |",
        "| `docs/` | reference pages: the corpus (`corpus.md`) and the models (`models.md`) |",
        "",
        "`speech-course --help` lists the course's commands.",
        "",
    ]
    licence = _section(main_readme, "Licence and credits")
    if licence:
        parts += ["## Licence and credits", "", licence, ""]
    return "\n".join(_wrap(parts))


def _exercises_readme() -> str:
    return ("# Exercises\n\nYour notebooks, one per topic. Work in them, check them with `speech-course check "
            "exercises/NN_topic.ipynb` (visible tests), and submit each under its own name "
            "(`NN_topic.ipynb`). See the repository's README.\n")


def _autograder_readme() -> str:
    return ("# Autograder (learner release)\n\nThe nbgrader course directory that `speech-course check` and the "
            "*Validate* button grade with. `source/NN_topic/NN_topic.ipynb` is the released notebook with its stubs "
            "marked as answers: it holds the **visible tests only**; there are no solutions and no hidden tests in "
            f"this repository. `{MARKER}` marks it as a learner release.\n")


def write_release(repo: Path, out: Path, *, binder_repo: str | None = None, binder_ref: str = "HEAD",
                  force: bool = False) -> ReleaseResult:
    """Write a learner repository for a graded class, without solutions and hidden tests, to ``out``.

    Parameters
    ----------
    repo : Path
        A checkout of the course repository (the release is made from its files only; no network).
    out : Path
        Where to write. It must be new or empty (a lone ``.git`` is fine), or ``force`` must be given.
    binder_repo : str, optional
        ``OWNER/NAME`` of the GitHub repository that will host the release: the README gets a Binder badge
        for it. Without it, the README says how to add one.
    binder_ref : str
        Branch, tag or commit the Binder link builds (default ``HEAD``, the default branch).
    force : bool
        Write into a non-empty ``out``: everything in it except ``.git`` is deleted first (nothing outside it).

    Returns
    -------
    ReleaseResult

    Raises
    ------
    ReleaseError
        If ``repo`` is not a checkout, ``out`` is not empty (without ``force``) or not a safe target, the Binder
        repository or ref is malformed, or ``exercises/`` is out of date with ``autograder/source``.
    """
    repo = check_checkout(repo)
    assignments = sorted(d.name for d in (repo / "autograder" / "source").iterdir()
                         if d.is_dir() and ASSIGNMENT_RE.match(d.name) and (d / f"{d.name}.ipynb").is_file())
    if not assignments:
        raise ReleaseError(f"{repo / 'autograder' / 'source'} has no assignments.")
    link = (binder_url(binder_repo, binder_ref, f"exercises/{assignments[0]}.ipynb") if binder_repo is not None
            else None)
    exercises = {a: _check_exercise(repo, a) for a in assignments}  # every check before anything is written
    out = _check_out(repo, out, force)
    out.mkdir(parents=True, exist_ok=True)

    written: list[str] = []

    def put_file(src: Path, rel: str) -> None:
        _copy_file(src, out / rel)
        written.append(rel)

    def put_text(rel: str, text: str) -> None:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
        written.append(rel)

    left_out = dict(LEFT_OUT)
    for tree in TREES:
        for f in _tree_files(repo / tree):
            rel = f.relative_to(repo).as_posix()
            if (tree == "exercises" and f.suffix == ".ipynb"
                    and (f.parent != repo / "exercises" or f.stem not in exercises)):
                left_out[rel] = "not the notebook of an assignment"
            elif rel != "exercises/README.md":
                put_file(f, rel)
    for name in FILES:
        if (repo / name).is_file():
            put_file(repo / name, name)
    for p in sorted(repo.iterdir()):
        if p.is_file() and LICENCE_RE.match(p.name):
            put_file(p, p.name)
    for page in LEARNER_DOCS:
        if (repo / "docs" / page).is_file():
            put_file(repo / "docs" / page, f"docs/{page}")
            for f in _linked_files(repo / "docs" / page):
                rel = f.relative_to(repo).as_posix()
                if rel not in written:
                    put_file(f, rel)
    if (repo / "docs").is_dir():
        for f in _tree_files(repo / "docs"):
            rel = f.relative_to(repo).as_posix()
            if rel not in written:
                left_out.setdefault(rel, "documentation for instructors and maintainers" if f.suffix == ".md"
                                            else "not shown by a page for learners")

    # the self-check course directory: visible tests only
    for name in ("nbgrader_config.py", ".gitignore"):
        if (repo / "autograder" / name).is_file():
            put_file(repo / "autograder" / name, f"autograder/{name}")
    for a, exercise in exercises.items():
        put_text(f"autograder/source/{a}/{a}.ipynb", notebook_text(self_check_source(exercise)))
        released_text = "\n".join(c.source for c in exercise.cells)
        for f in sorted((repo / "autograder" / "source" / a).iterdir()):
            if f.name == f"{a}.ipynb" or not f.is_file() or f.is_symlink():
                continue
            if f.name in released_text:  # a data file the learner's notebook uses
                put_file(f, f"autograder/source/{a}/{f.name}")
            else:
                left_out[f"autograder/source/{a}/{f.name}"] = "not used by the released notebook (hidden tests only)"
    put_text("autograder/README.md", _autograder_readme())
    pyproject = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    put_text(f"autograder/{MARKER}", json.dumps({
        "kind": "learner-release",
        "hidden_tests": False,
        "solutions": False,
        "assignments": assignments,
        "course_version": pyproject.get("project", {}).get("version"),
        "source_commit": _source_commit(repo),
    }, indent=1) + "\n")

    main_readme = (repo / "README.md").read_text(encoding="utf-8") if (repo / "README.md").is_file() else ""
    put_text("README.md", learner_readme(main_readme, assignments, link))
    put_text("exercises/README.md", _exercises_readme())

    released_top = {Path(r).parts[0] for r in written}
    for p in sorted(repo.iterdir()):
        if p.name not in released_top and p.name not in left_out and not _LOCAL.match(p.name):
            left_out[p.name] = "not known to be learner material"
    _verify(out, exercises)
    return ReleaseResult(out=out, files=tuple(sorted(written)), assignments=tuple(assignments),
                         left_out=dict(sorted(left_out.items())), binder_url=link)


def _verify(out: Path, exercises: dict[str, NotebookNode]) -> None:
    """Last guard: nothing that must stay out is in ``out``, and each self-check source is its exercise, marked."""
    for path in ("solutions", "tests", "autograder/broken", "autograder/claims", "slides", ".ci"):
        if (out / path).exists():
            raise ReleaseError(f"internal error: {out / path} must not be in a release.")
    for a, exercise in exercises.items():
        nb = read_notebook(out / "autograder" / "source" / a / f"{a}.ipynb")
        if [unmark(c.source) for c in nb.cells] != [c.source for c in exercise.cells]:
            raise ReleaseError(f"internal error: the self-check source of {a} is not its exercise.")
