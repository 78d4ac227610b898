"""Peak resident memory of a reference solution's kernel: the measurement behind the course's 1.5 GB notebook budget.

``speech_course_tools.bench.measure_notebook`` (through ``course.grading.build.execute_measured``, as the drift test
measures every solution): append a cell that prints the kernel's ``VmHWM`` (peak resident set size, from
``/proc/self/status``) and execute the notebook top to bottom in a fresh kernel, in a scratch copy of the
assignment's data files. Run as a script it prints the Markdown table of docs/binder.md::

    nice -n 19 .venv/bin/python tests/notebook_memory.py [ASSIGNMENT ...]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def peak_rss_kb(assignment: str) -> tuple[int, float]:
    """Kernel peak RSS (kB) and wall time (s) of ``solutions/<assignment>.ipynb`` executed fresh."""
    from speech_course_tools.bench import measure_notebook

    row = measure_notebook(ROOT / "solutions" / f"{assignment}.ipynb", ROOT / "autograder" / "source" / assignment)
    return row["peak_rss_kb"], row["seconds"]


def main(argv: list[str]) -> int:
    assignments = argv or sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
    print("| notebook | kernel peak RSS | run time | load average (1 min) at the end |")
    print("| --- | --- | --- | --- |")
    for a in assignments:
        kb, seconds = peak_rss_kb(a)
        print(f"| `{a}` | {kb / 1e6:.2f} GB | {seconds:.0f} s | {os.getloadavg()[0]:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
