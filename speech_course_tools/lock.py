"""The locked environment: one tested set of versions, and the files that must agree with it.

``requirements.lock`` pins every direct and transitive dependency of the course (the ``dev`` and ``binder`` extras
included). It is resolved by ``uv pip compile`` from the ranges in ``pyproject.toml`` for Python 3.11 and every
platform (``--universal``), with one version per package (``--fork-strategy fewest``), so that Python 3.12 or a Mac
gets the same versions CI tested. The torch / torchaudio pair is not left to the resolver: it is the one chosen by
measurement, :data:`course.doctor.TESTED` (the ranges also admit newer releases, which ``tools/try-newest`` tries).
The README's setup command and ``.ci/run`` install the lock.

``binder/requirements.txt`` is generated from it: the same pins, with PyTorch's CPU builds (``torch==X+cpu`` from
PyTorch's CPU index) instead of the CUDA builds PyPI serves on Linux, and without the CUDA-only packages.

Usage, from the repository root::

    python -m speech_course_tools.lock            # re-resolve (needs PyPI) and rewrite both files
    python -m speech_course_tools.lock --binder   # only rewrite binder/requirements.txt from the lock
    python -m speech_course_tools.lock --check    # exit 1, naming each problem, when they disagree with pyproject

``tests/test_environment.py`` runs the check. ``tools/try-newest`` installs the newest versions the ranges allow
into a temporary environment and runs the fast tests: run it before each release of the course.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from course.grading.layout import repo_root  # standard library only: tools/try-newest runs this bare

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = repo_root()
LOCK = "requirements.lock"
BINDER = "binder/requirements.txt"
#: The extras the lock covers besides the course's own dependencies.
EXTRAS = ("dev", "binder")
#: The Python the lock is resolved for and tested with (Binder's runtime.txt and CI use it too).
PYTHON = "3.11"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: Packages with a CPU build on PyTorch's index (local version label ``+cpu``).
CPU_BUILDS = ("torch", "torchaudio")
#: Packages only PyPI's CUDA builds of torch need; the CPU builds do without them.
CUDA_ONLY = re.compile(r"^(nvidia-.+|triton|cuda-.+)$")
#: The command that regenerates the lock (also written into its header by uv).
REGENERATE = "python -m speech_course_tools.lock"

BINDER_HEADER = f"""\
# Generated from requirements.lock by `{REGENERATE}`: do not edit (tests/test_environment.py checks it).
# Binder (repo2docker) installs this file with pip, from the repository root, into the image's Python {PYTHON}.
# The lock's versions, with CPU-only PyTorch from PyTorch's CPU index: PyPI's Linux builds of torch pull several GB
# of CUDA libraries that a Binder image must not carry. The Gradescope bundle installs this file too.
--extra-index-url {CPU_INDEX}
"""
BINDER_FOOTER = """\
# The course itself (not editable: the image keeps its own copy, whatever a learner does to the files in the home
# directory).
.
"""


def uv_command() -> list[str]:
    """How to run uv: the one installed with the ``dev`` extra, else one on ``PATH``."""
    try:
        from uv import find_uv_bin  # optional: the dev extra installs it

        return [find_uv_bin()]
    except (ImportError, FileNotFoundError):
        return ["uv"]


def compile_command(constraints: Path, out: str = LOCK) -> list[str]:
    """``uv pip compile`` with the options that make the lock (run from the repository root)."""
    extras = [arg for extra in EXTRAS for arg in ("--extra", extra)]
    return uv_command() + ["pip", "compile", "pyproject.toml", *extras, "--constraint", str(constraints),
                           "--universal", "--python-version", PYTHON, "--fork-strategy", "fewest",
                           "--custom-compile-command", REGENERATE, "--quiet", "--output-file", out]


def compile_lock(root: Path = ROOT) -> None:
    """Re-resolve ``requirements.lock`` with uv (needs PyPI), holding torch and torchaudio at the tested pair."""
    from course.doctor import TESTED  # by design: tools/try-newest imports this module without numpy

    with tempfile.TemporaryDirectory() as tmp:
        constraints = Path(tmp) / "tested-pair.txt"
        constraints.write_text("".join(f"{name}=={version}\n" for name, version in TESTED.items()))
        subprocess.run(compile_command(constraints), cwd=root, check=True)


def pins(text: str) -> list[Requirement]:
    """The requirements of a requirements file, in order (options, comments and local paths left out)."""
    out = []
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if line and not line.startswith("-") and line not in (".", "./"):
            out.append(Requirement(line))
    return out


def pinned_version(req: Requirement) -> Version:
    """The version of an ``==`` pin (raises ValueError for anything else)."""
    specs = list(req.specifier)
    if len(specs) != 1 or specs[0].operator != "==":
        raise ValueError(f"{req}: not pinned with ==")
    return Version(specs[0].version)


def binder_text(lock_text: str) -> str:
    """``binder/requirements.txt`` for a lock: CPU builds of PyTorch, no CUDA-only packages."""
    lines = []
    for req in pins(lock_text):
        name = canonicalize_name(req.name)
        if CUDA_ONLY.match(name):
            continue
        version = pinned_version(req)
        if name in CPU_BUILDS:
            version = Version(f"{version.public}+cpu")
        marker = f" ; {req.marker}" if req.marker else ""
        lines.append(f"{name}=={version}{marker}")
    return BINDER_HEADER + "\n".join(lines) + "\n" + BINDER_FOOTER


def declared(pyproject: dict) -> list[Requirement]:
    """The course's requirements and those of the extras the lock covers."""
    project = pyproject["project"]
    reqs = [Requirement(r) for r in project["dependencies"]]
    for extra in EXTRAS:
        reqs += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return reqs


def _applies(req: Requirement, python: str = PYTHON) -> bool:
    """Whether a lock line applies to ``python`` on some platform (its marker mentions no other Python)."""
    if req.marker is None:
        return True
    env = {"python_version": python, "python_full_version": f"{python}.0"}
    return any(Marker(str(req.marker)).evaluate(dict(env, sys_platform=p, platform_machine=m, platform_system=s))
               for p, m, s in (("linux", "x86_64", "Linux"), ("linux", "aarch64", "Linux"),
                               ("darwin", "arm64", "Darwin"), ("win32", "AMD64", "Windows")))


def problems(root: Path = ROOT) -> list[str]:
    """Every disagreement between ``pyproject.toml``, the lock and Binder's requirements (empty: all agree)."""
    found = []
    with open(root / "pyproject.toml", "rb") as f:
        pyproject = tomllib.load(f)
    lock_path = root / LOCK
    if not lock_path.is_file():
        return [f"{LOCK} is missing: run `{REGENERATE}`"]
    lock_text = lock_path.read_text(encoding="utf-8")
    lock: dict[str, list[Requirement]] = {}
    for req in pins(lock_text):
        try:
            pinned_version(req)
        except ValueError as exc:
            found.append(f"{LOCK}: {exc}")
            continue
        lock.setdefault(canonicalize_name(req.name), []).append(req)
    for req in declared(pyproject):
        name = canonicalize_name(req.name)
        if req.marker is not None and not _applies(req):
            continue
        if name not in lock:
            found.append(f"{req.name} is required by pyproject.toml ({req}) but not pinned in {LOCK}: run "
                         f"`{REGENERATE}`")
            continue
        for entry in lock[name]:
            if not req.specifier.contains(pinned_version(entry), prereleases=True):
                found.append(f"{LOCK} pins {entry}, outside pyproject.toml's range {req}: run `{REGENERATE}`")
    binder_path = root / BINDER
    if not binder_path.is_file() or binder_path.read_text(encoding="utf-8") != binder_text(lock_text):
        found.append(f"{BINDER} does not match {LOCK}: run `{REGENERATE} --binder`")
    try:
        from course import doctor  # by design: tools/try-newest imports this module without numpy

        for name, version in doctor.TESTED.items():
            versions = {str(pinned_version(e)) for e in lock.get(name, [])}
            if versions != {version}:
                found.append(f"course.doctor.TESTED says {name} {version}, {LOCK} pins {sorted(versions)}")
    except ImportError as exc:  # pragma: no cover - the course is installed wherever this runs
        found.append(f"cannot import course.doctor: {exc}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"{REGENERATE}", description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only check that the files agree")
    mode.add_argument("--binder", action="store_true", help="only regenerate binder/requirements.txt from the lock")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = args.root
    if not (args.check or args.binder):
        compile_lock(root)
        print(f"wrote {LOCK}")
    if not args.check:
        (root / BINDER).write_text(binder_text((root / LOCK).read_text(encoding="utf-8")), encoding="utf-8")
        print(f"wrote {BINDER}")
    found = problems(root)
    for p in found:
        print(p, file=sys.stderr)
    if not found:
        print(f"{LOCK}, pyproject.toml and {BINDER} agree")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
