"""One truth for versions: requirements.lock, the ranges of pyproject.toml and binder/requirements.txt agree.

``speech_course_tools.lock.problems`` is the check (``python -m speech_course_tools.lock --check`` runs it too); the
tests below run it on the repository, then on copies with one disagreement planted each, to show it catches what it is for.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from course import doctor
from speech_course_tools import lock as L

ROOT = Path(__file__).resolve().parents[1]

#: torch / torchaudio pairs measured not to load together (docs/environment.md): the ranges must exclude them.
KNOWN_BAD_PAIRS = [("2.11.0", "2.11.1"), ("2.12.1", "2.11.1")]


def _declared(name: str) -> Requirement:
    return next(r for r in L.declared(L.tomllib.loads((ROOT / "pyproject.toml").read_text())) if r.name == name)


def _copy(tmp_path: Path) -> Path:
    for name in ("pyproject.toml", L.LOCK, L.BINDER):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_lock_ranges_and_binder_agree():
    assert L.problems(ROOT) == []


def test_lock_pins_the_tested_pair_and_every_requirement():
    lock = {r.name: r for r in L.pins((ROOT / L.LOCK).read_text())}
    for name, version in doctor.TESTED.items():
        assert L.pinned_version(lock[name]) == Version(version)
    assert all(len(r.specifier) == 1 for r in lock.values()), "every line of the lock is an == pin"


def test_ranges_exclude_the_pairs_known_not_to_load():
    torch, torchaudio = _declared("torch"), _declared("torchaudio")
    for t, ta in KNOWN_BAD_PAIRS:
        assert not (torch.specifier.contains(t) and torchaudio.specifier.contains(ta)), (t, ta)
    assert torch.specifier.contains(doctor.TESTED["torch"])
    assert torchaudio.specifier.contains(doctor.TESTED["torchaudio"])


def test_binder_has_cpu_builds_and_no_cuda_packages():
    text = (ROOT / L.BINDER).read_text()
    reqs = {r.name: r for r in L.pins(text)}
    for name in L.CPU_BUILDS:
        assert L.pinned_version(reqs[name]).local == "cpu"
    assert not [name for name in reqs if L.CUDA_ONLY.match(name)]
    assert f"--extra-index-url {L.CPU_INDEX}" in text
    assert text.rstrip().endswith("\n.")


def test_binder_runtime_is_the_python_the_lock_is_made_for():
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == f"python-{L.PYTHON}"


@pytest.mark.parametrize("plant, expect", [
    # the lock pins a version outside the range (and no longer the tested pair)
    (lambda root: _sub(root / L.LOCK, r"^torch==\S+", "torch==2.11.0"), r"outside pyproject.toml's range torch"),
    # a requirement of pyproject.toml is missing from the lock
    (lambda root: _sub(root / L.LOCK, r"^captum==\S+\n", ""), r"captum is required by pyproject.toml"),
    # pyproject's range moved away from the lock
    (lambda root: _sub(root / "pyproject.toml", r'"transformers>=[^"]+"', '"transformers>=6"'),
     r"outside pyproject.toml's range transformers>=6"),
    # Binder's file edited by hand
    (lambda root: _sub(root / L.BINDER, r"^torchaudio==\S+", "torchaudio==2.11.0+cpu"), r"does not match"),
    # the doctor's tested pair and the lock disagree
    (lambda root: _sub(root / L.LOCK, r"^torchaudio==\S+", "torchaudio==2.11.0"), r"course.doctor.TESTED says"),
])
def test_each_disagreement_is_found(tmp_path, plant, expect):
    root = _copy(tmp_path)
    plant(root)
    found = L.problems(root)
    assert any(re.search(expect, p) for p in found), found


def _sub(path: Path, pattern: str, repl: str) -> None:
    text = path.read_text()
    new = re.sub(pattern, repl, text, count=1, flags=re.M)
    assert new != text, f"the planted change did not apply to {path.name}: {pattern}"
    path.write_text(new)


def test_binder_text_is_made_from_the_lock():
    lock = "torch==2.14.1\n    # via x\nnvidia-cublas==13.1.1.3 ; sys_platform == 'linux'\ntriton==3.8.0\n" \
           "appnope==1.0 ; sys_platform == 'darwin'\ntorchaudio==2.11.1\n"
    lines = [line for line in L.binder_text(lock).splitlines() if line and not line.startswith(("#", "-"))]
    assert lines == ["torch==2.14.1+cpu", 'appnope==1.0 ; sys_platform == "darwin"', "torchaudio==2.11.1+cpu", "."]


def test_check_command_exits_1_and_names_the_problem(tmp_path, capsys):
    root = _copy(tmp_path)
    assert L.main(["--check", "--root", str(root)]) == 0
    _sub(root / L.BINDER, r"^numpy==\S+", "numpy==1.0")
    assert L.main(["--check", "--root", str(root)]) == 1
    assert "binder/requirements.txt does not match requirements.lock" in capsys.readouterr().err
