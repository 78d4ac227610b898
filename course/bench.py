"""Benchmarks that print figures (run them; they assert nothing about speed).

``speech-course models bench`` measures, per model, hidden-state extraction
throughput (seconds of audio processed per second of wall time) and the peak
resident memory of a fresh process that loads the model and extracts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time


def _one_extraction(name: str, n_utterances: int, batch_size: int) -> dict:
    """Run in a fresh process: load, extract, report."""
    import resource

    import torch

    from course.corpus import load_corpus
    from course.features import extract
    from course.models import load_model

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
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 0),
    }


def extraction_benchmarks(names: list[str] | None = None, n_utterances: int = 64, batch_size: int = 8) -> list[dict]:
    """Benchmark extraction for each model in its own process; print a table and return the rows."""
    from course.models import SHIPPED

    rows = []
    for name in names or list(SHIPPED):
        code = ("import json, sys; from course.bench import _one_extraction; "
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
