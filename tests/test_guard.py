"""The no-delegation guard of the tests (course.grading.guard): every way of handing the work to the course's
implementation fails, an answer of one's own passes, and building on an earlier exercise's fallback is allowed."""

from __future__ import annotations

import importlib
import sys
import textwrap
import threading
import types

import numpy as np
import pytest

import course.frames as reference
from course.grading.fallback import learner_or_reference
from course.grading.guard import DelegationError, own_work
from course.grading.references import REFERENCES, reference_functions
from course.textgrid import Interval

A = "00_orientation"

OWN_TIME_TO_FRAME = """
def time_to_frame(t):
    if t < 0:
        raise ValueError("negative")
    return int(math.floor(round(t / 0.02, 9)))
"""

DELEGATIONS = {
    "alias": "time_to_frame = reference.time_to_frame",
    "import as": "import course.frames as y\ndef time_to_frame(t):\n    return y.time_to_frame(t)",
    "from import": "from course.frames import time_to_frame as ttf\ndef time_to_frame(t):\n    return ttf(t)",
    "getattr": "def time_to_frame(t):\n    return getattr(reference, 'time_' + 'to_frame')(t)",
    "importlib": ("import importlib\ndef time_to_frame(t):\n"
                  "    return importlib.import_module('course.frames').time_to_frame(t)"),
    "lambda": "time_to_frame = lambda t: reference.time_to_frame(t)",
    "helper": "def _h(t):\n    return reference.time_to_frame(t)\ndef time_to_frame(t):\n    return _h(t)",
    "copied code object": ("import types\ntime_to_frame = types.FunctionType(reference.time_to_frame.__code__, "
                           "reference.time_to_frame.__globals__, 'mine', reference.time_to_frame.__defaults__)"),
    "catches the error": ("def time_to_frame(t):\n    try:\n        return reference.time_to_frame(t)\n"
                          "    except BaseException:\n        return reference.time_to_frame(t)"),
    "in a thread": ("import threading\ndef time_to_frame(t):\n    out = []\n"
                    "    th = threading.Thread(target=lambda: out.append(reference.time_to_frame(t)))\n"
                    "    th.start(); th.join()\n    return out[0] if out else int(t / 0.02)"),
    "removes the check": ("import sys\ndef time_to_frame(t):\n    sys.settrace(None)\n"
                          "    return reference.time_to_frame(t)"),
    "a course caller": ("from course.frames import FRAME_SECONDS\nimport course.frames\n"
                        "def time_to_frame(t):\n    return course.frames.segment_frames(t, t + 1e-4).start"),
}


def notebook(code: str) -> dict:
    """A namespace like a notebook's after its setup cell and the answer cell ``code``."""
    ns = {"reference": reference, "math": __import__("math"), "np": np}
    exec(compile(textwrap.dedent(code), "<answer cell>", "exec"), ns)
    return ns


def test_every_registered_reference_resolves_to_a_function_in_the_course_or_a_library():
    for a in REFERENCES:
        for name, functions in reference_functions(a).items():
            assert functions, (a, name)


def test_an_answer_of_ones_own_passes_and_keeps_its_result():
    ns = notebook(OWN_TIME_TO_FRAME)
    own_work(ns, A, "time_to_frame")
    assert ns["time_to_frame"](0.58) == 29
    with pytest.raises(ValueError):
        ns["time_to_frame"](-1.0)  # the learner's own errors pass through unchanged


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the thread that delegated
@pytest.mark.parametrize("shape", sorted(DELEGATIONS))
def test_every_shape_of_delegation_fails(shape):
    ns = notebook(DELEGATIONS[shape])
    own_work(ns, A, "time_to_frame")
    with pytest.raises(DelegationError, match="time_to_frame"):
        ns["time_to_frame"](0.58)


def test_the_message_names_the_path_to_the_reference_and_no_expected_value():
    ns = notebook(DELEGATIONS["helper"])
    own_work(ns, A, "time_to_frame")
    with pytest.raises(DelegationError) as err:
        ns["time_to_frame"](0.58)
    assert "time_to_frame -> _h -> course.frames.time_to_frame" in str(err.value)
    assert "29" not in str(err.value)


def test_the_trace_function_is_restored_after_a_call():
    before = sys.gettrace()
    ns = notebook(DELEGATIONS["alias"])
    own_work(ns, A, "time_to_frame")
    with pytest.raises(DelegationError):
        ns["time_to_frame"](0.1)
    assert sys.gettrace() is before and threading.gettrace() is None


def test_a_pasted_reference_body_that_still_calls_the_core_helpers_fails():
    abx = importlib.import_module("course.abx")
    ns = {"dtw_batch": abx.dtw_batch, "frame_distances": abx.frame_distances}
    exec("def dtw_distance(x, y):\n    return float(dtw_batch(frame_distances(x, y)[None])[0])", ns)
    own_work(ns, "05_abx", "dtw_distance")
    with pytest.raises(DelegationError, match="course.abx.dtw_batch"):
        ns["dtw_distance"](np.ones((3, 2)), np.ones((4, 2)))


@pytest.mark.parametrize("binding", ["learner", "fallback", "alias"])
def test_building_on_another_exercise_is_allowed_whichever_version_is_in_use(binding):
    """pool_segments' work is the pooling: it may use segment_frames, the learner's or the course's (the notebook
    falls back to the course's when the learner's is not ready, and the exercise builds on it)."""
    ns = notebook(OWN_TIME_TO_FRAME + """
def segment_frames(start, end, n_frames=None):
    return reference.segment_frames(start, end, n_frames)
def pool_segments(features, intervals):
    frames = [segment_frames(iv.start, iv.end, n_frames=len(features)) for iv in intervals]
    return np.stack([features[f.start:f.stop].mean(axis=0) for f in frames])
""")
    if binding == "fallback":
        ns["segment_frames"] = learner_or_reference(lambda *a: None, reference.segment_frames, [(0.0, 0.1)])
    elif binding == "alias":
        ns["segment_frames"] = reference.segment_frames
    own_work(ns, A, "pool_segments")
    x = np.arange(20, dtype=float).reshape(10, 2)
    assert np.allclose(ns["pool_segments"](x, [Interval(0.0, 0.04, "a")]), [[1, 2]])


def test_nested_answers_are_watched_by_the_outer_call():
    ns = notebook(OWN_TIME_TO_FRAME + """
def segment_frames(start, end, n_frames=None):
    return range(time_to_frame(start), max(time_to_frame(end), time_to_frame(start) + 1))
""")
    own_work(ns, A, "time_to_frame")
    own_work(ns, A, "segment_frames")
    assert ns["segment_frames"](0.0, 0.1) == range(0, 5)


def test_expected_values_computed_outside_the_learners_call_are_not_refused():
    ns = notebook(OWN_TIME_TO_FRAME)
    own_work(ns, A, "time_to_frame")
    assert ns["time_to_frame"](1.16) == reference.time_to_frame(1.16)


def test_the_fallback_uses_the_learners_function_unguarded_when_it_is_ready():
    ns = notebook(OWN_TIME_TO_FRAME)
    own_work(ns, A, "time_to_frame")
    chosen = learner_or_reference(ns["time_to_frame"], reference.time_to_frame, [(0.3,)])
    assert not hasattr(chosen, "__own_work_inner__") and chosen(0.3) == 15


def test_the_fallback_replaces_a_delegating_answer():
    ns = notebook(DELEGATIONS["lambda"])
    own_work(ns, A, "time_to_frame")
    assert learner_or_reference(ns["time_to_frame"], reference.time_to_frame, [(0.3,)]) is reference.time_to_frame


def test_decorated_references_are_refused_by_their_body():
    lenses = importlib.import_module("course.lenses")
    ns = {"lenses": lenses}
    exec("def ctc_lens_logits(h, norm, head, last):\n    return lenses.normalise_layers(None, h, last)", ns)
    own_work(ns, "04_lenses", "ctc_lens_logits")
    with pytest.raises(DelegationError, match="normalise_layers"):
        ns["ctc_lens_logits"](None, None, None, True)


def test_unknown_names_and_assignments_get_a_clear_error():
    with pytest.raises(KeyError, match="known: "):
        own_work({}, "00_orientation", "segment_frame")
    with pytest.raises(KeyError, match="known: "):
        own_work({}, "99_nope", "x")


def test_the_guard_lasts_for_the_running_notebook_cell_only():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_cell("import course.frames as reference\ntime_to_frame = lambda t: reference.time_to_frame(t)")
    shell.run_cell("from course.grading.guard import own_work\nown_work(globals(), '00_orientation', "
                   "'time_to_frame')\ntry:\n    time_to_frame(0.1)\nexcept AssertionError as e:\n    caught = str(e)")
    assert "course's implementation" in shell.user_ns["caught"]
    assert isinstance(shell.user_ns["time_to_frame"], types.LambdaType)
    assert shell.user_ns["time_to_frame"].__name__ == "<lambda>" and shell.user_ns["time_to_frame"](0.1) == 5
