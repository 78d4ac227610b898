"""``speech-course doctor`` (and the end of ``speech-course setup``): every compiled piece loads, or a clear message.

The mismatch is simulated with a stand-in ``torchaudio`` package placed first on ``PYTHONPATH`` that fails to import
the way a torchaudio built for another torch does (an OSError from the dynamic linker, wrapped by torch). The same
message was seen by hand in a real virtual environment with torch 2.11.0 and torchaudio 2.11.1
(docs/environment.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from course import doctor
from course.cli import main

ROOT = Path(__file__).resolve().parents[1]

BROKEN_TORCHAUDIO = '''
try:
    raise OSError("/venv/lib/torchaudio/lib/libtorchaudio.so: undefined symbol: "
                  "torch_exception_get_what_without_backtrace")
except OSError as exc:
    raise OSError("Could not load this library: /venv/lib/torchaudio/lib/_torchaudio.so") from exc
'''


@pytest.mark.slow
def test_every_piece_loads_in_this_environment():
    checks = doctor.diagnose()
    assert [c.name for c in checks if not c.ok] == [], doctor.report(checks)
    names = {c.name for c in checks}
    assert {"torch", "torchaudio", "soundfile", "eSpeak NG", "model tiny-w2v2-ctc", "model tiny-whisper"} <= names


def test_a_torchaudio_that_does_not_load_gets_a_message_not_a_traceback(tmp_path):
    fake = tmp_path / "torchaudio"
    fake.mkdir()
    (fake / "__init__.py").write_text(textwrap.dedent(BROKEN_TORCHAUDIO))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    run = subprocess.run([sys.executable, "-m", "course", "doctor", "--no-models"], env=env, capture_output=True,
                         text=True, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "Traceback" not in out
    line = next(line for line in out.splitlines() if "FAIL" in line)
    assert "torchaudio" in line and "undefined symbol: torch_exception_get_what_without_backtrace" in line
    torch = doctor.installed("torch")
    assert f"installed: torch {torch}, torchaudio {doctor.installed('torchaudio')}" in line
    assert f"tested: torch {doctor.TESTED['torch']} + torchaudio {doctor.TESTED['torchaudio']}" in line
    assert f"fix: {sys.executable} -m pip install -r {ROOT / 'requirements.lock'}" in out
    assert "ok    soundfile" in out and "ok    eSpeak NG" in out  # the other checks still run
    assert "failed: torchaudio" in out


def test_without_a_clone_the_fix_names_the_tested_pair(monkeypatch):
    monkeypatch.setattr(doctor, "_lock_path", lambda: None)
    fix = doctor.reinstall_command()
    assert f"'torch=={doctor.TESTED['torch']}' 'torchaudio=={doctor.TESTED['torchaudio']}'" in fix


def test_an_unexpected_error_becomes_a_failed_check():
    def boom() -> doctor.Check:
        raise RuntimeError("first line\nthe useful last line")

    check = doctor._guard("soundfile", boom)
    assert not check.ok and check.detail == "RuntimeError: the useful last line" and check.fix


def test_setup_fails_when_a_check_fails(monkeypatch, capsys, tmp_path):
    import course.corpus

    monkeypatch.setattr(course.corpus, "build_corpus", lambda *a, **k: tmp_path)
    failed = [doctor.Check("torch", True, "torch x"), doctor.Check("torchaudio", False, "does not load", "pip ...")]
    monkeypatch.setattr(doctor, "diagnose", lambda models=True: failed)
    assert main(["setup", "--quiet"]) == 1
    out = capsys.readouterr()
    assert "FAIL  torchaudio: does not load" in out.out and "fix: pip ..." in out.out
    assert "speech-course doctor" in out.err
    monkeypatch.setattr(doctor, "diagnose", lambda models=True: failed[:1])
    assert main(["setup", "--quiet"]) == 0


@pytest.mark.slow
def test_doctor_command_passes_here(capsys):
    assert main(["doctor", "--no-models"]) == 0
    assert "checks passed" in capsys.readouterr().out
