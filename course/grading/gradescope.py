"""Gradescope export: an autograder bundle that grades one notebook with the course's pipeline.

``speech-course gradescope ASSIGNMENT --out FILE.zip`` writes a zip in
Gradescope's autograder format: ``setup.sh`` (run once when Gradescope
builds its image: installs bubblewrap, the tested Python, the course with
the locked versions of its dependencies (CPU-only PyTorch), and the corpus) and ``run_autograder`` (run per submission: grades the notebook in
``/autograder/submission`` and writes ``/autograder/results/results.json``).
The zip also carries the ``course`` package and the assignment's source
notebook, hidden tests included: upload it only to Gradescope.

Running ``python -m course.grading.gradescope --root DIR --assignment ID``
is what ``run_autograder`` does; ``DIR`` defaults to ``/autograder`` and the
tests point it at a simulated layout.
"""

from __future__ import annotations

import argparse
import json
import re
import zipfile
from pathlib import Path
from typing import Sequence

from course.grading.check import check_learner_notebook
from course.grading.job import not_graded
from course.grading.layout import check_course_dir, repo_root, source_notebook
from course.grading.notebooks import graded_cells, points, read_notebook
from course.grading.results import STATUSES

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (network available). It installs what the
# course was tested with, whatever the base image's own Python: Python {python} (uv fetches it) and the pinned
# versions of the course's lock with CPU-only PyTorch (the repository's binder/requirements.txt, in this bundle as
# requirements.txt).
set -euxo pipefail
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv bubblewrap ca-certificates
python3 -m venv /autograder/uv
/autograder/uv/bin/pip install uv=={uv}
/autograder/uv/bin/uv venv --seed --python {python} /autograder/venv
cd /autograder/source
/autograder/venv/bin/pip install -r requirements.txt
/autograder/venv/bin/speech-course setup --quiet
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes $ROOT/results/results.json.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{SPEECH_COURSE_PYTHON:-$ROOT/venv/bin/python}}"
export PYTHONPATH="$ROOT/source${{PYTHONPATH:+:$PYTHONPATH}}"
exec "$PYTHON" -m course.grading.gradescope --root "$ROOT" --assignment {assignment}
"""

BUNDLE_README = """# Gradescope autograder for {assignment}

Built by `speech-course gradescope {assignment}`. Upload this zip as the autograder of a Gradescope programming
assignment (Ubuntu base image). It contains the assignment's hidden tests: do not share it with students.
Students submit `{assignment}.ipynb` (any single .ipynb is accepted).
"""


def build_bundle(course_dir: Path, assignment: str, out: Path) -> Path:
    """Write the Gradescope autograder zip for ``assignment`` to ``out``.

    Raises
    ------
    FileNotFoundError
        If the assignment or the course package's ``pyproject.toml`` is missing
        (the bundle is built from a clone of the course repository).
    """
    course_dir = check_course_dir(course_dir)
    src = source_notebook(course_dir, assignment)
    repo = repo_root()
    for name in ("pyproject.toml", "requirements.lock", "binder/requirements.txt", "binder/runtime.txt"):
        if not (repo / name).is_file():
            raise FileNotFoundError(f"No {name} in {repo}: build the bundle from a clone of the course repository.")
    setup = SETUP_SH.format(python=(repo / "binder" / "runtime.txt").read_text().strip().removeprefix("python-"),
                            uv=_locked_version(repo / "requirements.lock", "uv"))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        _add_text(zf, "setup.sh", setup, executable=True)
        _add_text(zf, "run_autograder", RUN_AUTOGRADER.format(assignment=assignment), executable=True)
        _add_text(zf, "README.md", BUNDLE_README.format(assignment=assignment))
        zf.write(repo / "pyproject.toml", "pyproject.toml")
        zf.write(repo / "binder" / "requirements.txt", "requirements.txt")
        for path in sorted((repo / "course").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, str(path.relative_to(repo)))
        zf.write(course_dir / "nbgrader_config.py", "autograder/nbgrader_config.py")
        for path in sorted(src.parent.rglob("*")):
            if path.is_file():
                zf.write(path, f"autograder/source/{assignment}/{path.relative_to(src.parent)}")
    return out


def _locked_version(lock: Path, package: str) -> str:
    """The version ``lock`` pins for ``package``."""
    match = re.search(rf"^{re.escape(package)}==([^\s;]+)", lock.read_text(encoding="utf-8"), flags=re.M)
    if match is None:
        raise FileNotFoundError(f"{lock} pins no {package}: regenerate it with `python -m speech_course_tools.lock`.")
    return match.group(1)


def _add_text(zf: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text)


def find_notebook(submission: Path, assignment: str) -> Path | None:
    """The submitted notebook: ``<assignment>.ipynb`` if present, else the only ``.ipynb`` uploaded."""
    notebooks = sorted(p for p in submission.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
    named = [p for p in notebooks if p.name == f"{assignment}.ipynb"]
    if named:
        return named[0]
    return notebooks[0] if len(notebooks) == 1 else None


def results_json(result, assignment: str) -> dict:  # noqa: ANN001 - JobResult
    """Gradescope's ``results.json`` for a graded notebook (test messages only, never test code)."""

    tests = [{"name": t.name + (" (includes hidden tests)" if t.hidden else ""), "score": t.points,
              "max_score": t.max_points, "output": t.message or ("passed" if t.passed else "failed"),
              "visibility": "visible"} for t in result.tests]
    output = f"{assignment}: {result.status} - {STATUSES.get(result.status, '')}"
    if result.detail:
        output += f"\n{result.detail}"
    return {"score": result.score, "output": output, "tests": tests, "stdout_visibility": "hidden"}


def run(root: Path, assignment: str) -> dict:
    """Grade the submission in ``root/submission`` and write ``root/results/results.json``; returns the results."""

    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    try:
        course_dir = root / "source" / "autograder"
        notebook = find_notebook(root / "submission", assignment)
        if notebook is None:
            source = read_notebook(source_notebook(course_dir, assignment))
            result = not_graded("missing", f"submit one notebook, named {assignment}.ipynb", source,
                                _max_score(source))
        else:
            result = check_learner_notebook(notebook, course_dir, assignment)
        results = results_json(result, assignment)
    except Exception as exc:  # noqa: BLE001 - Gradescope must always get a results file
        results = {"score": 0, "tests": [],
                   "output": f"The autograder failed; please tell your instructor ({type(exc).__name__}: {exc})."}
    (results_dir / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    return results


def _max_score(source) -> float:  # noqa: ANN001 - NotebookNode

    return points(graded_cells(source), "test")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m course.grading.gradescope",
                                     description="Grade a Gradescope submission (what run_autograder runs).")
    parser.add_argument("--root", type=Path, default=Path("/autograder"), help="Gradescope's /autograder folder")
    parser.add_argument("--assignment", required=True, help="assignment id")
    args = parser.parse_args(argv)
    results = run(args.root, args.assignment)
    print(f"score: {results['score']:g}")


if __name__ == "__main__":
    main()
