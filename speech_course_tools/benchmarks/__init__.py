"""Benchmarks and reference cross-checks: every course method against its reference, side by side, in one run.

Run ``speech-course bench [NAME ...] [--quick]`` (or ``python -m speech_course_tools.benchmarks``; ``--list`` names
the benchmarks).
Each method benchmark prints, per case, the maximum absolute difference from the reference and the time
ratio ours / reference on the same inputs; the system benchmarks print extraction and grading throughput
and each solution notebook's wall time and peak memory. ``docs/benchmarks.md`` records the latest figures.

Adding a benchmark (e.g. for a new method of Part II): write the reference in
``references/`` (or call the reference library), write a function decorated with :func:`core.benchmark` in a
module of this package, and add the module to :data:`MODULES`.
Benchmarks whose ``requires`` modules do not import are reported as skipped.

Nothing in ``course/`` imports this package: the references are used only for comparison.
"""

from __future__ import annotations

import importlib

from speech_course_tools.benchmarks.core import REGISTRY, Benchmark, Context, Row, benchmark

#: Modules that register benchmarks, in the order their benchmarks run.
MODULES = (
    "speech_course_tools.benchmarks.similarity",
    "speech_course_tools.benchmarks.abx",
    "speech_course_tools.benchmarks.probing",
    "speech_course_tools.benchmarks.attribution",
    "speech_course_tools.benchmarks.context_mixing",
    "speech_course_tools.benchmarks.system",
    "speech_course_tools.benchmarks.families",
)


def load_all() -> dict[str, Benchmark]:
    """Import every benchmark module (registering its benchmarks) and return the registry."""
    for mod in MODULES:
        importlib.import_module(mod)
    return REGISTRY


__all__ = ["MODULES", "REGISTRY", "Benchmark", "Context", "Row", "benchmark", "load_all"]
