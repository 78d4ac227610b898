"""``speech-course bench-grading``: grading throughput and the cost of the sandbox.

Grades copies of an assignment's reference solution and reports

* plain execution: the notebook run with nbclient (no nbgrader, no sandbox);
* seconds to grade one notebook alone, without and with the sandbox
  (nbgrader, the kernel and feedback; not the once-per-run preparation),
  and the sandbox's overhead;
* end-to-end throughput of ``speech-course grade`` in notebooks per minute
  for each worker count.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from course.grading.assignments import prepare_assignment
from course.grading.build import execute_notebook
from course.grading.grade import GradeOptions, course_cache, grade_class, run_submission
from course.grading.layout import check_course_dir
from course.grading.notebooks import read_notebook, solution_notebook, write_notebook
from course.grading.sandbox import Limits, resolve_mode
from course.grading.submissions import Submission


def _per_notebook(prep, solution_path: Path, mode: str, limits: Limits, work: Path, repeats: int) -> float:
    """Mean seconds to grade one notebook alone (nbgrader, kernel, feedback; not the per-run preparation)."""
    times = []
    for i in range(repeats):
        job = work / f"job-{mode}-{i}"
        job.mkdir()
        start = time.perf_counter()
        res = run_submission(Submission("bench", prep.id, solution_path), prep, job, mode, limits, course_cache(True))
        times.append(time.perf_counter() - start)
        if res.status != "ok" or res.score != res.max_score:
            raise RuntimeError(f"the reference solution did not score full marks while benchmarking: {res}")
    return sum(times) / len(times)


def _grade_copies(course_dir: Path, solution_path: Path, assignment: str, n: int, workers: int, sandbox: str,
                  limits: Limits, work: Path) -> float:
    """Seconds for ``speech-course grade`` on ``n`` copies of the solution (all must score full marks)."""
    subs = work / f"subs-{workers}"
    for i in range(n):
        d = subs / f"student{i:03d}" / assignment
        d.mkdir(parents=True)
        (d / f"{assignment}.ipynb").write_bytes(solution_path.read_bytes())
    options = GradeOptions(course_dir=course_dir, limits=limits, workers=workers, sandbox=sandbox, record=False,
                           progress=False)
    start = time.perf_counter()
    rows = grade_class(subs, work / f"out-{workers}", options, say=lambda _: None)
    elapsed = time.perf_counter() - start
    bad = [r for r in rows if r.status != "ok" or r.score != r.max_score]
    if bad:
        raise RuntimeError(f"the reference solution did not score full marks while benchmarking: {bad[0]}")
    return elapsed


def bench_grading(course_dir: Path, assignment: str, submissions: int = 8, workers: list[int] = (1, 2),
                  limits: Limits = Limits(), sandbox: str = "auto", repeats: int = 2) -> str:
    """Run the benchmark and return its report (a few lines of text)."""
    course_dir = check_course_dir(course_dir)
    mode = resolve_mode(sandbox)
    lines = [f"Grading benchmark: {assignment} (reference solution), sandbox {mode}, {os.cpu_count()} CPU cores"]
    with tempfile.TemporaryDirectory(prefix="speech-course-bench-") as tmp:
        work = Path(tmp)
        prep = prepare_assignment(course_dir, assignment, work / "prep")
        solution_path = work / f"{assignment}.ipynb"
        write_notebook(solution_notebook(read_notebook(prep.source), read_notebook(prep.release)), solution_path)
        plain = []
        for _ in range(repeats):
            start = time.perf_counter()
            execute_notebook(read_notebook(solution_path), prep.data_dir)
            plain.append(time.perf_counter() - start)
        base = sum(plain) / len(plain)
        lines.append(f"  plain execution (nbclient, no nbgrader, no sandbox): {base:5.1f} s per notebook")
        single = {}
        for m in dict.fromkeys(["none", mode]):
            single[m] = _per_notebook(prep, solution_path, m, limits, work, repeats)
            lines.append(f"  graded alone, sandbox {m:5s} (nbgrader + kernel + feedback): {single[m]:5.1f} s "
                         f"per notebook ({single[m] / base:.1f} x plain execution)")
        if mode != "none":
            lines.append(f"  sandbox overhead: {single[mode] - single['none']:+.1f} s per notebook "
                         f"({100 * (single[mode] / single['none'] - 1):+.0f} % of grading without it, "
                         f"{100 * (single[mode] - single['none']) / base:+.0f} % of plain execution)")
        for w in workers:
            elapsed = _grade_copies(course_dir, solution_path, assignment, submissions, w, mode, limits, work)
            lines.append(f"  speech-course grade, {submissions} submissions, {w} worker(s): {elapsed:5.1f} s -> "
                         f"{60 * submissions / elapsed:5.1f} notebooks per minute (including preparation)")
    return "\n".join(lines)
