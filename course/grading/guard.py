"""No marks for delegation: a test of the learner's function fails if the answer calls the course's implementation.

Every notebook imports the course's implementations (the fallback when an answer is not ready), and the sandbox must
expose the ``course`` package, so an answer could hand its work to them in many ways: an alias, an import under
another name, ``getattr`` or ``importlib``, a lambda, a wrapper, a helper of the learner's or a copy of a visible
helper that calls them. All of these end up *running the reference's code*, and that is what is watched: while a
test calls the learner's function, a trace function sees every Python call and fails the test when the code object
of one of the assignment's reference implementations (:mod:`course.grading.references`) starts to run, however it
was reached.

Each test cell starts with::

    from course.grading.guard import own_work
    own_work(globals(), "00_orientation", "time_to_frame")

which, for the rest of that cell, replaces the named functions (the ones the answer cell defines) by guarded
versions. During a guarded call, the course's implementations of those functions (their entries in
:data:`~course.grading.references.REFERENCES`: the function and the helpers that do its core) may not run. Other
exercises' implementations may: an answer may build on an earlier exercise through the course's version, as the
notebook itself does when it falls back to it (:func:`course.grading.fallback.learner_or_reference`), and the
notebooks' given helpers (05's ``abx_cells``) use them.

Expected values are computed by the test with the reference, outside the learner's call. What this does not see: an
answer that copies the reference's *source* (the similarity report flags those), and an answer that deliberately
dismantles the check (removing the trace function is detected; patching this module from an answer cell is flagged
by the similarity report as touching the grader).
"""

from __future__ import annotations

import functools
import sys
import threading
from types import CodeType, FrameType
from typing import Any, Callable

from course.errors import CourseError
from course.grading.references import graded_names, reference_functions

_WRAPPED = "__own_work_inner__"
_state = threading.local()


class DelegationError(CourseError, AssertionError):
    """The learner's function called the course's implementation of a graded function."""


def unguarded(obj: Any) -> Any:  # noqa: ANN401 - any callable
    """``obj`` without the guard's wrapper (the learner's own function)."""
    return getattr(obj, _WRAPPED, obj)


def refused_code(assignment: str, names: tuple[str, ...]) -> dict[CodeType, str]:
    """The reference code objects that a call of ``names`` may not run, with their qualified names."""
    refused: dict[CodeType, str] = {}
    for name in names:
        for f in reference_functions(assignment, name)[name]:
            refused[f.__code__] = f"{f.__module__}.{f.__qualname__}"
    return refused


class _Watch:
    """Trace every Python call in this thread (and threads started meanwhile); record the first refused one."""

    def __init__(self, refused: dict[CodeType, str], guarded: CodeType) -> None:
        self.refused = refused
        self.guarded = guarded
        self.violation: str | None = None

    def _path(self, frame: FrameType) -> str:
        """The learner's calls that led to ``frame``: ``pool_segments -> helper -> course.frames.segment_frames``."""
        chain = []
        f = frame.f_back
        while f is not None and f.f_code is not self.guarded:
            if f.f_code.co_filename != threading.__file__:  # a thread's start-up frames say nothing
                chain.append(f.f_code.co_name)
            f = f.f_back
        return " -> ".join([*reversed(chain), self.refused[frame.f_code]])

    def trace(self, frame: FrameType, event: str, arg: Any) -> None:  # noqa: ANN401 - the trace protocol
        if event == "call" and frame.f_code in self.refused and self.violation is None:
            self.violation = self._path(frame)
            raise DelegationError(self.violation)
        return None  # no line-by-line tracing inside the frame

    def __enter__(self) -> _Watch:
        self._previous = sys.gettrace()
        self._previous_threads = threading.gettrace()
        threading.settrace(self.trace)
        sys.settrace(self.trace)
        return self

    def __exit__(self, *exc: object) -> None:
        tampered = sys.gettrace() != self.trace and self.violation is None  # bound methods: equal, not identical
        sys.settrace(self._previous)
        threading.settrace(self._previous_threads)
        self.tampered = tampered


def guarded(function: Callable, name: str, assignment: str, names: tuple[str, ...]) -> Callable:
    """``function`` (the learner's ``name``) wrapped so that a call of it may not run a refused reference.

    Raises
    ------
    DelegationError
        From the call, after the learner's code has finished or failed, if it ran a refused reference (even if the
        learner caught the error raised inside) or removed the trace function.
    """
    function = unguarded(function)

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        if getattr(_state, "active", False):  # called from inside another guarded call: that one watches
            return function(*args, **kwargs)
        watch = _Watch(refused_code(assignment, names), call.__code__)
        _state.active = True
        try:
            with watch:
                result = function(*args, **kwargs)
        except BaseException:
            if watch.violation is None:
                raise
        finally:
            _state.active = False
        if watch.violation is not None:  # also when the learner's code caught the error raised inside
            raise DelegationError(
                f"your {name} called the course's implementation ({watch.violation}). Write the computation "
                f"yourself: the course's version is only the notebook's fallback when yours is not ready.") from None
        if watch.tampered:
            raise DelegationError(f"your {name} replaced the trace function that checks answers for delegation.")
        return result

    setattr(call, _WRAPPED, function)
    return call


def own_work(namespace: dict, assignment: str, *names: str) -> None:
    """Guard the learner's ``names`` in ``namespace`` for the rest of the running notebook cell.

    Parameters
    ----------
    namespace : dict
        The notebook's global namespace (``globals()``).
    assignment : str
        Assignment id, e.g. ``"00_orientation"``.
    *names : str
        The functions the answer cell under test defines. Names not (yet) defined are left alone: the test will
        say so itself.

    Raises
    ------
    KeyError
        If ``assignment`` or one of ``names`` is not registered in :mod:`course.grading.references`.
    """
    known = graded_names(assignment)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise KeyError(f"{', '.join(unknown)}: not a graded function of {assignment} (known: {', '.join(known)})")
    originals = {n: unguarded(namespace[n]) for n in names if n in namespace and callable(namespace[n])}
    for n, function in originals.items():
        namespace[n] = guarded(function, n, assignment, tuple(names))
    _restore_after_cell(namespace, originals)


def _restore_after_cell(namespace: dict, originals: dict[str, Callable]) -> None:
    """After the running IPython cell, bind ``originals`` again where the guarded versions still are.

    Outside IPython (a plain script) the guarded versions stay.
    """
    try:
        from IPython import get_ipython  # by design: only in a notebook's kernel, where IPython is loaded
    except ImportError:  # pragma: no cover - IPython is a dependency of the course
        return
    shell = get_ipython()
    if shell is None:
        return

    def restore(*_: object) -> None:
        for n, function in originals.items():
            if unguarded(namespace.get(n)) is function:
                namespace[n] = function
        shell.events.unregister("post_run_cell", restore)

    shell.events.register("post_run_cell", restore)
