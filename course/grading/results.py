"""What grading reports: the statuses of a graded row, one test's outcome, one job's result.

The data shared by the grading job (:mod:`course.grading.job`), the feedback it writes
(:mod:`course.grading.feedback`) and everything that reads its ``result.json`` (the grader, the self-check,
Gradescope's export); a leaf module, so that none of them imports another for its data.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

#: Statuses a graded row can have, with what they mean (docs/grading.md has the same table).
STATUSES = {
    "ok": "graded; every cell ran (failed tests simply earn no points)",
    "timeout": "graded; a cell ran past the per-cell timeout and was interrupted, the others ran",
    "memory_limit": "graded; student code hit the memory cap (MemoryError), the other cells ran",
    "notebook_timeout": "not graded: the notebook could not finish in time (a cell ignored the interrupt after the "
                        "per-cell timeout, or the whole notebook ran past the per-notebook limit)",
    "kernel_died": "not graded: the kernel stopped (exit(), os._exit(), a crash or a kill) before the end",
    "missing": "no notebook was submitted for this assignment",
    "wrong_filename": "a notebook was submitted under another name; rename it and resubmit",
    "invalid_notebook": "the file is not a readable Jupyter notebook (bad JSON, wrong format, too large, a link)",
    "invalid_student_id": "the student folder's name cannot be used as a student id",
    "grader_error": "nbgrader failed for another reason; see the log in OUT/logs",
}

#: Statuses whose score comes from an executed notebook.
GRADED = ("ok", "timeout", "memory_limit")


@dataclass
class TestOutcome:
    """One graded cell of one submission."""

    name: str
    points: float
    max_points: float
    passed: bool
    hidden: bool
    message: str = ""


@dataclass
class JobResult:
    """What a job reports (``result.json``)."""

    status: str
    detail: str
    score: float
    max_score: float
    tests: list[TestOutcome] = field(default_factory=list)
    grades: dict[str, float | None] = field(default_factory=dict)
    #: Points of free-response answers, left to the instructor (not in ``score`` or ``max_score``).
    manual_points: float = 0.0

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> "JobResult":
        data = json.loads(text)
        data["tests"] = [TestOutcome(**t) for t in data.get("tests", [])]
        return cls(**data)
