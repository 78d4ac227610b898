"""Running untrusted notebook code: resource limits and a bubblewrap sandbox.

A graded kernel is started through :func:`wrap_kernel_command`, which returns
the command line that launches it:

* ``bwrap`` mode (Linux with `bubblewrap <https://github.com/containers/bubblewrap>`_):
  the kernel sees only the system directories, the Python installation, the
  ``course`` package, the corpus cache and its own working directory. It has
  no network (only a private loopback), its own PID namespace, an empty
  environment apart from a few variables set here, and a small ``/tmp``. The
  course's ``autograder/`` and ``solutions/``, the gradebook, other students'
  submissions and the grading output are simply not there.
* ``none`` mode (bubblewrap missing or unusable): only the resource limits
  apply. :func:`resolve_mode` warns loudly when it falls back.

In both modes :mod:`course.grading.limits` sets the resource limits (memory,
CPU time, file size, processes) right before the kernel starts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import course
from course.errors import CourseError

#: Sandbox modes accepted by :func:`resolve_mode`.
MODES = ("auto", "bwrap", "none")

FALLBACK_WARNING = (
    "bubblewrap (bwrap) is not available or not usable here, so student code runs WITHOUT filesystem and "
    "network isolation: it can read anything your user can read (including autograder/ with the hidden tests) "
    "and reach the network. Only the time, memory and process limits apply. Install it with "
    "`sudo apt-get install bubblewrap` (Debian/Ubuntu) and grade again."
)


class SandboxError(CourseError, ValueError):
    """The requested sandbox cannot be used here (a ValueError: the option does not fit this machine)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one graded notebook.

    Attributes
    ----------
    memory_bytes : int
        Cap on the kernel's data memory (``RLIMIT_DATA``: heap and anonymous
        mappings, which is where NumPy and PyTorch allocate).
    cell_timeout : int
        Seconds one cell may run before it is interrupted.
    notebook_timeout : int
        Seconds the whole grading of one notebook may take before it is killed.
    max_processes : int
        Processes and threads the kernel may create (bwrap mode only: outside a
        user namespace the count would include all of the grader's processes).
    max_file_bytes : int
        Largest file the kernel may write.
    tmp_bytes : int
        Size of the sandbox's private ``/tmp`` (bwrap mode).
    output_bytes : int
        Output kept per cell (the notebook as a whole keeps 16 times as
        much); the rest is dropped with a note.
    """

    memory_bytes: int = 3 * 1024**3
    cell_timeout: int = 60
    notebook_timeout: int = 600
    max_processes: int = 512
    max_file_bytes: int = 512 * 1024**2
    tmp_bytes: int = 256 * 1024**2
    output_bytes: int = 1_000_000

    @property
    def cpu_seconds(self) -> int:
        """CPU-time limit of the kernel: a backstop in case it outlives the grader."""
        return 4 * self.notebook_timeout


def parse_size(text: str) -> int:
    """Parse ``"3G"``, ``"512M"``, ``"200k"`` or a plain number of bytes.

    Raises
    ------
    ValueError
        If the text is not a positive size.
    """
    units = {"k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
    s = text.strip().lower().removesuffix("b").removesuffix("i")
    factor = units.get(s[-1:], 1)
    number = s[:-1] if s[-1:] in units else s
    try:
        value = float(number) * factor
    except ValueError:
        raise ValueError(f"Not a size: {text!r} (use e.g. 3G, 512M or a number of bytes).") from None
    if value <= 0:
        raise ValueError(f"Size must be positive, got {text!r}.")
    return int(value)


def bwrap_path() -> str | None:
    """Path of a *working* ``bwrap``, or None.

    bubblewrap can be installed yet unusable (for example in a container that
    forbids user namespaces), so this runs a trivial sandbox to make sure.
    """
    exe = shutil.which("bwrap")
    if exe is None or not sys.platform.startswith("linux"):
        return None
    probe = [exe, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"]
    try:
        ok = subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return exe if ok else None


def resolve_mode(requested: str = "auto", warn: Callable[[str], None] | None = None) -> str:
    """Turn a requested sandbox mode into the one that will be used.

    Parameters
    ----------
    requested : {"auto", "bwrap", "none"}
        ``auto`` uses bubblewrap when it works and otherwise falls back to
        ``none`` with a warning; ``bwrap`` fails if it does not work; ``none``
        runs without isolation (limits only), also with a warning.
    warn : callable, optional
        Receives the warning text (default: print to stderr).

    Raises
    ------
    SandboxError
        If ``bwrap`` was requested and is unavailable.
    """
    if requested not in MODES:
        raise ValueError(f"Sandbox mode must be one of {', '.join(MODES)}, got {requested!r}.")
    warn = warn or (lambda text: print(f"speech-course: warning: {text}", file=sys.stderr))
    if requested == "none":
        warn("sandbox disabled (--sandbox none): student code runs without filesystem and network isolation.")
        return "none"
    if bwrap_path() is not None:
        return "bwrap"
    if requested == "bwrap":
        raise SandboxError("bubblewrap (bwrap) is not installed or cannot create a sandbox here.")
    warn(FALLBACK_WARNING)
    return "none"


def python_paths() -> list[Path]:
    """Directories the kernel's Python needs: the environment, its base installation, the course package."""

    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(course.__file__).resolve().parent}
    exe = Path(sys.executable)
    paths.add(exe.resolve().parent.parent)  # a venv's python is a link into the base installation
    return sorted(paths)


def _system_binds() -> list[str]:
    """bwrap arguments that show the system directories read-only (keeping merged-/usr symlinks)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64"):
        p = Path("/") / name
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), str(p)]
        elif p.is_dir():
            args += ["--ro-bind", str(p), str(p)]
    for f in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "fonts", "passwd", "group", "nsswitch.conf",
              "localtime", "alternatives"):
        args += ["--ro-bind-try", f"/etc/{f}", f"/etc/{f}"]
    return args


def kernel_environment(cache_dir: Path | None) -> dict[str, str]:
    """The whole environment a sandboxed kernel gets (nothing is inherited from the grader).

    ``PYTHONPATH`` points at the directory holding the grader's own ``course``
    package, so the kernel imports the same copy (it may not be the installed
    one, e.g. in a Gradescope bundle).
    """

    env = {
        "PYTHONPATH": str(Path(course.__file__).resolve().parent.parent),
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp/home",
        "IPYTHONDIR": "/tmp/home/.ipython",
        "MPLCONFIGDIR": "/tmp/home/.matplotlib",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NBGRADER_EXECUTION": "autograde",
    }
    if cache_dir is not None:
        env["SPEECH_COURSE_CACHE"] = str(cache_dir)
    return env


def limits_command(limits: Limits, processes: bool) -> list[str]:
    """``python -m course.grading.limits ... --`` prefix that applies ``limits`` and then runs the kernel."""
    cmd = [sys.executable, "-m", "course.grading.limits", "--memory", str(limits.memory_bytes),
           "--cpu", str(limits.cpu_seconds), "--file-size", str(limits.max_file_bytes)]
    if processes:
        cmd += ["--processes", str(limits.max_processes)]
    return cmd + ["--"]


def wrap_kernel_command(
    kernel: Sequence[str],
    mode: str,
    limits: Limits,
    writable: Sequence[Path],
    readonly: Sequence[Path] = (),
    cwd: Path | None = None,
    cache_dir: Path | None = None,
) -> list[str]:
    """Command line that runs ``kernel`` inside the sandbox with ``limits``.

    Parameters
    ----------
    kernel : sequence of str
        The kernel command (``python -m ipykernel_launcher -f CONNECTION_FILE``).
    mode : {"bwrap", "none"}
        From :func:`resolve_mode`.
    writable : sequence of Path
        Directories the kernel may write (its working directory and the
        directory of its connection file and sockets).
    readonly : sequence of Path
        Further directories the kernel may read (the Python installation, the
        ``course`` package and ``cache_dir`` are always added).
    cwd : Path, optional
        Working directory inside the sandbox.
    cache_dir : Path, optional
        The course cache (corpus); visible read-only as ``SPEECH_COURSE_CACHE``.
    """
    if mode == "none":
        return limits_command(limits, processes=False) + list(kernel)
    if mode != "bwrap":
        raise ValueError(f"Unknown sandbox mode {mode!r}.")
    exe = bwrap_path() or "bwrap"
    args = [exe, "--unshare-all", "--die-with-parent", "--cap-drop", "ALL", *_system_binds()]
    # the private /tmp first: binds below it (the Python, the corpus or the job may live in /tmp) must stay visible
    args += ["--proc", "/proc", "--dev", "/dev", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
             "--dir", "/tmp/home"]
    ro = [*python_paths(), *readonly] + ([cache_dir] if cache_dir is not None else [])
    for p in sorted({Path(p) for p in ro}):
        args += ["--ro-bind-try", str(p), str(p)]
    for p in writable:
        args += ["--bind", str(p), str(p)]
    if cwd is not None:
        args += ["--chdir", str(cwd)]
    args += ["--clearenv"]
    for key, value in kernel_environment(cache_dir).items():
        args += ["--setenv", key, value]
    return args + ["--"] + limits_command(limits, processes=True) + list(kernel)
