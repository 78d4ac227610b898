"""``speech-course doctor``: load every compiled piece the course needs, and say how to fix what fails.

A fresh install can end without an error and still be broken: a torchaudio
built for another torch fails only when it is first imported, and that can be
in the middle of a notebook. :func:`diagnose` loads each piece the way the
course uses it (torch, torchaudio's MFCC, soundfile, the eSpeak NG library,
every shipped model) and returns one :class:`Check` per piece. A failed check
names the package, the versions installed beside each other, the tested
versions, and the command that installs them. ``speech-course setup`` ends
with the same checks.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

from course.grading.layout import repo_root

#: The torch / torchaudio pair ``requirements.lock`` pins (tests/test_environment.py keeps the two in step).
TESTED = {"torch": "2.14.1", "torchaudio": "2.11.1"}

#: The file that pins every tested version, at the root of a clone of the course repository.
LOCK = "requirements.lock"


@dataclass(frozen=True)
class Check:
    """The outcome of loading one piece.

    Attributes
    ----------
    name : str
        What was checked ("torchaudio", "model tiny-whisper", ...).
    ok : bool
        Whether it loaded and worked.
    detail : str
        What was found (versions), or what went wrong.
    fix : str
        A command or step that repairs it ("" when ``ok``).
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""


def installed(package: str) -> str | None:
    """The installed version of a distribution, or None (read from its metadata: nothing is imported)."""
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _lock_path() -> Path | None:
    """``requirements.lock`` of the clone this package is installed from (editable installs), else None."""
    path = repo_root() / LOCK
    return path if path.is_file() else None


def reinstall_command() -> str:
    """The command that installs the tested versions into this Python's environment."""
    python = sys.executable or "python"
    lock = _lock_path()
    if lock is not None:
        return f"{python} -m pip install -r {lock}"
    pair = " ".join(f"'{name}=={version}'" for name, version in TESTED.items())
    return f"{python} -m pip install {pair}   (the full tested set: requirements.lock in the course repository)"


def _versions() -> str:
    found = ", ".join(f"{name} {installed(name) or 'not installed'}" for name in TESTED)
    tested = " + ".join(f"{name} {version}" for name, version in TESTED.items())
    return f"installed: {found}; tested: {tested}"


def _last_line(exc: BaseException) -> str:
    """The most specific message of an exception chain (the linker's 'undefined symbol: ...' for a bad pair)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    return f"{type(exc).__name__}: {lines[-1]}"


def check_torch() -> Check:
    import torch  # by design: the check is the import

    x = torch.ones(4, 4)
    if float((x @ x).sum()) != 64.0:
        return Check("torch", False, "a 4 x 4 matrix product gave a wrong result", reinstall_command())
    return Check("torch", True, f"torch {torch.__version__}, {torch.get_num_threads()} threads")


def check_torchaudio() -> Check:
    try:
        import torchaudio  # by design: the check is the import

        from course.features import mfcc_deltas  # by design: the check is the import

        feats = mfcc_deltas(np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1)
    except (OSError, ImportError, RuntimeError) as exc:
        return Check("torchaudio", False,
                     f"its compiled library does not load beside this torch ({_last_line(exc)}); {_versions()}",
                     reinstall_command())
    return Check("torchaudio", True, f"torchaudio {torchaudio.__version__}: MFCC + deltas {feats.shape[1]}-d")


def check_soundfile() -> Check:
    import soundfile as sf  # by design: the check is the import

    from course.audio import load_audio, write_wav  # by design: the check is the import

    buf = io.BytesIO()
    write_wav(buf, np.zeros(1600, np.float32))
    buf.seek(0)
    x, rate = sf.read(buf, dtype="float32")
    if len(x) != 1600 or rate != 16000:
        return Check("soundfile", False, f"a WAV round trip gave {len(x)} samples at {rate} Hz", reinstall_command())
    del load_audio  # imported only to prove the course's audio module loads
    return Check("soundfile", True, f"soundfile {sf.__version__}, libsndfile {sf.__libsndfile_version__}")


def check_espeak() -> Check:
    from course.synth import synthesize  # by design: the check is the import

    syn = synthesize("test", voice="en-us")
    if len(syn.waveform) == 0 or not syn.phones:
        return Check("eSpeak NG", False, "synthesis returned no audio or no phones",
                     f"{sys.executable} -m pip install --force-reinstall espeakng-loader")
    return Check("eSpeak NG", True, f"espeakng-loader {installed('espeakng-loader')}: 'test' -> "
                                    f"{' '.join(p.label for p in syn.phones if p.label)}")


def check_model(name: str) -> Check:
    import torch  # by design: the check is the import
    from transformers.utils import logging as hf_logging  # by design: the check is the import

    from course.features import extract  # by design: the check is the import
    from course.models import load_model  # by design: the check is the import

    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # one "Loading weights" bar per model would bury the report
    try:
        model, processor = load_model(name)
    finally:
        if shown:
            hf_logging.enable_progress_bar()
    with torch.no_grad():
        (rep,) = extract(model, processor, [np.zeros(8000, np.float32)], progress=False)
    n_states, _, dim = rep.hidden_states.shape
    return Check(f"model {name}", True, f"loads and runs: {n_states} hidden states of {dim} dimensions")


def _guard(name: str, fn: Callable[[], Check]) -> Check:
    """Run one check; an unexpected exception is a failed check, not a traceback."""
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - every failure becomes a readable line
        return Check(name, False, _last_line(exc), reinstall_command())


def diagnose(models: bool = True) -> list[Check]:
    """Load every compiled piece the course needs; one :class:`Check` per piece.

    Parameters
    ----------
    models : bool
        Also load each shipped model and run it on half a second of silence.
    """
    checks = [_guard("torch", check_torch), _guard("torchaudio", check_torchaudio),
              _guard("soundfile", check_soundfile), _guard("eSpeak NG", check_espeak)]
    if models:
        from course.models import SHIPPED, ModelNotAvailableError, shipped_path  # by design: the check is the import

        for name in SHIPPED:
            try:
                shipped_path(name)
            except ModelNotAvailableError as exc:
                checks.append(Check(f"model {name}", False, str(exc), f"speech-course models train {name}"))
                continue
            checks.append(_guard(f"model {name}", lambda name=name: check_model(name)))
    return checks


def report(checks: list[Check]) -> str:
    """The checks as lines a learner can act on."""
    lines = []
    for c in checks:
        lines.append(f"  {'ok  ' if c.ok else 'FAIL'}  {c.name}: {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"        fix: {c.fix}")
    failed = [c.name for c in checks if not c.ok]
    lines.append(f"{len(checks) - len(failed)} of {len(checks)} checks passed"
                 + (f"; failed: {', '.join(failed)}" if failed else ""))
    return "\n".join(lines)
