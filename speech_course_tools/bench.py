"""Benchmarks that print figures (run them; they assert nothing about speed).

``speech-course models bench`` measures, per model, hidden-state extraction
throughput (seconds of audio processed per second of wall time) and the peak
resident memory of a fresh process that loads the model and extracts.
:func:`notebook_benchmarks` measures each solution notebook's wall time and its
kernel's peak resident memory, each in a fresh process (used by ``speech-course
bench notebooks``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from course.corpus import load_corpus
from course.features import extract
from course.grading.layout import repo_root
from course.grading.memory import peak_rss_kb
from course.models import SHIPPED, load_model
from course.similarity import feature_space_linear_cka


def _one_extraction(name: str, n_utterances: int, batch_size: int) -> dict:
    """Run in a fresh process: load, extract, report."""

    torch.set_num_threads(2)
    corpus = load_corpus()
    utts = list(corpus.utterances(split="test", limit=n_utterances))
    audio_seconds = sum(u.duration for u in utts)
    t0 = time.perf_counter()
    model, processor = load_model(name)
    load_s = time.perf_counter() - t0
    extract(model, processor, utts[:2], batch_size=batch_size, progress=False)  # warm-up
    t0 = time.perf_counter()
    reps = extract(model, processor, utts, batch_size=batch_size, progress=False)
    wall = time.perf_counter() - t0
    return {
        "model": name,
        "utterances": len(utts),
        "audio_seconds": round(audio_seconds, 1),
        "load_seconds": round(load_s, 2),
        "extract_seconds": round(wall, 2),
        "audio_seconds_per_second": round(audio_seconds / wall, 1),
        "layers": int(reps[0].hidden_states.shape[0]),
        "peak_rss_mb": round(peak_rss_kb() / 1024, 0),
    }


def extraction_benchmarks(names: list[str] | None = None, n_utterances: int = 64, batch_size: int = 8) -> list[dict]:
    """Benchmark extraction for each model in its own process; print a table and return the rows."""

    rows = []
    for name in names or list(SHIPPED):
        code = ("import json, sys; from speech_course_tools.bench import _one_extraction; "
                f"print(json.dumps(_one_extraction({name!r}, {n_utterances}, {batch_size})))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"Benchmark of {name} failed:\n{out.stderr[-2000:]}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    header = ["model", "utterances", "audio_seconds", "extract_seconds", "audio_seconds_per_second", "peak_rss_mb"]
    print(" | ".join(header))
    for r in rows:
        print(" | ".join(str(r[h]) for h in header))
    return rows


# --------------------------------------------------------------------------
# Solution notebooks: wall time and peak memory

#: The course's budget for one reference solution, on the reference machine (below). The memory budget is checked by
#: tests/test_grading_assignments.py; the time budget by the ``notebooks`` benchmark, after calibration.
NOTEBOOK_MAX_SECONDS = 60
NOTEBOOK_MAX_RSS_KB = 1_500_000

#: Seconds that :func:`calibration_workload` took on the machine where the notebook budgets were set (a 2-core AMD
#: EPYC, 2026-11-26; the feature-space linear CKA row of docs/benchmarks.md, n = 5 000, 768-d, one thread).
REFERENCE_CALIBRATION_SECONDS = 0.214


def calibration_workload(seed: int = 0) -> float:
    """Seconds (best of 3) for a fixed one-thread computation: linear CKA between two 5 000 x 768 matrices.

    The same machine class can differ threefold in speed (two "2-core" machines of this project did), so a wall
    time means little without the machine's time for a fixed task. Dividing by
    :data:`REFERENCE_CALIBRATION_SECONDS` gives the machine's slowness relative to the reference machine.
    """

    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal((2, 5000, 768))
    best = float("inf")
    with threadpool_limits(limits=1):
        for _ in range(3):
            start = time.perf_counter()
            feature_space_linear_cka(x, y)
            best = min(best, time.perf_counter() - start)
    return best


def machine_factor() -> float:
    """How much slower this machine is than the reference machine (2.0: twice as slow)."""
    return calibration_workload() / REFERENCE_CALIBRATION_SECONDS


def measure_notebook(path: str | Path, data_dir: str | Path | None = None) -> dict:
    """Execute a notebook top to bottom and report its wall time and its kernel's peak resident memory.

    The notebook runs as the course builds its solutions (:func:`course.grading.build.execute_notebook`:
    a fresh kernel, a scratch copy of ``data_dir``), with one cell appended that reads the kernel's
    ``VmHWM`` from ``/proc/self/status``.

    Parameters
    ----------
    path : path
        The notebook (``.ipynb``).
    data_dir : path, optional
        Folder whose files the notebook may read (default: the notebook's own folder).

    Returns
    -------
    dict
        ``notebook`` (file name), ``seconds`` (wall time, kernel start included) and ``peak_rss_kb``.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell fails.
    """
    # The extraction benchmark's child process imports this module and reports its own peak memory: keep the
    # notebook machinery (nbformat, nbclient) out of it.
    from course.grading.build import execute_measured  # start-up: see above
    from course.grading.notebooks import read_notebook  # start-up: see above

    path = Path(path)
    nb = read_notebook(path)
    start = time.perf_counter()
    _, peak = execute_measured(nb, Path(data_dir) if data_dir is not None else path.parent)
    seconds = time.perf_counter() - start
    return {"notebook": path.name, "seconds": round(seconds, 2), "peak_rss_kb": peak}


def notebook_benchmarks(paths: list[str | Path] | None = None, course_dir: str | Path | None = None,
                        timeout: float = 900) -> list[dict]:
    """Measure each solution notebook in its own fresh process (:func:`measure_notebook`).

    Parameters
    ----------
    paths : list of paths, optional
        Notebooks to run (default: every ``solutions/*.ipynb`` of the repository, in name order).
    course_dir : path, optional
        nbgrader course directory; a notebook ``NN_topic.ipynb`` reads ``course_dir/source/NN_topic/``
        (default: the repository's ``autograder/``).
    timeout : float
        Seconds one notebook may take before its process is killed.

    Returns
    -------
    list of dict
        One row per notebook: ``notebook``, ``seconds``, ``peak_rss_kb`` and, if it failed, ``error``.
    """
    root = repo_root()
    course = Path(course_dir) if course_dir is not None else root / "autograder"
    notebooks = [Path(p) for p in paths] if paths is not None else sorted((root / "solutions").glob("*.ipynb"))
    rows = []
    for nb in notebooks:
        data = course / "source" / nb.stem
        data = data if data.is_dir() else nb.parent
        code = ("import json; from speech_course_tools.bench import measure_notebook; "
                f"print(json.dumps(measure_notebook({str(nb)!r}, {str(data)!r})))")
        try:
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            rows.append({"notebook": nb.name, "seconds": None, "peak_rss_kb": None,
                         "error": f"did not finish in {timeout:.0f} s"})
            continue
        if out.returncode != 0:
            lines = [line for line in out.stderr.strip().splitlines() if line.strip()]
            rows.append({"notebook": nb.name, "seconds": None, "peak_rss_kb": None,
                         "error": lines[-1] if lines else f"exit status {out.returncode}"})
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows
