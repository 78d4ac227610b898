"""binder/, repo2docker's configuration for mybinder.org: static checks, postBuild run twice, a Binder-like install.

* The files parse the way repo2docker reads them, the torch/torchaudio pins agree with pyproject.toml and the tested
  pair (requirements.txt is generated from requirements.lock: tests/test_environment.py), runtime.txt
  names a Python that repo2docker and the course support, postBuild and start are executable bash scripts.
* postBuild runs twice in an isolated Python prefix (a fresh virtual environment that sees this environment's
  packages): it must succeed both times, leave nbgrader's learner extension on and the instructor ones off, and the
  second run must change nothing.
* With ``COURSE_TEST_BINDER=1`` (it downloads and installs about 5 GB and took 14 minutes on the loaded 2-core
  development machine, so it is off by default): a fresh virtual environment built from ``binder/requirements.txt``, ``postBuild`` run in it, then a
  notebook executed there through ``binder/start``. This machine cannot reach PyTorch's CPU wheel index, so the test
  installs a copy of the requirements with the index line removed and the ``+cpu`` local version label dropped:
  pip then takes the same torch/torchaudio release from PyPI (the CUDA build on Linux, larger but the same API).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: Python versions repo2docker's conda build pack installs (repo2docker/buildpacks/conda/supported_python_version.py)
REPO2DOCKER_PYTHONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
#: The nbgrader plugins a learner on Binder gets (Validate) and those switched off (instructor tools, and the lists that
#: need an exchange or a JupyterHub).
LAB_OFF = ("formgrader", "create-assignment", "assignment-list", "course-list")
SERVER_OFF = ("formgrader", "assignment_list", "course_list")


def pyproject() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def requirement_lines(path: Path) -> list[str]:
    """Non-blank lines without comments, as pip reads a requirements file."""
    lines = []
    for raw in path.read_text().splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if line:
            lines.append(line)
    return lines


def binder_requirements() -> tuple[list[tuple[str, str]], dict[str, Requirement], list[str]]:
    """(options, requirements by name, local paths) of binder/requirements.txt."""
    options, reqs, local = [], {}, []
    for line in requirement_lines(BINDER / "requirements.txt"):
        if line.startswith("-e ") or line in (".", "./"):
            local.append(line)
        elif line.startswith("-"):
            name, _, value = line.partition(" ")
            options.append((name, value.strip()))
        else:
            req = Requirement(line)
            assert req.name not in reqs, f"{req.name} listed twice"
            reqs[req.name] = req
    return options, reqs, local


def pinned(req: Requirement) -> Version:
    (spec,) = req.specifier
    assert spec.operator == "==", f"{req}: pin with =="
    return Version(spec.version)


def test_binder_has_the_repo2docker_files_and_no_other_build_pack():
    for name in ("requirements.txt", "apt.txt", "postBuild", "start", "runtime.txt", "README.md"):
        assert (BINDER / name).is_file(), name
    # any of these would switch repo2docker to another build pack (conda, pipenv, Docker, ...)
    for name in ("environment.yml", "Pipfile", "Pipfile.lock", "Dockerfile", "pyproject.toml", "setup.py",
                 "requirements3.txt", "install.R", "Project.toml"):
        assert not (BINDER / name).exists(), name


def test_requirements_use_the_cpu_wheels_and_install_the_course():
    options, reqs, local = binder_requirements()
    assert options == [("--extra-index-url", CPU_INDEX)]
    for name in ("torch", "torchaudio"):
        version = pinned(reqs[name])
        assert version.local == "cpu", f"{name}: pin the CPU build ({name}=={version.public}+cpu)"
    assert local == ["."], "binder/requirements.txt must install the course itself ('.')"


def test_pins_agree_with_pyproject():
    _, reqs, _ = binder_requirements()
    declared = {Requirement(d).name: Requirement(d) for d in pyproject()["project"]["dependencies"]}
    from course.doctor import TESTED

    for name, version in TESTED.items():  # the tested pair (torchaudio 2.11.1 is built for torch >= 2.13)
        assert pinned(reqs[name]).public == version, f"binder pins {reqs[name]}, the tested pair is {TESTED}"
    for name, req in reqs.items():
        if name in declared:
            for spec in req.specifier:
                if spec.operator == "==":
                    assert declared[name].specifier.contains(Version(spec.version), prereleases=True), \
                        f"binder pins {req}, pyproject.toml asks for {declared[name]}"
                else:
                    assert declared[name].specifier, f"{name}: binder constrains what pyproject.toml does not"


def test_runtime_names_a_python_that_repo2docker_and_the_course_support():
    text = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(3\.\d+)", text)
    assert match, f"runtime.txt must read python-3.X, not {text!r}"
    assert match.group(1) in REPO2DOCKER_PYTHONS
    assert SpecifierSet(pyproject()["project"]["requires-python"]).contains(match.group(1) + ".0")


def test_apt_txt_lists_package_names_repo2docker_accepts():
    packages = [line.partition("#")[0].strip() for line in (BINDER / "apt.txt").read_text().splitlines()]
    packages = [p for p in packages if p]
    assert packages
    for p in packages:  # repo2docker refuses anything else (it pastes the names into a shell command)
        assert re.fullmatch(r"[a-z0-9.+-]+", p), p
    lists = Path("/var/lib/apt/lists")
    if shutil.which("apt-cache") and lists.is_dir() and any(lists.glob("*Packages*")):
        for p in packages:
            policy = subprocess.run(["apt-cache", "policy", p], capture_output=True, text=True).stdout
            assert "Candidate:" in policy and "Candidate: (none)" not in policy, f"no Debian package {p}"


@pytest.mark.parametrize("script", ["postBuild", "start"])
def test_scripts_are_executable_bash(script):
    path = BINDER / script
    assert os.access(path, os.X_OK), f"chmod +x binder/{script}"
    assert path.read_text().startswith("#!/usr/bin/env bash\n")
    assert subprocess.run(["bash", "-n", str(path)]).returncode == 0
    tracked = subprocess.run(["git", "ls-files", "-s", f"binder/{script}"], cwd=ROOT, capture_output=True,
                             text=True).stdout
    if tracked:  # repo2docker builds from git: the executable bit must be committed too
        assert tracked.startswith("100755"), f"git update-index --chmod=+x binder/{script}"


def test_start_sets_thread_counts_and_runs_its_arguments():
    assert (BINDER / "start").read_text().rstrip().endswith('exec "$@"')
    code = "import os; print(os.environ['OMP_NUM_THREADS'], os.environ['MKL_NUM_THREADS'])"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([str(BINDER / "start"), sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert len(set(out)) == 1 and int(out[0]) >= 1, out
    env["OMP_NUM_THREADS"] = "3"  # a value set by the user is kept
    out = subprocess.run([str(BINDER / "start"), sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out[0] == "3", out


def _binder_links() -> list[str]:
    section = (ROOT / "README.md").read_text().split("## Run in the browser (Binder)", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"\((https://mybinder\.org/v2/gh/[^)\s]+)\)", section)


def test_readme_links_open_the_orientation_notebook():
    """The badge opens exercises/00_orientation.ipynb; the nbgitpuller link pulls main into the session and opens the
    same notebook there (nbgitpuller clones into a folder named like the repository)."""
    from urllib.parse import parse_qs, unquote, urlsplit

    badge, puller = _binder_links()
    url = urlsplit(badge)
    assert url.path.endswith("/HEAD") and parse_qs(url.query)["urlpath"] == ["lab/tree/exercises/00_orientation.ipynb"]
    assert (ROOT / "exercises" / "00_orientation.ipynb").is_file()
    url = urlsplit(puller)
    repo = url.path.split("/")[4]
    (inner,) = parse_qs(url.query)["urlpath"]
    pull = urlsplit(inner)
    assert pull.path == "git-pull"
    query = parse_qs(pull.query)
    assert query["repo"] == [f"https://github.com/{url.path.split('/')[3]}/{repo}"] and query["branch"] == ["main"]
    target = unquote(query["urlpath"][0])
    assert target == f"lab/tree/{repo}/exercises/00_orientation.ipynb"
    assert any(r.name == "nbgitpuller" for r in binder_requirements()[1].values()), "the image needs nbgitpuller"


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _check_extensions(prefix: Path, python: Path, env: dict) -> None:
    """nbgrader as a learner on Binder gets it: Validate on, instructor tools and lists off (lab and server)."""
    page = json.loads((prefix / "etc" / "jupyter" / "labconfig" / "page_config.json").read_text())
    for plugin in LAB_OFF:
        assert page["disabledExtensions"].get(f"@jupyter/nbgrader:{plugin}") is True, plugin
        assert page.get("lockedExtensions", {}).get(f"@jupyter/nbgrader:{plugin}") is True, plugin
    assert not page["disabledExtensions"].get("@jupyter/nbgrader:validate-assignment")
    code = ("import json; from jupyter_core.paths import jupyter_config_path; "
            "from jupyter_server.extension.config import ExtensionConfigManager; "
            "print(json.dumps(ExtensionConfigManager(read_config_path=jupyter_config_path()[::-1])"
            ".get_jpserver_extensions()))")
    state = json.loads(subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True,
                                      check=True).stdout)
    for ext in SERVER_OFF:
        assert state.get(f"nbgrader.server_extensions.{ext}") is False, (ext, state)
    assert state.get("nbgrader.server_extensions.validate_assignment") is True, state
    code = ("from jupyter_core.paths import jupyter_config_path; from nbgrader.apps import NbGrader; "
            "app = NbGrader(); app.config_file_paths.append(jupyter_config_path()); app.load_config_file(); "
            "print(app.config.Execute.timeout)")
    timeout = subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert timeout.strip() == "120", timeout  # what nbgrader's Validate button will use


def _run_post_build_twice(prefix: Path, env: dict) -> None:
    for attempt in (1, 2):
        run = subprocess.run(["bash", str(BINDER / "postBuild")], cwd=ROOT, env=env, capture_output=True, text=True,
                             timeout=1800)
        assert run.returncode == 0, f"postBuild run {attempt}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
        state = _tree_digest(prefix / "etc" / "jupyter")
        if attempt == 1:
            first = state
    assert state == first, "the second postBuild run changed the configuration"


@pytest.mark.slow
def test_post_build_succeeds_twice_and_configures_the_learner_extensions(tmp_path):
    """postBuild, twice, in an overlay prefix: a new virtual environment that imports this environment's packages,
    with a copy of its Jupyter configuration as installed (what a real install has at sys.prefix), so that
    postBuild's ``--sys-prefix`` changes stay in the temporary directory."""
    from course.corpus import default_corpus_dir

    prefix = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True)
    site = Path(subprocess.run([str(prefix / "bin" / "python"), "-c", "import sysconfig; "
                                "print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True,
                               check=True).stdout.strip())
    dirs = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
    (site / "course-overlay.pth").write_text("".join(f"import site; site.addsitedir({d!r})\n" for d in dirs))
    here = Path(sys.executable).parent
    for script in [*here.glob("jupyter*"), here / "speech-course"]:
        lines = script.read_text().splitlines(keepends=True)
        (prefix / "bin" / script.name).write_text(f"#!{prefix / 'bin' / 'python'}\n" + "".join(lines[1:]))
        (prefix / "bin" / script.name).chmod(0o755)
    if (Path(sys.prefix) / "etc" / "jupyter").is_dir():
        shutil.copytree(Path(sys.prefix) / "etc" / "jupyter", prefix / "etc" / "jupyter")
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "PATH": f"{prefix / 'bin'}{os.pathsep}{os.environ['PATH']}", "HOME": str(home),
           "VIRTUAL_ENV": str(prefix), "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter"),
           "SPEECH_COURSE_CACHE": str(default_corpus_dir().parent)}  # the corpus the suite uses: verified, not rebuilt
    for var in ("JUPYTER_CONFIG_DIR", "PYTHONPATH"):
        env.pop(var, None)
    _run_post_build_twice(prefix, env)
    _check_extensions(prefix, prefix / "bin" / "python", env)


def binder_requirements_for_this_machine(text: str) -> str:
    """binder/requirements.txt for a machine that reaches PyPI but not PyTorch's CPU wheel index: the index line
    goes, and ``+cpu`` pins become the same release from PyPI."""
    out = []
    for line in text.splitlines():
        if line.strip().startswith("--extra-index-url") and CPU_INDEX in line:
            continue
        out.append(re.sub(r"(==[0-9][0-9a-z.]*)\+cpu\b", r"\1", line))
    return "\n".join(out) + "\n"


def test_the_swap_for_this_machine_keeps_everything_but_the_cpu_index():
    text = (BINDER / "requirements.txt").read_text()
    swapped = binder_requirements_for_this_machine(text)
    assert CPU_INDEX not in swapped and "+cpu" not in swapped
    assert [re.sub(r"\+cpu", "", line) for line in requirement_lines(BINDER / "requirements.txt")
            if not line.startswith("--extra-index-url")] == [line for line in swapped.splitlines()
                                                              if line and not line.startswith("#")]


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("COURSE_TEST_BINDER") != "1",
                    reason="set COURSE_TEST_BINDER=1 to build a Binder-like environment from scratch (about 5 GB "
                           "downloaded and installed, 10-15 minutes)")
def test_binder_like_install_from_scratch(tmp_path):
    repo = tmp_path / "repo"  # what repo2docker copies: the files git knows (tracked, or new and not ignored)
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(binder_requirements_for_this_machine((BINDER / "requirements.txt").read_text()))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # from the repository root, as repo2docker does ('.' in the file is the repository)
    pip = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-r", str(requirements)],
                         cwd=repo, capture_output=True, text=True, timeout=3600)
    assert pip.returncode == 0, pip.stderr[-3000:]

    home = tmp_path / "home"  # a new learner: no corpus, no Jupyter or matplotlib configuration yet
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("SPEECH_COURSE_CACHE", "JUPYTER_CONFIG_DIR", "JUPYTER_PATH", "PYTHONPATH", "XDG_CACHE_HOME")}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", HOME=str(home), VIRTUAL_ENV=str(venv))
    for attempt in (1, 2):
        run = subprocess.run(["bash", str(repo / "binder" / "postBuild")], cwd=repo, env=env, capture_output=True,
                             text=True, timeout=1800)
        assert run.returncode == 0, f"postBuild run {attempt}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
        state = _tree_digest(venv / "etc" / "jupyter")
        if attempt == 1:
            first = state
    assert state == first, "the second postBuild run changed the configuration"
    from course.corpus import CORPUS_VERSION

    assert (home / ".cache" / "speech-course" / f"corpus-v{CORPUS_VERSION}" / "manifest.csv").is_file()
    _check_extensions(venv, venv / "bin" / "python", env)

    # a learner's first notebook, run the way the Binder image runs everything: through binder/start
    run = subprocess.run([str(repo / "binder" / "start"), "jupyter", "nbconvert", "--to", "notebook", "--execute",
                          "--ExecutePreprocessor.timeout=300", "--output-dir", str(tmp_path / "out"),
                          str(repo / "solutions" / "00_orientation.ipynb")],
                         cwd=repo / "solutions", env=env, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr[-3000:]
    import nbformat

    nb = nbformat.read(tmp_path / "out" / "00_orientation.ipynb", as_version=4)
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
