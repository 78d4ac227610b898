"""The benchmark registry, the result rows and the timing helpers every benchmark shares.

A benchmark is a function ``f(ctx: Context) -> Iterable[Row]`` registered under a
name with :func:`benchmark`. It compares one method of ``course`` with its
reference on the same inputs, in the same process, and yields one
:class:`Row` per case: the maximum absolute difference of the results, the
seconds each side took (the minimum over interleaved repeats, so that both
sides meet the same load) and a goal where docs/benchmarks.md states one.

Extension point for new methods: put the reference implementation in
``references/`` (or call the reference library), write the benchmark in a
module of this package and add that module to
:data:`speech_course_tools.benchmarks.MODULES`. A benchmark whose ``requires`` modules cannot be
imported is reported as skipped, with the reason, instead of failing the run.
"""

from __future__ import annotations

import gc
import importlib
import os
import platform
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits


@dataclass
class Context:
    """What a benchmark is asked to do.

    Attributes
    ----------
    quick : bool
        Small sizes (the whole run in a few minutes) instead of realistic ones.
    repeats : int
        Timed repetitions per side (the minimum is kept).
    threads : int or None
        Threads for NumPy's BLAS and torch inside the method benchmarks (None: the libraries' defaults).
    """

    quick: bool = False
    repeats: int = 3
    threads: int | None = 1

    def size(self, full: Any, quick: Any) -> Any:
        """``quick`` when running quickly, else ``full``."""
        return quick if self.quick else full


@dataclass
class Row:
    """One measured case.

    Attributes
    ----------
    bench : str
        Registered benchmark name.
    case : str
        What was compared (method and variant).
    size : str
        The input size, in words.
    max_abs_diff : float or None
        ``max |ours - reference|`` over every compared number (None: no reference).
    ours_s, ref_s : float or None
        Seconds for our implementation and for the reference.
    reference : str
        What the reference is.
    goal : str
        The goal for this case (docs/benchmarks.md) ("" if none).
    met : bool or None
        Whether the goal is met (None: no goal, or not decidable here).
    tol : float or None
        Largest acceptable ``max_abs_diff``: a larger difference is a correctness failure (the run's exit
        status is 1), whereas a missed speed goal is only reported.
    note : str
        Anything else worth printing (throughput, peak memory, ...).
    extra : dict
        Machine-readable extras for the JSON report.
    """

    bench: str
    case: str
    size: str = ""
    max_abs_diff: float | None = None
    ours_s: float | None = None
    ref_s: float | None = None
    reference: str = ""
    goal: str = ""
    met: bool | None = None
    tol: float | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """Time ours / reference (below 1: ours is faster)."""
        if self.ours_s is None or self.ref_s is None or self.ref_s <= 0:
            return None
        return self.ours_s / self.ref_s

    @property
    def accurate(self) -> bool | None:
        """Whether ``max_abs_diff`` is within ``tol`` (None when there is nothing to compare)."""
        if self.tol is None or self.max_abs_diff is None:
            return None
        return bool(self.max_abs_diff <= self.tol)

    def as_dict(self) -> dict:
        """The row as JSON-ready data (ratio included)."""
        d = asdict(self)
        d["ratio"] = self.ratio
        d["accurate"] = self.accurate
        return d


BenchFunc = Callable[[Context], Iterable[Row]]


@dataclass
class Benchmark:
    """A registered benchmark: its name, function, description and the modules it needs."""

    name: str
    func: BenchFunc
    description: str
    requires: tuple[str, ...] = ()
    group: str = "methods"

    def missing(self) -> str | None:
        """Why the benchmark cannot run here (an import error), or None."""
        for mod in self.requires:
            try:
                importlib.import_module(mod)
            except Exception as exc:  # noqa: BLE001 (any import failure means "skip")
                return f"{mod} is not importable ({type(exc).__name__}: {exc})"
        return None


#: Every registered benchmark, by name, in registration order.
REGISTRY: dict[str, Benchmark] = {}


def benchmark(name: str, description: str, requires: Sequence[str] = (),
              group: str = "methods") -> Callable[[BenchFunc], BenchFunc]:
    """Register ``func`` as the benchmark ``name``.

    Parameters
    ----------
    name : str
        Unique name, used on the command line (``python -m speech_course_tools.benchmarks NAME``).
    description : str
        One line for ``--list``.
    requires : sequence of str
        Modules that must import for the benchmark to run (else it is skipped with the reason).
    group : {"methods", "system"}
        ``methods``: ours vs a reference in this process; ``system``: whole-course figures (extraction, grading,
        notebooks) measured in fresh processes.
    """
    def register(func: BenchFunc) -> BenchFunc:
        if name in REGISTRY:
            raise ValueError(f"A benchmark named {name!r} is already registered.")
        REGISTRY[name] = Benchmark(name, func, description, tuple(requires), group)
        return func

    return register


# --------------------------------------------------------------------------
# Measuring


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    """``(func(), seconds)`` with a garbage collection before the clock starts."""
    gc.collect()
    start = time.perf_counter()
    out = func()
    return out, time.perf_counter() - start


def compare_timed(ours: Callable[[], Any], reference: Callable[[], Any], repeats: int = 3,
                  budget_s: float = 20.0) -> tuple[Any, Any, float, float]:
    """Run both sides up to ``repeats`` times, interleaved; keep the last results and the minimum times.

    Interleaving makes both sides meet the same background load, so the ratio of the minima is
    meaningful on a busy machine even when the absolute times are inflated. Repetition stops early once
    ``budget_s`` seconds have been spent (slow cases are measured once).

    Returns
    -------
    (ours_result, reference_result, ours_seconds, reference_seconds)
    """
    t_ours, t_ref = [], []
    out_ours = out_ref = None
    for _ in range(max(1, repeats)):
        out_ours, t = timed(ours)
        t_ours.append(t)
        out_ref, t = timed(reference)
        t_ref.append(t)
        if sum(t_ours) + sum(t_ref) > budget_s:
            break
    return out_ours, out_ref, min(t_ours), min(t_ref)


def best_time(func: Callable[[], Any], repeats: int = 3, budget_s: float = 20.0) -> tuple[Any, float]:
    """``(result, minimum seconds)`` over up to ``repeats`` runs of ``func`` (fewer once ``budget_s`` is spent)."""
    times = []
    out = None
    for _ in range(max(1, repeats)):
        out, t = timed(func)
        times.append(t)
        if sum(times) > budget_s:
            break
    return out, min(times)


def max_abs_diff(a: Any, b: Any) -> float:
    """``max |a - b|`` of two numbers or arrays (tensors are converted); NaN where exactly one side is NaN.

    Positions where both sides are NaN count as equal (e.g. an undefined dissimilarity on both sides).
    """
    x = _numpy(a)
    y = _numpy(b)
    if x.shape != y.shape:
        raise ValueError(f"Results of different shapes: {x.shape} and {y.shape}.")
    if x.size == 0:
        return 0.0
    both_nan = np.isnan(x) & np.isnan(y)
    d = np.abs(np.where(both_nan, 0.0, x) - np.where(both_nan, 0.0, y))
    return float(np.max(d))


def _numpy(v: Any) -> np.ndarray:
    if hasattr(v, "detach"):
        v = v.detach().cpu().numpy()
    return np.asarray(v, dtype=np.float64)


def limit_threads(n: int | None):  # noqa: ANN201 (a context manager)
    """Context manager: NumPy/SciPy BLAS and torch use ``n`` threads inside the block (None: unchanged)."""

    @contextmanager
    def _limit():
        if n is None:
            yield
            return
        try:
            import torch  # start-up: speech-course --help loads this module
        except ImportError:  # pragma: no cover - torch is a course dependency
            torch = None
        before = torch.get_num_threads() if torch is not None else None
        with threadpool_limits(limits=n):
            if torch is not None:
                torch.set_num_threads(n)
            try:
                yield
            finally:
                if torch is not None:
                    torch.set_num_threads(before)

    return _limit()


def fmt_seconds(s: float | None) -> str:
    """Seconds with a sensible number of digits ("" for None)."""
    if s is None:
        return ""
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.1f} ms"
    return f"{s:.2f} s"


def fmt_diff(d: float | None) -> str:
    """A difference in scientific notation ("" for None, "0" for exact equality)."""
    if d is None:
        return ""
    if d == 0:
        return "0"
    return f"{d:.1e}"


def fmt_ratio(r: float | None) -> str:
    """Ours / reference as ``0.05x (20x faster)`` or ``1.3x``."""
    if r is None:
        return ""
    if r < 1:
        return f"{r:.3g}x ({1 / r:.3g}x faster)"
    return f"{r:.3g}x"


def machine_info() -> dict:
    """The machine and its load right now: cores, CPU model, load average, memory, library versions."""
    def read(path: str) -> str:
        try:
            return Path(path).read_text()
        except OSError:
            return ""

    cpu = next((line.split(":", 1)[1].strip() for line in read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    mem = next((int(line.split()[1]) // 1024 for line in read("/proc/meminfo").splitlines()
                if line.startswith("MemTotal:")), None)
    versions = {}
    for mod in ("numpy", "scipy", "torch", "transformers", "sklearn", "rsatoolbox", "captum"):
        try:
            versions[mod] = version({"sklearn": "scikit-learn"}.get(mod, mod))
        except Exception:  # noqa: BLE001 (not installed)
            versions[mod] = None
    return {
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "memory_mb": mem,
        "loadavg": load_average(),
        "python": platform.python_version(),
        "versions": versions,
    }


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    return tuple(round(v, 2) for v in os.getloadavg())
