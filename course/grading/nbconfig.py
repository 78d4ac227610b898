"""nbgrader configuration that grades inside the course sandbox.

Used by the grading jobs and by the course's own ``autograder/nbgrader_config.py``,
so that a plain ``nbgrader autograde`` in ``autograder/`` is sandboxed too.
"""

from __future__ import annotations

from pathlib import Path

from traitlets.config import Config

from course.grading.sandbox import Limits

#: The nbgrader course id of this course.
COURSE_ID = "speech-interpretability"

_EXECUTE = "course.grading.execute.GradingExecute"
_KERNEL_MANAGER = "course.grading.kernel.SandboxedKernelManager"


def autograde_preprocessors() -> list:
    """nbgrader's autograde steps with its ``Execute`` replaced by :class:`~course.grading.execute.GradingExecute`."""
    from nbgrader.converters import Autograde  # start-up: nbgrader's converters, when grading only
    from nbgrader.preprocessors import Execute  # start-up, as above

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    return [_EXECUTE if pp is Execute else pp for pp in default]


def sandboxed_config(
    sandbox: str = "auto",
    limits: Limits = Limits(),
    cache_dir: Path | None = None,
    runtime_dir: Path | None = None,
    workdir: Path | None = None,
    events_path: Path | None = None,
    readonly: tuple[Path, ...] = (),
) -> Config:
    """Configuration for ``nbgrader autograde`` that runs every kernel in the sandbox.

    Parameters
    ----------
    sandbox : {"auto", "bwrap", "none"}
        See :func:`course.grading.sandbox.resolve_mode`.
    limits : Limits
        Per-cell timeout, memory cap and the other limits.
    cache_dir : Path, optional
        The course cache (corpus) to show read-only to the kernel.
    runtime_dir, workdir, events_path : Path, optional
        Kernel sockets, kernel working directory and event log; temporary ones
        are made if not given.
    readonly : tuple of Path
        Further directories the kernel may read.
    """
    c = Config()
    c.CourseDirectory.course_id = COURSE_ID
    c.Autograde.autograde_preprocessors = autograde_preprocessors()
    ex = c.GradingExecute
    ex.timeout = limits.cell_timeout
    ex.interrupt_on_timeout = True
    ex.kernel_name = "python3"
    ex.kernel_manager_class = _KERNEL_MANAGER
    ex.output_bytes = limits.output_bytes
    ex.notebook_output_bytes = 16 * limits.output_bytes
    if workdir is not None:
        ex.workdir = str(workdir)
    if events_path is not None:
        ex.events_path = str(events_path)
    km = c.SandboxedKernelManager
    km.sandbox = sandbox
    km.memory_bytes = limits.memory_bytes
    km.notebook_timeout = limits.notebook_timeout
    km.max_processes = limits.max_processes
    km.max_file_bytes = limits.max_file_bytes
    km.tmp_bytes = limits.tmp_bytes
    km.readonly_paths = [str(p) for p in readonly]
    if cache_dir is not None:
        km.cache_dir = str(cache_dir)
    if runtime_dir is not None:
        km.runtime_dir = str(runtime_dir)
    return c
