"""Apply resource limits, then replace this process with a command.

Used as a launcher in front of every graded kernel::

    python -m course.grading.limits --memory BYTES --cpu SECONDS --file-size BYTES [--processes N] -- CMD ...

On Linux the process also asks to be killed when its parent (the grader)
dies, so that a kernel never outlives a grading run that was stopped.

The command runs with ``ARROW_DEFAULT_MEMORY_POOL=system`` unless the caller
set it: pyarrow's default allocator (mimalloc) reserves 1 GiB of writable
address space the first time it is used (pandas uses it to read the corpus
manifest), and that reservation counts against ``RLIMIT_DATA`` although
nothing is stored in it, so it took a third of the default 3 GB cap.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import resource
import signal
import sys
from typing import Sequence

_PR_SET_PDEATHSIG = 1


def apply_limits(memory: int | None, cpu: int | None, file_size: int | None, processes: int | None) -> None:
    """Lower this process's resource limits (``None`` leaves a limit alone).

    ``memory`` limits ``RLIMIT_DATA`` rather than the address space: PyTorch
    reserves far more address space than it uses and aborts under a tight
    ``RLIMIT_AS``, while ``RLIMIT_DATA`` counts the heap and anonymous
    mappings that large arrays live in.
    """
    wanted = {
        resource.RLIMIT_DATA: memory,
        resource.RLIMIT_CPU: cpu,
        resource.RLIMIT_FSIZE: file_size,
        resource.RLIMIT_NPROC: processes,
        resource.RLIMIT_CORE: 0,
    }
    for which, value in wanted.items():
        if value is None:
            continue
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        # CPU: SIGXCPU at the soft limit, SIGKILL a little later at the hard one
        new_hard = value + 10 if which == resource.RLIMIT_CPU else value
        if hard != resource.RLIM_INFINITY:
            new_hard = min(new_hard, hard)
        resource.setrlimit(which, (value, new_hard))


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent exits (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m course.grading.limits", description=__doc__)
    parser.add_argument("--memory", type=int, default=None, help="bytes of data memory (RLIMIT_DATA)")
    parser.add_argument("--cpu", type=int, default=None, help="seconds of CPU time (RLIMIT_CPU)")
    parser.add_argument("--file-size", type=int, default=None, help="largest file in bytes (RLIMIT_FSIZE)")
    parser.add_argument("--processes", type=int, default=None, help="processes/threads (RLIMIT_NPROC)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ARGS...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    apply_limits(args.memory, args.cpu, args.file_size, args.processes)
    die_with_parent()
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")  # see the module docstring
    os.execvp(command[0], command)


if __name__ == "__main__":
    main()
