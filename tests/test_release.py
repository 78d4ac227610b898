"""``speech-course release``: the learner repository holds no hidden test and no model answer, and still works.

The scan here is written independently of :mod:`course.grading.release`: it collects, from every assignment source
in ``autograder/source``, the lines of the hidden tests, the lines of the solution code and the model answers of the
free-response cells, and looks for each of them in every text file and every notebook cell of the release. A line
that the released exercise notebooks carry themselves (a ``def`` line, a docstring, a shared setup line) is not a
secret. The scan must find leaks in a deliberately leaky release, so it cannot pass by finding nothing.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course.cli import main
from course.grading.release import MARKER, VISIBLE_ONLY_NOTE, ReleaseError, binder_url, write_release

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "autograder" / "source").glob("*/*.ipynb"))
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
#: Secret lines at least this long are also looked for inside longer lines (and across re-wrapped text).
EMBEDDED_CHARS = 40


@pytest.fixture
def checkout(tmp_path):
    """A stand-in checkout of the course under ``tmp_path`` (the package and sources hard-linked, the exercises
    copied so that a test may change them): a broken guard could only ever delete files under ``tmp_path``."""
    fake = tmp_path / "checkout"
    for tree in ("course", "autograder/source"):
        shutil.copytree(ROOT / tree, fake / tree, copy_function=os.link)
    shutil.copytree(ROOT / "exercises", fake / "exercises")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, fake / name)
    return fake


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return write_release(ROOT, tmp_path_factory.mktemp("release") / "class", binder_repo="alice/speech-class-2027",
                         binder_ref="main")


# ---- the scanner ---------------------------------------------------------------------------------------------------

def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(value) -> str:  # noqa: ANN001 - notebook JSON: a string or a list of strings
    return "".join(value) if isinstance(value, list) else str(value)


def _between(source: str, begin: str, end: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() == begin:
            inside = True
        elif line.strip() == end:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def _nontrivial(line: str) -> bool:
    """A line that says something: 10 characters or more, and not a bare expression without arguments or operators
    (``super().__init__()``, ``else:``, ``plt.show()``), which any Python file may hold."""
    s = line.strip()
    return len(s) >= 10 and not re.fullmatch(r"[\w.]*(?:\(\)[\w.]*)*:?", s)


@functools.cache
def secrets() -> dict[str, frozenset[str]]:
    """Every secret line of the course's assignment sources, by kind."""
    found: dict[str, set[str]] = {"hidden test": set(), "solution code": set(), "model answer": set()}
    for path in SOURCES:
        for cell in _cells(path):
            source, meta = _text(cell["source"]), cell.get("metadata", {}).get("nbgrader", {})
            found["hidden test"].update(_between(source, BEGIN_HIDDEN, END_HIDDEN))
            if meta.get("solution"):
                answer = _between(source, BEGIN_SOLUTION, END_SOLUTION) or source.splitlines()
                found["solution code" if cell["cell_type"] == "code" else "model answer"].update(answer)
    # what the released notebooks show is no secret: a def line and its docstring, a setup line the visible tests
    # share, the recipe a markdown cell spells out (compared with runs of white space as one space)
    public = " ".join(" ".join(_text(cell["source"]).split()) for path in sorted((ROOT / "exercises").glob("*.ipynb"))
                      for cell in _cells(path))
    return {kind: frozenset(s for s in (line.strip() for line in lines)
                            if _nontrivial(s) and " ".join(s.split()) not in public)
            for kind, lines in found.items()}


def _units(path: Path) -> list[tuple[str, str]]:
    """``(where, text)`` to scan: each cell of a notebook (source and outputs), or a whole text file; nothing for a
    binary file."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return []
    if path.suffix == ".ipynb":
        units = []
        for i, cell in enumerate(json.loads(text)["cells"]):
            outputs = [_text(o.get("text", "")) + "".join(_text(v) for v in o.get("data", {}).values())
                       for o in cell.get("outputs", [])]
            units.append((f"cell {i}", "\n".join([_text(cell["source"]), *outputs])))
        return units
    return [("", text)]


def scan(root: Path) -> list[str]:
    """Every secret line found under ``root``, as ``path [cell]: kind: line``.

    ``course/**/*.py`` is not scanned for solution code: the package implements every method the notebooks teach
    (they fall back on it), so its code and an answer's share lines by design; it is still scanned for hidden tests
    and model answers. :func:`test_the_course_package_is_released_as_is` checks that the release adds nothing to it.
    """
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        units = _units(path)
        lines = {line.strip() for _, text in units for line in text.splitlines()}
        flat = "\n".join(" ".join(text.split()) for _, text in units)
        for kind, secret_lines in secrets().items():
            if kind == "solution code" and rel.startswith("course/") and path.suffix == ".py":
                continue
            for secret in secret_lines:
                if secret in lines or (len(secret) >= EMBEDDED_CHARS and " ".join(secret.split()) in flat):
                    where = [w for w, text in units if secret in {x.strip() for x in text.splitlines()}
                             or " ".join(secret.split()) in " ".join(text.split())]
                    found.append(f"{rel} {where[0] if where else ''}: {kind}: {secret}".replace("  ", " "))
    return found


# ---- the release holds no secret -----------------------------------------------------------------------------------

def test_the_sources_have_secrets_to_look_for():
    assert len(SOURCES) >= 9
    counts = {kind: len(lines) for kind, lines in secrets().items()}
    assert counts["hidden test"] > 300 and counts["solution code"] > 150 and counts["model answer"] > 50, counts


def test_no_hidden_test_and_no_model_answer_in_the_release(release):
    assert scan(release.out) == []


def test_no_solutions_no_sources_no_broken_answers_no_tests(release):
    out = release.out
    for path in ("solutions", "autograder/broken", "tests", "slides", ".ci", "speech_course_tools", "tools",
                 "course/training.py", "docs/grading.md", "docs/methods.md", "autograder/gradebook.db"):
        assert not (out / path).exists(), path
    assert not list(out.rglob("*.ipynb_checkpoints")) and not list(out.rglob("__pycache__"))
    for text in (p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*.ipynb")):
        assert BEGIN_HIDDEN not in text and "BEGIN HIDDEN TESTS" not in text
    assert {"solutions", "autograder/broken", "autograder/source", "tests"} <= set(release.left_out)


@pytest.mark.parametrize("leak", ["solution notebook", "source notebook", "model answer in the README",
                                  "hidden test in a module"])
def test_the_scan_finds_a_deliberate_leak(release, tmp_path, leak):
    leaky = tmp_path / "leaky"
    shutil.copytree(release.out, leaky, copy_function=os.link)  # hard links: fast; leaks go into new files only
    if leak == "solution notebook":
        (leaky / "exercises" / "00_orientation.ipynb").unlink()
        shutil.copy(ROOT / "solutions" / "00_orientation.ipynb", leaky / "exercises" / "00_orientation.ipynb")
        expected = "solution code"
    elif leak == "source notebook":
        shutil.copy(SOURCES[1], leaky / "notes.ipynb")
        expected = "hidden test"
    elif leak == "model answer in the README":
        answer = sorted(secrets()["model answer"], key=len)[-1]
        text = (leaky / "README.md").read_text(encoding="utf-8")
        (leaky / "README.md").unlink()
        (leaky / "README.md").write_text(text + "\nA tip from last year: " + answer + "\n", encoding="utf-8")
        expected = "model answer"
    else:
        hidden = sorted(secrets()["hidden test"], key=len)[-1]
        (leaky / "course" / "hints.py").write_text(f"def hint():\n    {hidden}\n", encoding="utf-8")
        expected = "hidden test"
    found = scan(leaky)
    assert any(f": {expected}: " in f for f in found), found[:5]


def test_the_course_package_is_released_as_is(release):
    def files(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")}

    released, checkout = files(release.out / "course"), files(ROOT / "course")
    assert released.keys() == checkout.keys()
    assert all(released[k] == checkout[k] for k in released)
    assert (release.out / "course" / "shipped" / "tiny-w2v2-ctc" / "model.safetensors").is_file()


def test_the_exercises_are_released_as_built(release):
    for path in (ROOT / "exercises").glob("*.ipynb"):
        assert (release.out / "exercises" / path.name).read_bytes() == path.read_bytes(), path.name
    assert list(release.assignments) == [p.parent.name for p in SOURCES]


# ---- the self-check works on the visible tests ---------------------------------------------------------------------

def test_the_self_check_course_directory_has_the_visible_tests_only(release):
    course_dir = release.out / "autograder"
    assert json.loads((course_dir / MARKER).read_text())["hidden_tests"] is False
    for a in release.assignments:
        source = course_dir / "source" / a / f"{a}.ipynb"
        exercise = ROOT / "exercises" / f"{a}.ipynb"
        released, original = _cells(source), _cells(exercise)
        assert len(released) == len(original)
        for r, e in zip(released, original):
            text = _text(r["source"])
            assert BEGIN_HIDDEN not in text
            # the stubs are marked as answers; without the marker lines, every cell is the learner's
            unmarked = "\n".join(x for x in text.split("\n") if x.strip() not in (BEGIN_SOLUTION, END_SOLUTION))
            assert unmarked == _text(e["source"])
            assert r["metadata"].get("nbgrader") == e["metadata"].get("nbgrader")
            if r["metadata"].get("nbgrader", {}).get("solution"):
                assert _between(text, BEGIN_SOLUTION, END_SOLUTION), "an answer cell without a marked stub"
                assert all(x.strip() in ("# YOUR CODE HERE", "raise NotImplementedError()", "YOUR ANSWER HERE")
                           for x in _between(text, BEGIN_SOLUTION, END_SOLUTION))


@pytest.mark.slow
def test_nbgrader_releases_exactly_the_learner_notebook_from_the_self_check_source(release, tmp_path):
    """What ``speech-course check`` builds from the release: nbgrader's release is the learner's notebook (same
    cells, metadata and checksums), and its gradebook knows the visible tests only."""
    from nbgrader.api import Gradebook

    from course.grading.assignments import prepare_assignment
    from course.grading.notebooks import read_notebook

    a = "01_speech_challenges"  # code and free-response answers
    prep = prepare_assignment(release.out / "autograder", a, tmp_path)
    assert read_notebook(prep.release).cells == read_notebook(ROOT / "exercises" / f"{a}.ipynb").cells
    assert prep.hidden == ()
    with Gradebook(f"sqlite:///{prep.gradebook}") as gb:
        cells = [c.source for nb in gb.find_assignment(a).notebooks for c in nb.source_cells]
    assert cells and not any("HIDDEN" in c for c in cells)
    assert not [f for f in scan(tmp_path) if ": hidden test: " in f]


def test_check_finds_the_release_course_directory_and_says_visible_tests_only(release):
    code = ("import course; from course.grading.layout import default_course_dir; "
            "from course.grading.release import learner_release_note; "
            "print(course.__file__); print(default_course_dir()); print(learner_release_note(default_course_dir()))")
    env = {k: v for k, v in os.environ.items() if k != "SPEECH_COURSE_AUTOGRADER"}
    run = subprocess.run([sys.executable, "-c", code], cwd=release.out, env={**env, "PYTHONPATH": str(release.out)},
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    module, course_dir, note = run.stdout.splitlines()
    assert Path(module).resolve().is_relative_to(release.out), module
    assert Path(course_dir).resolve() == release.out / "autograder"
    assert note == VISIBLE_ONLY_NOTE
    from course.grading.release import learner_release_note

    assert learner_release_note(ROOT / "autograder") is None, "the main repository's check runs the hidden tests"


# ---- README --------------------------------------------------------------------------------------------------------

def test_readme_for_learners(release):
    readme = (release.out / "README.md").read_text(encoding="utf-8")
    link = "https://mybinder.org/v2/gh/alice/speech-class-2027/main?urlpath=lab/tree/exercises/00_orientation.ipynb"
    assert release.binder_url == link
    assert f"[![Binder](https://mybinder.org/badge_logo.svg)]({link})" in readme
    assert "-r requirements.lock -e ." in readme and "speech-course setup" in readme
    assert "jupyter lab exercises/" in readme
    assert "speech-course check exercises/00_orientation.ipynb" in readme
    assert "**visible tests only**" in " ".join(readme.split())
    assert "<assignment_id>.ipynb" in readme
    for a in release.assignments:
        assert f"`{a}`" in readme, a
    prose = " ".join(readme.split())
    assert "solutions/" not in readme and "hidden tests your instructor grades with are not part of it" in prose
    assert (release.out / "exercises" / "README.md").read_text() != (ROOT / "exercises" / "README.md").read_text()
    # every relative link of the released Markdown points at a released file
    for page in release.out.rglob("*.md"):
        for target in re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.relative_to(release.out)} links {target}"


def test_readme_without_binder_repo_says_how_to_add_one(tmp_path):
    result = write_release(ROOT, tmp_path / "r")
    readme = (tmp_path / "r" / "README.md").read_text(encoding="utf-8")
    assert result.binder_url is None
    prose = " ".join(readme.split())
    assert "No Binder link" in prose and "--binder-repo OWNER/NAME" in prose
    assert "](https://mybinder.org/v2/gh/OWNER/NAME/HEAD?urlpath=lab/tree/exercises/00_orientation.ipynb)" in readme


def test_binder_url_forms():
    assert binder_url("a-b/c.d_e") == "https://mybinder.org/v2/gh/a-b/c.d_e/HEAD?urlpath=lab/tree/" \
                                      "exercises/00_orientation.ipynb"
    assert binder_url("alice/course.git", "release/2027").startswith(
        "https://mybinder.org/v2/gh/alice/course/release%2F2027?")
    for bad in ("alice", "alice/", "/course", "alice/course/extra", "-alice/course", "al ice/course",
                "https://github.com/alice/course", "alice/..", "alice--/x"):
        with pytest.raises(ReleaseError, match="OWNER/NAME"):
            binder_url(bad)
    for bad in ("", "a..b", "-x", "x y", "/x"):
        with pytest.raises(ReleaseError, match="binder-ref"):
            binder_url("alice/course", bad)


# ---- the command line ----------------------------------------------------------------------------------------------

def test_cli_writes_a_release_and_refuses_bad_input(tmp_path, capsys):
    out = tmp_path / "class"
    assert main(["release", "--out", str(out), "--binder-repo", "alice/class"]) == 0
    printed = capsys.readouterr().out
    assert "Learner release written to" in printed and "solutions: " in printed and "mybinder.org" in printed

    assert main(["release", "--out", str(out)]) == 2  # not empty
    err = capsys.readouterr().err
    assert "is not empty" in err and "--force" in err and "Traceback" not in err

    assert main(["release", "--out", str(tmp_path / "other"), "--binder-repo", "not a repo"]) == 2
    assert "OWNER/NAME" in capsys.readouterr().err
    assert not (tmp_path / "other").exists(), "nothing is written when the input is bad"

    (tmp_path / "empty").mkdir()
    assert main(["release", "--out", str(tmp_path / "other"), "--repo", str(tmp_path / "empty")]) == 2
    assert "not a checkout of the course repository" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert main(["release", "--out", str(tmp_path / "file")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_out_may_not_hold_or_be_inside_what_is_released(checkout, tmp_path, capsys):
    for inside in (checkout, tmp_path, checkout / "course" / "release", checkout / "exercises" / "x",
                   checkout / "autograder"):
        assert main(["release", "--repo", str(checkout), "--out", str(inside), "--force"]) == 2, inside
        assert "choose" in capsys.readouterr().err
    assert (checkout / "course" / "__init__.py").is_file()
    assert (checkout / "exercises" / "00_orientation.ipynb").is_file()
    assert main(["release", "--repo", str(checkout), "--out", str(tmp_path / "class")]) == 0


def test_an_exercise_with_answers_filled_in_is_refused(checkout, tmp_path):
    """An exercise notebook someone solved (or ran) in the checkout must not be released."""
    solved = json.loads((ROOT / "solutions" / "00_orientation.ipynb").read_text(encoding="utf-8"))
    for cell in solved["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (checkout / "exercises" / "00_orientation.ipynb").write_text(json.dumps(solved), encoding="utf-8")
    with pytest.raises(ReleaseError, match="00_orientation.ipynb, cell .* was it edited"):
        write_release(checkout, tmp_path / "class")
    assert not (tmp_path / "class").exists()
    shutil.copy(ROOT / "solutions" / "00_orientation.ipynb", checkout / "exercises" / "00_orientation.ipynb")
    with pytest.raises(ReleaseError, match="has outputs"):
        write_release(checkout, tmp_path / "class")


def test_force_replaces_the_contents_of_out_only(tmp_path):
    out = tmp_path / "class"
    (out / ".git").mkdir(parents=True)
    (out / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    write_release(ROOT, out)  # a lone .git counts as empty: a fresh clone of a new repository
    (out / "solutions").mkdir()
    (out / "solutions" / "stale.ipynb").write_text("{}")
    (tmp_path / "beside.txt").write_text("keep me")
    with pytest.raises(ReleaseError, match="not empty"):
        write_release(ROOT, out)
    write_release(ROOT, out, force=True)
    assert not (out / "solutions").exists()
    assert (out / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (tmp_path / "beside.txt").read_text() == "keep me"
    assert (out / "autograder" / MARKER).is_file()


def test_grading_a_class_with_a_learner_releases_course_directory_is_refused(tmp_path, capsys):
    """Its gradebook holds the visible tests only: grades made with it would be wrong without saying so."""
    out = tmp_path / "class"
    write_release(ROOT, out)
    (tmp_path / "subs").mkdir()
    for command in (["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "graded")],
                    ["gradescope", "00_orientation", "--out", str(tmp_path / "bundle.zip")]):
        assert main([*command, "--course-dir", str(out / "autograder")]) == 2
        err = capsys.readouterr().err
        assert "learner release" in err and "visible tests only" in err and "Traceback" not in err
    assert not (tmp_path / "graded").exists() and not (tmp_path / "bundle.zip").exists()
