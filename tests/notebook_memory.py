"""Peak resident memory of a reference solution's kernel: the measurement behind the course's 1.5 GB notebook budget.

The same approach as ``course.bench.measure_notebook`` (used by ``test_reference_solution_runs_within_1_5_gb``):
append a cell that prints the kernel's ``VmHWM`` (peak resident set size, from ``/proc/self/status``) and execute the
notebook top to bottom with ``course.grading.build.execute_notebook`` (a fresh kernel, in a scratch copy of the
assignment's data files). Run as a script it prints the Markdown table of docs/binder.md::

    nice -n 19 .venv/bin/python tests/notebook_memory.py [ASSIGNMENT ...]
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"


def peak_rss_kb(assignment: str) -> tuple[int, float]:
    """Kernel peak RSS (kB) and wall time (s) of ``solutions/<assignment>.ipynb`` executed fresh."""
    from course.grading.build import execute_notebook
    from course.grading.notebooks import read_notebook

    nb = read_notebook(ROOT / "solutions" / f"{assignment}.ipynb")
    nb.cells.append(type(nb.cells[0])(cell_type="code", source=PROBE, metadata={}, outputs=[], execution_count=None,
                                      id="probe"))
    start = time.perf_counter()
    execute_notebook(nb, ROOT / "autograder" / "source" / assignment)
    return int(nb.cells[-1].outputs[0].text), time.perf_counter() - start


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
