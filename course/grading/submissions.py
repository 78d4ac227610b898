"""Finding and checking submissions: ``<student_id>/<assignment_id>/<notebook>.ipynb`` (or a zip of it).

Nothing here runs student code. Every (student, assignment) pair gets a
:class:`Submission`: either a notebook to grade, or a status explaining why
there is none (``missing``, ``wrong_filename``, ``invalid_notebook``,
``invalid_student_id``).
"""

from __future__ import annotations

import json
import shutil
import stat
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import nbformat

from course.errors import CourseError
from course.grading.layout import ASSIGNMENT_RE, STUDENT_RE

#: Largest notebook accepted (larger files are ``invalid_notebook``).
MAX_NOTEBOOK_BYTES = 50 * 1024**2
#: Largest total size and number of files unpacked from a zip.
MAX_ZIP_BYTES = 4 * 1024**3
MAX_ZIP_FILES = 100_000
_IGNORED = ("__MACOSX", ".ipynb_checkpoints")


class SubmissionError(CourseError, ValueError):
    """The submissions folder or zip cannot be used at all."""


@dataclass(frozen=True)
class Submission:
    """One student's submission of one assignment.

    ``path`` is the notebook to grade; if it is None, ``status`` and
    ``detail`` say why not.
    """

    student: str
    assignment: str
    path: Path | None
    status: str = ""
    detail: str = ""


def extract_zip(archive: Path, dest: Path) -> Path:
    """Unpack ``archive`` into ``dest`` safely (no paths outside ``dest``, no links, bounded size).

    Raises
    ------
    SubmissionError
        If the file is not a zip, or is too large.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{archive} is not a readable zip file ({exc}).") from None
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    with zf:
        members = zf.infolist()
        if len(members) > MAX_ZIP_FILES or sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise SubmissionError(f"{archive} is too large to unpack (limits: {MAX_ZIP_FILES} files, "
                                  f"{MAX_ZIP_BYTES // 1024**3} GB).")
        for m in members:
            name = PurePosixPath(m.filename.replace("\\", "/"))
            is_link = stat.S_ISLNK(m.external_attr >> 16)
            target = (root / name).resolve()
            if is_link or name.is_absolute() or ".." in name.parts or not target.is_relative_to(root):
                continue
            if m.is_dir():  # keep empty folders: an empty assignment folder is a 'missing' submission
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(m) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return dest


def _visible_dirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir()
                  if p.is_dir() and not p.is_symlink() and not p.name.startswith(".") and p.name not in _IGNORED)


def submissions_root(path: Path, known: list[str]) -> Path:
    """The folder whose subfolders are the students (unwraps one enclosing folder, as zips often have)."""
    dirs = _visible_dirs(path)
    if len(dirs) == 1 and not any(d.name in known for d in _visible_dirs(dirs[0])):
        inner = _visible_dirs(dirs[0])
        if any(a.name in known for d in inner for a in _visible_dirs(d)):
            return dirs[0]
    return path


def check_notebook(path: Path) -> str:
    """Why ``path`` cannot be graded ('' if it can)."""
    if path.is_symlink() or not path.is_file():
        return f"{path.name} is a link or not a regular file"
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        return f"{path.name} is {size / 1024**2:.0f} MB (limit {MAX_NOTEBOOK_BYTES // 1024**2} MB)"
    try:
        text = path.read_bytes().decode("utf-8")
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
            return f"{path.name} is JSON but not a notebook (no list of cells)"
        with warnings.catch_warnings():  # nbformat warns (and repairs) duplicate cell ids: fine here
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
            nbformat.validate(nb)
    except UnicodeDecodeError:
        return f"{path.name} is not UTF-8 text"
    except json.JSONDecodeError as exc:
        return f"{path.name} is not valid JSON ({exc.msg} at line {exc.lineno})"
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds of errors on bad input
        return f"{path.name} is not a valid notebook ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})"
    return ""


def find_submission(student_dir: Path, student: str, assignment: str) -> Submission:
    """Classify one student's folder for one assignment."""
    folder = student_dir / assignment
    expected = f"{assignment}.ipynb"
    if not folder.is_dir() or folder.is_symlink():
        return Submission(student, assignment, None, "missing", f"no folder {assignment}/")
    path = folder / expected
    if path.exists() or path.is_symlink():
        problem = check_notebook(path)
        if problem:
            return Submission(student, assignment, None, "invalid_notebook", problem)
        return Submission(student, assignment, path)
    others = sorted(p.name for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if others:
        return Submission(student, assignment, None, "wrong_filename",
                          f"found {', '.join(others)}, expected {expected}")
    return Submission(student, assignment, None, "missing", f"no {expected} in {assignment}/")


def collect(root: Path, known: list[str], assignments: list[str] | None = None,
            students: list[str] | None = None) -> tuple[list[Submission], list[str]]:
    """All (student, assignment) submissions under ``root``, and warnings.

    Parameters
    ----------
    root : Path
        Folder of student folders.
    known : list of str
        The course's assignments.
    assignments : list of str, optional
        Assignments to grade (default: every known assignment that any student submitted).
    students : list of str, optional
        Only these students (each must have a folder).

    Raises
    ------
    SubmissionError
        If there is nothing to grade, or a requested student or assignment does not exist.
    """
    root = submissions_root(root, known)
    student_dirs = {d.name: d for d in _visible_dirs(root)}
    if not student_dirs:
        raise SubmissionError(f"No student folders in {root} (expected <student_id>/<assignment_id>/<notebook>.ipynb).")
    if students:
        absent = sorted(set(students) - set(student_dirs))
        if absent:
            raise SubmissionError(f"No folder for student(s) {', '.join(absent)} in {root}.")
        student_dirs = {s: student_dirs[s] for s in students}
    warnings = []
    found = {a.name for d in student_dirs.values() for a in _visible_dirs(d)}
    for name in sorted(found - set(known)):
        hint = " (assignment ids look like 00_orientation)" if not ASSIGNMENT_RE.match(name) else ""
        warnings.append(f"ignoring folder {name!r}: not an assignment of this course{hint}")
    if assignments:
        unknown = sorted(set(assignments) - set(known))
        if unknown:
            raise SubmissionError(f"Unknown assignment(s) {', '.join(unknown)}; the course has {', '.join(known)}.")
        wanted = sorted(assignments)
    else:
        wanted = sorted(found & set(known))
    if not wanted:
        raise SubmissionError(f"No submissions of any course assignment ({', '.join(known)}) in {root}.")
    subs = []
    for student, folder in sorted(student_dirs.items()):
        for assignment in wanted:
            if not STUDENT_RE.match(student):
                subs.append(Submission(student, assignment, None, "invalid_student_id",
                                       "student folder names may use letters, digits and _ . @ - (64 at most)"))
            else:
                subs.append(find_submission(folder, student, assignment))
    return subs, warnings
