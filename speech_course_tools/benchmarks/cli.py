"""Command line of the benchmarks: ``speech-course bench [NAME ...] [--quick] [--json FILE] [--markdown FILE]``.

``python -m speech_course_tools.benchmarks`` takes the same arguments.

``speech-course bench`` can reuse it: ``add_arguments(parser)`` on a subparser and ``run`` as its handler,
or ``main(argv)`` directly.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Sequence, TextIO

from speech_course_tools.benchmarks import load_all
from speech_course_tools.benchmarks.core import (
    Context,
    Row,
    fmt_diff,
    fmt_ratio,
    fmt_seconds,
    limit_threads,
    load_average,
    machine_info,
)


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the benchmark options to ``parser`` (a top-level parser or a subcommand's)."""
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="benchmarks to run (default: all; see --list)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes: the whole run in a few minutes (the speed goals stated for realistic "
                             "sizes are then not judged)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed repetitions per side, the minimum is kept (default 3; slow cases stop early)")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS and torch threads inside the method benchmarks (default 1; 0: the libraries' "
                             "defaults). Notebooks, extraction and grading run in their own processes with their "
                             "own settings")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--markdown", type=Path, default=None, metavar="FILE",
                        help="also write the results as Markdown tables (the format of docs/benchmarks.md)")
    return parser


def _print_row(row: Row, out: TextIO) -> None:
    mark = {True: "ok", False: "NOT MET", None: ""}[row.met]
    ratio = fmt_ratio(row.ratio)
    parts = [f"  {row.case}", f"[{row.size}]" if row.size else ""]
    print(" ".join(p for p in parts if p), file=out)
    cols = []
    if row.max_abs_diff is not None:
        cols.append(f"max|Δ| {fmt_diff(row.max_abs_diff)}")
    if row.ours_s is not None:
        cols.append(f"ours {fmt_seconds(row.ours_s)}")
    if row.ref_s is not None:
        cols.append(f"ref {fmt_seconds(row.ref_s)}")
    if ratio:
        cols.append(f"ours/ref {ratio}")
    if row.goal:
        cols.append(f"goal {row.goal}: {mark}")
    if cols:
        print("      " + " | ".join(cols), file=out)
    if row.note:
        print(f"      {row.note}", file=out)
    out.flush()


def _cell(text: str) -> str:
    """Text for a Markdown table cell (pipes escaped)."""
    return str(text).replace("|", "\\|")


def markdown(results: dict, info: dict) -> str:
    """The results as Markdown: one table per benchmark, the machine first."""
    lines = [f"Measured {info['date_utc']} on {info['nproc']} cores ({info['cpu']}), "
             f"{info['memory_mb']} MB RAM; load average at the start {info['loadavg']}.", ""]
    for name, res in results.items():
        lines.append(f"### {name}")
        lines.append("")
        if res.get("skipped"):
            lines += [f"Skipped: {res['skipped']}", ""]
            continue
        if res.get("error"):
            lines += [f"Failed: `{res['error']}`", ""]
        lines.append(f"Load average when it started: {res['load_start']}; {res['seconds']:.0f} s in all.")
        lines.append("")
        lines.append("| case | size | max abs diff | ours | reference | ours / ref | goal | met | note |")
        lines.append("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in res["rows"]:
            met = {True: "yes", False: "**no**", None: ""}[r["met"]]
            cells = [r["case"], r["size"], fmt_diff(r["max_abs_diff"]), fmt_seconds(r["ours_s"]),
                     fmt_seconds(r["ref_s"]), fmt_ratio(r["ratio"]), r["goal"], met, r["note"]]
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        refs = list(dict.fromkeys(r["reference"] for r in res["rows"] if r["reference"]))
        if refs:
            lines.append("")
            lines.append("Reference: " + "; ".join(refs) + ".")
        lines.append("")
    return "\n".join(lines)


def run(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Run the benchmarks named in ``args`` (all by default); exit status 1 on an error or a wrong result."""
    registry = load_all()
    if args.list:
        for b in registry.values():
            why = b.missing()
            print(f"{b.name:16s} {b.description}" + (f"  [skipped here: {why}]" if why else ""), file=out)
        return 0
    unknown = [n for n in args.names if n not in registry]
    if unknown:
        print(f"Unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(registry)}", file=sys.stderr)
        return 2
    names = args.names or list(registry)
    ctx = Context(quick=args.quick, repeats=args.repeats, threads=args.threads or None)
    info = machine_info()
    print(f"Benchmarks ({'quick' if ctx.quick else 'full'} sizes) on {info['nproc']} cores, {info['cpu']}; "
          f"load average {info['loadavg']}; {info['date_utc']}", file=out)
    print(f"Method benchmarks use {ctx.threads or 'default'} thread(s); times are the minimum of up to "
          f"{ctx.repeats} interleaved runs. Ratio = ours / reference (below 1: ours is faster).", file=out)
    results: dict[str, dict] = {}
    failed = False
    start_all = time.perf_counter()
    for name in names:
        bench = registry[name]
        print(f"\n== {name}: {bench.description}", file=out)
        out.flush()
        why = bench.missing()
        if why:
            print(f"  skipped: {why}", file=out)
            results[name] = {"skipped": why, "rows": []}
            continue
        entry: dict = {"rows": [], "load_start": load_average(), "error": None}
        start = time.perf_counter()
        try:
            threads = ctx.threads if bench.group == "methods" else None
            with limit_threads(threads):
                for row in bench.func(ctx):
                    _print_row(row, out)
                    entry["rows"].append(row.as_dict())
                    if row.accurate is False:
                        failed = True
        except Exception as exc:  # noqa: BLE001 (report, go on with the next benchmark)
            failed = True
            entry["error"] = f"{type(exc).__name__}: {exc}"
            print(f"  FAILED: {entry['error']}", file=out)
            traceback.print_exc(file=sys.stderr)
        entry["seconds"] = time.perf_counter() - start
        entry["load_end"] = load_average()
        print(f"  ({entry['seconds']:.0f} s; load average {entry['load_start']} -> {entry['load_end']})", file=out)
        results[name] = entry
    total = time.perf_counter() - start_all
    print(f"\nAll benchmarks: {total:.0f} s; load average at the end {load_average()}.", file=out)
    wrong = [(n, r["case"]) for n, e in results.items() for r in e["rows"] if r["accurate"] is False]
    missed = [(n, r["case"]) for n, e in results.items() for r in e["rows"]
              if r["met"] is False and r["accurate"] is not False]
    errors = [n for n, e in results.items() if e.get("error")]
    for n, case in wrong:
        print(f"  WRONG RESULT: {n}: {case}", file=out)
    for n, case in missed:
        print(f"  goal not met: {n}: {case}", file=out)
    for n in errors:
        print(f"  error: {n}: {results[n]['error']}", file=out)
    report = {"machine": info, "quick": ctx.quick, "threads": ctx.threads, "repeats": ctx.repeats,
              "total_seconds": total, "results": results}
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    if args.markdown:
        args.markdown.write_text(markdown(results, info))
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m speech_course_tools.benchmarks``."""
    parser = add_arguments(argparse.ArgumentParser(
        prog="python -m speech_course_tools.benchmarks",
        description="Every course method against its reference, side by side: maximum absolute difference and "
                    "time ratio ours / reference; extraction and grading throughput; each solution notebook's wall "
                    "time and peak memory."))
    return run(parser.parse_args(argv))
