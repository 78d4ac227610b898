"""Whole-course figures, each measured in fresh processes: extraction, grading and the solution notebooks.

These reuse the measuring code of :mod:`speech_course_tools.bench` and :mod:`course.grading.bench` rather than
repeating it; this module only turns their results into rows.
"""

from __future__ import annotations

import contextlib
import io
import re
from typing import Iterator

from course.grading.layout import repo_root
from speech_course_tools.benchmarks.core import Context, Row, benchmark

ROOT = repo_root()
#: The course's total wall-time goal for all solution notebooks, on 2 cores.
COURSE_GOAL_S = 600


@benchmark("extraction", "hidden-state extraction throughput per shipped model (speech_course_tools.bench)",
           requires=("speech_course_tools.bench", "course.models"), group="system")
def bench_extraction(ctx: Context) -> Iterator[Row]:
    """``speech-course models bench`` for every shipped model, one fresh process each."""
    from speech_course_tools.bench import extraction_benchmarks  # by design: a benchmark loads what it measures

    n_utts = ctx.size(64, 8)
    with contextlib.redirect_stdout(io.StringIO()):  # it prints its own table; ours has the same figures
        rows = extraction_benchmarks(None, n_utterances=n_utts, batch_size=8)
    for r in rows:
        yield Row("extraction", r["model"], f"{r['utterances']} test utterances, {r['audio_seconds']} s of audio",
                  ours_s=r["extract_seconds"],
                  note=f"{r['audio_seconds_per_second']} s of audio per second; {r['layers']} hidden states; "
                       f"loading {r['load_seconds']} s; peak RSS of the process {r['peak_rss_mb']:.0f} MB; "
                       "batch 8, 2 torch threads",
                  extra=r)


_PER_MINUTE = re.compile(r"(\d+) submissions, (\d+) worker\(s\):\s*([\d.]+) s -> \s*([\d.]+) notebooks per minute")


@benchmark("grading", "grading throughput for N workers (course.grading.bench, speech-course bench-grading)",
           requires=("course.grading.bench",), group="system")
def bench_grading(ctx: Context) -> Iterator[Row]:
    """The grading benchmark of ``speech-course bench-grading`` on the orientation assignment."""
    from course.grading.bench import bench_grading as run_grading_bench  # by design: a benchmark loads what it measures

    submissions = ctx.size(6, 1)
    workers = ctx.size([1, 2], [1])
    sandbox = ctx.size("auto", "none")  # quick: no second single-notebook measurement inside the sandbox
    report = run_grading_bench(ROOT / "autograder", "00_orientation", submissions=submissions, workers=workers,
                               sandbox=sandbox, repeats=1)
    lines = report.splitlines()
    yield Row("grading", lines[0], note="speech-course bench-grading --submissions "
                                        f"{submissions} --workers {' '.join(map(str, workers))} --sandbox {sandbox} "
                                        "(repeats 1)")
    for line in lines[1:]:
        m = _PER_MINUTE.search(line)
        if m:
            n, w, seconds, per_minute = int(m[1]), int(m[2]), float(m[3]), float(m[4])
            yield Row("grading", f"speech-course grade, {w} worker(s)", f"{n} submissions", ours_s=seconds,
                      note=f"{per_minute} notebooks per minute (preparation included)",
                      extra={"workers": w, "submissions": n, "notebooks_per_minute": per_minute})
        else:
            yield Row("grading", line.strip())


@benchmark("notebooks", "each solution notebook's wall time and peak memory, and the course's total",
           requires=("speech_course_tools.bench", "course.grading.build"), group="system")
def bench_notebooks(ctx: Context) -> Iterator[Row]:
    """Execute every ``solutions/*.ipynb`` in a fresh process (``--quick``: the orientation notebook only)."""
    from speech_course_tools.bench import (  # by design: a benchmark loads what it measures
        NOTEBOOK_MAX_RSS_KB, NOTEBOOK_MAX_SECONDS, REFERENCE_CALIBRATION_SECONDS, machine_factor, notebook_benchmarks)

    paths = sorted((ROOT / "solutions").glob("*.ipynb"))
    if ctx.quick:
        paths = paths[:1]
    factor = machine_factor()
    yield Row("notebooks", "this machine vs the reference machine", ours_s=factor * REFERENCE_CALIBRATION_SECONDS,
              note=f"calibration (one-thread linear CKA, 5 000 x 768) {factor:.2f}x the reference machine's time; "
                   "the time goals below are judged on wall time divided by this factor", extra={"factor": factor})
    total, peak, failed = 0.0, 0, []
    budget = (f"< {NOTEBOOK_MAX_SECONDS} s on the reference machine (wall time / {factor:.2f}) and "
              f"< {NOTEBOOK_MAX_RSS_KB / 1e6:.1f} GB (the course's notebook budget)")
    for r in (row for path in paths for row in notebook_benchmarks([path])):  # one at a time: rows as they come
        if r.get("error"):
            failed.append(r["notebook"])
            yield Row("notebooks", r["notebook"], goal=budget, met=False, note=f"FAILED: {r['error']}", extra=r)
            continue
        total += r["seconds"]
        peak = max(peak, r["peak_rss_kb"])
        yield Row("notebooks", r["notebook"], ours_s=r["seconds"], goal=budget,
                  met=r["seconds"] / factor < NOTEBOOK_MAX_SECONDS and r["peak_rss_kb"] < NOTEBOOK_MAX_RSS_KB,
                  note=f"{r['seconds'] / factor:.1f} s on the reference machine; peak RSS of the kernel "
                       f"{r['peak_rss_kb'] / 1024:.0f} MB", extra=r | {"reference_seconds": r["seconds"] / factor})
    goal = f"< {COURSE_GOAL_S / 60:.0f} min on 2 cores (the reference machine)"
    done = len(paths) - len(failed)
    which = f"{done} of {len(paths)} notebooks" + (", quick: the first only" if ctx.quick else "")
    yield Row("notebooks", f"whole course ({which})",
              ours_s=total, goal=goal, met=(total / factor < COURSE_GOAL_S and not failed) if not ctx.quick else None,
              note=f"largest peak RSS {peak / 1024:.0f} MB; notebooks run one after the other, kernel start "
                   "included" + (f"; failed: {', '.join(failed)}" if failed else ""))
