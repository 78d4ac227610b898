"""Grade one submission with real nbgrader, in its own scratch course directory.

The grader runs every job as a separate process::

    python -m course.grading.job JOB_DIR/job.json

so that a wall-clock limit can kill everything a submission started. The job
directory holds a private nbgrader course (a copy of the assignment's
gradebook, the submission in ``submitted/``), and the job writes
``result.json`` (status, score, tests) and ``feedback.html`` there. The
kernel only ever sees an empty working directory: the gradebook, the
autograded notebook (which contains the restored hidden tests) and every
other submission stay outside the sandbox.
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from course.grading.feedback import outcomes, redact_notebook, safe_feedback, unrun_outcomes
from course.grading.layout import copy_data_files, tools_on_path
from course.grading.limits import die_with_parent
from course.grading.notebooks import (drop_duplicate_ids, graded_cells, hidden_lines, points, read_notebook,
                                     withhold_lines, write_notebook)
from course.grading.results import JobResult
from course.grading.sandbox import Limits

@dataclass
class JobSpec:
    """Everything a grading job needs (written to ``job.json``)."""

    student: str
    assignment: str
    job_dir: str
    gradebook: str
    source_notebook: str
    data_dir: str
    sandbox: str
    limits: dict
    cache_dir: str | None = None
    readonly: list[str] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return Path(self.job_dir) / "nbgrader"

    @property
    def submitted(self) -> Path:
        return self.root / "submitted" / self.student / self.assignment / f"{self.assignment}.ipynb"

    @property
    def autograded(self) -> Path:
        return self.root / "autograded" / self.student / self.assignment / f"{self.assignment}.ipynb"

    @property
    def feedback(self) -> Path:
        return self.root / "feedback" / self.student / self.assignment / f"{self.assignment}.html"


def setup_job(spec: JobSpec, submission: Path) -> Path:
    """Lay out the job directory and write ``job.json``; returns its path."""
    job = Path(spec.job_dir)
    spec.root.mkdir(parents=True, exist_ok=True)
    shutil.copy(spec.gradebook, spec.root / "gradebook.db")
    data = spec.root / "source" / spec.assignment
    data.mkdir(parents=True, exist_ok=True)
    copy_data_files(Path(spec.data_dir), data)
    spec.submitted.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(submission, spec.submitted)
    path = job / "job.json"
    path.write_text(json.dumps(asdict(spec), indent=1), encoding="utf-8")
    return path


def _read_events(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run_job(spec: JobSpec) -> JobResult:
    """Autograde the submission, then write redacted feedback; returns the result (also saved)."""
    from course.grading.assignments import nbgrader_api  # start-up: nbgrader, in the job process only
    from course.grading.nbconfig import sandboxed_config  # start-up, as above

    job = Path(spec.job_dir)
    limits = Limits(**spec.limits)
    (job / "work").mkdir(exist_ok=True)
    config = sandboxed_config(
        sandbox=spec.sandbox, limits=limits, cache_dir=Path(spec.cache_dir) if spec.cache_dir else None,
        runtime_dir=job / "kernel", workdir=job / "work", events_path=job / "events.jsonl",
        readonly=tuple(Path(p) for p in spec.readonly),
    )
    api = nbgrader_api(spec.root, config)
    source = read_notebook(spec.source_notebook)
    hidden = hidden_lines(source)
    duplicates = _drop_duplicates(spec.submitted)
    success, log = _autograde(api, spec, hidden)
    events = _read_events(job / "events.jsonl")
    with api.gradebook as gb:
        submission = gb.find_submission(spec.assignment, spec.student)
        grades = {g.name: g.auto_score for nb in submission.notebooks for g in nb.grades}
    # score and maximum of the autograded tests only: free-response answers wait for the instructor
    tests = [c for c in graded_cells(source) if c.kind == "test"]
    score, max_score = float(sum(grades.get(c.grade_id) or 0.0 for c in tests)), points(tests, "test")
    if success and spec.autograded.is_file():
        res = _graded(api, spec, source, hidden, events, grades, score, max_score)
        if duplicates:
            res.detail = "; ".join(filter(None, [res.detail, f"{duplicates} duplicated graded cell(s): the last "
                                                              "copy counts"]))
    else:
        res = _not_graded(log, events, source, max_score)
    (job / "result.json").write_text(res.to_json(), encoding="utf-8")
    return res


def _autograde(api, spec: JobSpec, hidden: list[str]) -> tuple[bool, str]:  # noqa: ANN001 - NbGraderAPI
    """Run ``nbgrader autograde``; returns success and the log (hidden lines withheld, also saved)."""

    with tools_on_path():
        result = api.autograde(spec.assignment, spec.student, force=True, create=True)
    log = withhold_lines(result.get("log", "") + result.get("error", ""), hidden)
    (Path(spec.job_dir) / "autograde.log").write_text(log, encoding="utf-8")
    return bool(result["success"]), log


def _graded(api, spec: JobSpec, source, hidden: list[str], events: list[dict], grades: dict,  # noqa: ANN001
            score: float, max_score: float) -> JobResult:
    """Result and feedback page of a notebook nbgrader executed."""

    job = Path(spec.job_dir)
    nb = read_notebook(spec.autograded)
    shutil.copyfile(spec.autograded, job / "autograded.ipynb")  # unredacted, for the instructor's course dir
    status, detail = _status(nb, events)
    res = JobResult(status, detail, score, max_score, outcomes(nb, grades, source, hidden), grades,
                    points(graded_cells(source), "answer"))
    write_notebook(redact_notebook(nb, source, hidden), spec.autograded)
    with tools_on_path():
        fb = api.generate_feedback(spec.assignment, spec.student, force=True)
    page = spec.feedback.read_text(encoding="utf-8") if fb["success"] and spec.feedback.is_file() else None
    (job / "feedback.html").write_text(safe_feedback(page, res, spec.student, spec.assignment, hidden),
                                       encoding="utf-8")
    return res


def _not_graded(log: str, events: list[dict], source, max_score: float) -> JobResult:  # noqa: ANN001
    """Result of a notebook nbgrader could not finish: why, and where."""
    started = [e["cell"] for e in events if e["event"] == "start"]
    where = f" while running cell {started[-1] + 1}" if started else " before running any cell"
    if "DeadKernelError" in log or "Kernel died" in log:
        status, detail = "kernel_died", f"the kernel stopped{where} (exit(), os._exit(), a crash, or a kill)"
    elif "CellTimeoutError" in log or any(e["event"] == "timeout" for e in events):
        status, detail = "notebook_timeout", f"a cell could not be interrupted after the per-cell timeout{where}"
    else:
        last = [line for line in log.splitlines() if line.strip()][-1:] or ["no log"]
        status, detail = "grader_error", f"nbgrader failed{where}: {last[0][:300]}"
    return not_graded(status, detail, source, max_score)


def not_graded(status: str, detail: str, source, max_score: float) -> JobResult:  # noqa: ANN001 - NotebookNode
    """A zero-score result in which every test is reported as not run."""


    tests = unrun_outcomes(source, status)
    return JobResult(status, detail, 0.0, max_score, tests, {t.name: 0.0 for t in tests},
                     points(graded_cells(source), "answer"))


def _drop_duplicates(path: Path) -> int:
    """Repair duplicated nbgrader cells in the submitted file (:func:`course.grading.notebooks.drop_duplicate_ids`)."""

    nb = read_notebook(path)
    changed = drop_duplicate_ids(nb)
    if changed:
        write_notebook(nb, path)
    return changed


def _status(nb, events: list[dict]) -> tuple[str, str]:  # noqa: ANN001 - NotebookNode
    """Status of an executed notebook from its outputs and the execution events."""
    timeouts = sorted({e["cell"] + 1 for e in events if e["event"] == "timeout"})
    cut = sorted({e["cell"] + 1 for e in events if e["event"] == "output_cut"})
    memory = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            text = f"{out.get('ename', '')} {out.get('evalue', '')}" if out.get("output_type") == "error" else ""
            if "MemoryError" in text or "can't allocate memory" in text:
                memory.append(i + 1)
    notes = [f"output cut in cell(s) {_cells(cut)}"] if cut else []
    if timeouts:
        return "timeout", "; ".join([f"cell(s) {_cells(timeouts)} interrupted after the per-cell timeout"] + notes)
    if memory:
        return "memory_limit", "; ".join([f"cell(s) {_cells(memory)} ran out of memory (the cap)"] + notes)
    return "ok", "; ".join(notes)


def _cells(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m course.grading.job", description="Grade one submission.")
    parser.add_argument("spec", type=Path, help="job.json written by the grader")
    args = parser.parse_args(argv)

    die_with_parent()  # if the grader is killed, its jobs (and their kernels) go with it
    run_job(JobSpec(**json.loads(args.spec.read_text(encoding="utf-8"))))


if __name__ == "__main__":
    main()
