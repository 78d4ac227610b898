"""Where the course's grading files live, and how assignments are named.

The nbgrader course directory (``autograder/`` in the repository) holds one
source notebook per assignment: ``source/NN_topic/NN_topic.ipynb``. The
generated learner notebooks are ``exercises/NN_topic.ipynb`` and the
reference solutions ``solutions/NN_topic.ipynb``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Iterator

import course

#: Assignment ids: two digits, an underscore, a lower-case topic.
ASSIGNMENT_RE = re.compile(r"^\d\d_[a-z0-9_]+$")
#: Student ids accepted by the grader (they become folder names and gradebook keys).
STUDENT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
#: Environment variable that points the tools at another nbgrader course directory.
COURSE_DIR_ENV = "SPEECH_COURSE_AUTOGRADER"


def repo_root() -> Path:
    """The directory that contains the ``course`` package (the repository in a development install)."""

    return Path(course.__file__).resolve().parent.parent


def default_course_dir() -> Path:
    """``$SPEECH_COURSE_AUTOGRADER``, else ``autograder/`` next to the ``course`` package."""
    env = os.environ.get(COURSE_DIR_ENV)
    return Path(env).expanduser() if env else repo_root() / "autograder"


def check_course_dir(course_dir: Path) -> Path:
    """Return ``course_dir`` resolved, or raise FileNotFoundError with a hint."""
    course_dir = Path(course_dir).resolve()
    if not (course_dir / "source").is_dir():
        raise FileNotFoundError(
            f"No nbgrader course directory at {course_dir} (it needs a source/ folder). Run from a clone of the "
            f"course repository, pass --course-dir, or set {COURSE_DIR_ENV}."
        )
    return course_dir


def assignment_ids(course_dir: Path) -> list[str]:
    """Assignments of the course: ``source/NN_topic/NN_topic.ipynb`` exists."""
    source = Path(course_dir) / "source"
    return sorted(d.name for d in source.iterdir()
                  if d.is_dir() and ASSIGNMENT_RE.match(d.name) and (d / f"{d.name}.ipynb").is_file())


def source_notebook(course_dir: Path, assignment: str) -> Path:
    """The source notebook (solutions and hidden tests) of an assignment."""
    path = Path(course_dir) / "source" / assignment / f"{assignment}.ipynb"
    if not path.is_file():
        known = ", ".join(assignment_ids(course_dir)) or "none"
        raise FileNotFoundError(f"No assignment {assignment!r} in {course_dir} (known: {known}).")
    return path


def copy_data_files(source_dir: Path, dest: Path) -> None:
    """Copy an assignment's data files (every plain file of ``source_dir`` but notebooks and links) into ``dest``,
    where a notebook of the assignment runs."""
    for f in Path(source_dir).iterdir():
        if f.is_file() and f.suffix != ".ipynb" and not f.is_symlink():
            shutil.copy(f, Path(dest) / f.name)


@contextlib.contextmanager
def tools_on_path() -> Iterator[None]:
    """Put this interpreter's ``bin`` first on PATH while nbgrader runs.

    nbgrader runs ``alembic`` from PATH when it creates a gradebook; from a
    virtual environment that was not activated it would not be found.
    """
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{old}"
    try:
        yield
    finally:
        os.environ["PATH"] = old
