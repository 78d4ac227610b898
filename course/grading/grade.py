"""Grade a class: real ``nbgrader autograde``, one sandboxed job per submission, in parallel.

:func:`grade_class` is what ``speech-course grade`` runs:

1. unpack the submissions (folder or zip) and classify every (student,
   assignment) pair (:mod:`course.grading.submissions`);
2. run ``nbgrader generate_assignment`` once per assignment in a scratch
   directory (the gradebook every job copies), and in the course directory
   itself (the class gradebook that formgrader shows);
3. grade each notebook in its own process and scratch nbgrader course
   (:mod:`course.grading.job`), ``workers`` at a time, each killed at the
   per-notebook wall limit;
4. record the grades in the class gradebook (only this process writes it),
   and write ``OUT/grades.csv``, ``OUT/feedback/<student>/<assignment>/<notebook>.html``
   and ``OUT/logs/<student>/<assignment>.log``;
5. write ``OUT/similarity.csv`` and ``OUT/similarity.md`` (:mod:`course.grading.similarity`: copies of the course's
   code, near-identical students, answers that touch the grader), for information; its failure costs no grade.

Every pair yields exactly one row, whatever the submission does. Grading is
idempotent: rows are keyed by (student, assignment) and replaced, others
kept, so ``--student`` regrades one student without touching the rest.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from tqdm.auto import tqdm

from course.corpus import default_cache_dir, load_corpus
from course.grading.assignments import PreparedAssignment, nbgrader_api, prepare_assignment
from course.grading.feedback import status_page
from course.grading.job import JobSpec, not_graded, setup_job
from course.grading.layout import assignment_ids, check_course_dir, tools_on_path
from course.grading.notebooks import withhold_lines
from course.grading.results import JobResult
from course.grading.sandbox import Limits, resolve_mode
from course.grading.similarity import similarity_report
from course.grading.submissions import Submission, collect, extract_zip

#: Columns of ``grades.csv``.
CSV_FIELDS = ("student_id", "assignment", "notebook", "score", "max_score", "status", "detail", "manual_points")


@dataclass(frozen=True)
class Row:
    """One line of ``grades.csv``."""

    student_id: str
    assignment: str
    notebook: str
    score: float
    max_score: float
    status: str
    detail: str = ""
    #: Points of free-response answers the instructor grades in formgrader (not in ``score``/``max_score``).
    manual_points: float = 0.0

    def as_csv(self) -> dict[str, str]:
        d = asdict(self)
        d["score"], d["max_score"] = f"{self.score:g}", f"{self.max_score:g}"
        d["manual_points"] = f"{self.manual_points:g}"
        return d


@dataclass
class GradeOptions:
    """Settings of a grading run (the command-line options of ``speech-course grade``)."""

    course_dir: Path
    limits: Limits = field(default_factory=Limits)
    workers: int = 2
    sandbox: str = "auto"
    students: tuple[str, ...] = ()
    assignments: tuple[str, ...] = ()
    record: bool = True
    progress: bool = True
    ensure_corpus: bool = True
    #: Write OUT/similarity.csv and OUT/similarity.md after grading (:mod:`course.grading.similarity`).
    similarity: bool = True


def default_workers() -> int:
    """One worker per CPU core, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


def _job_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("PYTHONWARNINGS", "ignore")
    return env


def run_submission(sub: Submission, prep: PreparedAssignment, job_dir: Path, mode: str, limits: Limits,
                   cache_dir: Path | None, running: set | None = None) -> JobResult:
    """Grade one notebook in a separate process; never raises for anything the submission does.

    ``running``, if given, holds the job's process while it runs (so that an
    interrupted grading run can stop it).
    """
    spec = JobSpec(student=sub.student, assignment=sub.assignment, job_dir=str(job_dir),
                   gradebook=str(prep.gradebook), source_notebook=str(prep.source), data_dir=str(prep.data_dir),
                   sandbox=mode, limits=asdict(limits), cache_dir=str(cache_dir) if cache_dir else None)
    spec_path = setup_job(spec, sub.path)
    running = set() if running is None else running
    with open(job_dir / "job.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "course.grading.job", str(spec_path)], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_job_env(),
                                cwd=job_dir, start_new_session=True)
        running.add(proc)
        try:
            proc.wait(timeout=limits.notebook_timeout)
        except subprocess.TimeoutExpired:
            stop(proc)
            return not_graded("notebook_timeout", f"killed after the per-notebook limit of {limits.notebook_timeout} s",
                              prep.source_nb(), prep.max_score)
        finally:
            running.discard(proc)
    result = job_dir / "result.json"
    if result.is_file():
        return JobResult.from_json(result.read_text(encoding="utf-8"))
    return not_graded("grader_error", f"the grading process exited with status {proc.returncode} without a result",
                      prep.source_nb(), prep.max_score)


def stop(proc: subprocess.Popen) -> None:
    """Kill a job and everything it started (its kernel dies with it: bwrap's --die-with-parent, or PDEATHSIG)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _publish(out: Path, sub: Submission, prep: PreparedAssignment, res: JobResult, job_dir: Path | None) -> None:
    """Write the feedback page and the (redacted) log of one row into OUT."""
    feedback = out / "feedback" / sub.student / sub.assignment / prep.notebook.replace(".ipynb", ".html")
    feedback.parent.mkdir(parents=True, exist_ok=True)
    page = job_dir / "feedback.html" if job_dir is not None else None
    if page is not None and page.is_file():
        shutil.copyfile(page, feedback)
    else:
        feedback.write_text(status_page(res, sub.student, sub.assignment), encoding="utf-8")
    log = out / "logs" / sub.student / f"{sub.assignment}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    parts = [f"status: {res.status}\ndetail: {res.detail}\n"]
    for name in ("autograde.log", "job.log"):
        if job_dir is not None and (job_dir / name).is_file():
            text = (job_dir / name).read_bytes()[-200_000:].decode("utf-8", "replace")
            parts.append(f"\n== {name}\n{text}")
    log.write_text(withhold_lines("".join(parts), list(prep.hidden)) + "\n", encoding="utf-8")


def record_grades(course_dir: Path, graded: list[tuple[Submission, JobResult, Path | None]]) -> None:
    """Enter the results into the class gradebook (``COURSE_DIR/gradebook.db``) and its autograded folder."""
    from nbgrader.api import Gradebook  # start-up: nbgrader's database layer, for recording only
    from sqlalchemy.exc import SAWarning  # start-up, as above

    api = nbgrader_api(course_dir)
    with warnings.catch_warnings(), Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        warnings.simplefilter("ignore", SAWarning)  # nbgrader 0.9 with SQLAlchemy 2 warns on every new submission
        for sub, res, job_dir in graded:
            if sub.status == "invalid_student_id":
                continue
            gb.update_or_create_student(sub.student)
            submission = gb.update_or_create_submission(sub.assignment, sub.student)
            for nb in submission.notebooks:
                for grade in nb.grades:
                    if grade.name in res.grades:
                        grade.auto_score = res.grades[grade.name]
                        grade.needs_manual_grade = res.grades[grade.name] is None
            gb.db.commit()
            dest = course_dir / "autograded" / sub.student / sub.assignment
            if dest.exists():
                shutil.rmtree(dest)
            if job_dir is not None and (job_dir / "autograded.ipynb").is_file():
                dest.mkdir(parents=True)
                shutil.copyfile(job_dir / "autograded.ipynb", dest / f"{sub.assignment}.ipynb")
            if sub.path is not None:
                sub_dest = course_dir / "submitted" / sub.student / sub.assignment
                sub_dest.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(sub.path, sub_dest / f"{sub.assignment}.ipynb")


def read_grades(path: Path) -> list[Row]:
    """Rows of an existing ``grades.csv`` ([] if there is none)."""
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return [Row(r["student_id"], r["assignment"], r["notebook"], float(r["score"]), float(r["max_score"]),
                    r["status"], r.get("detail", ""), float(r.get("manual_points") or 0))
                for r in csv.DictReader(f)]


def write_grades(path: Path, rows: list[Row]) -> None:
    """Merge ``rows`` into ``grades.csv`` (replacing the same student and assignment), atomically."""
    new = {(r.student_id, r.assignment): r for r in rows}
    kept = [r for r in read_grades(path) if (r.student_id, r.assignment) not in new]
    merged = sorted(kept + list(new.values()), key=lambda r: (r.student_id, r.assignment))
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(r.as_csv() for r in merged)
    os.replace(tmp, path)


def _progress(total: int, enabled: bool):  # noqa: ANN202 - a tqdm bar

    return tqdm(total=total, desc="grading", unit="notebook", disable=not enabled, file=sys.stderr)


def grade_class(submissions: Path, out: Path, options: GradeOptions,
                say: Callable[[str], None] = print) -> list[Row]:
    """Grade every submission under ``submissions`` (a folder or a zip) into ``out``.

    Returns
    -------
    list of Row
        The rows of this run (``out/grades.csv`` also keeps earlier rows of
        other students and assignments).
    """
    course_dir = check_course_dir(options.course_dir)
    known = assignment_ids(course_dir)
    if not Path(submissions).exists():
        raise FileNotFoundError(f"No such folder or zip: {submissions}")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="speech-course-grade-") as tmp_name:
        tmp = Path(tmp_name)
        root = extract_zip(submissions, tmp / "in") if Path(submissions).is_file() else Path(submissions)
        subs, notes = collect(root, known, list(options.assignments) or None, list(options.students) or None)
        mode = resolve_mode(options.sandbox)
        for note in notes:
            print(f"speech-course: warning: {note}", file=sys.stderr)
        out.mkdir(parents=True, exist_ok=True)
        needed = sorted({s.assignment for s in subs})
        prepared = {a: prepare_assignment(course_dir, a, tmp / "prep") for a in needed}
        if options.record:
            with tools_on_path():
                for a in needed:
                    nbgrader_api(course_dir).generate_assignment(a, force=True, create=True)
        results = [(s, not_graded(s.status, s.detail, prepared[s.assignment].source_nb(),
                                  prepared[s.assignment].max_score), None) for s in subs if s.path is None]
        todo = sorted((s for s in subs if s.path is not None), key=_code_cells, reverse=True)  # longest first
        results += _run_jobs(todo, prepared, tmp / "jobs", mode, options)
        results.sort(key=lambda r: (r[0].student, r[0].assignment))
        rows = []
        for s, res, job_dir in results:
            prep = prepared[s.assignment]
            _publish(out, s, prep, res, job_dir)
            rows.append(Row(s.student, s.assignment, prep.notebook, res.score, res.max_score, res.status, res.detail,
                            prep.manual_points))
        if options.record:
            record_grades(course_dir, results)
    write_grades(out / "grades.csv", rows)
    counts = Counter(r.status for r in rows)
    say(f"Graded {len(rows)} submission(s) ({len(todo)} executed, {options.workers} worker(s), sandbox: {mode}) "
        f"in {time.perf_counter() - started:.1f} s: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    say(f"Grades: {out / 'grades.csv'}   Feedback: {out / 'feedback'}")
    if options.similarity:
        write_similarity_report(Path(submissions), out, course_dir, say)
    return rows


def write_similarity_report(submissions: Path, out: Path, course_dir: Path, say: Callable[[str], None]) -> None:
    """Write the class's similarity report into ``out``; a failure is only warned about (the grades are written)."""
    try:

        similarity_report(submissions, out, course_dir, say=say)
    except Exception as exc:  # noqa: BLE001 - information for the instructor must never cost a grade
        print(f"speech-course: warning: the similarity report failed ({type(exc).__name__}: {exc}); grades.csv is "
              "complete", file=sys.stderr)


def _code_cells(sub: Submission) -> int:
    """How many code cells ``sub`` has: the grading order's estimate of its cost.

    Started longest first, the notebooks keep every worker busy until the end; started in the order of the
    students' names, a long notebook started last runs alone while the other workers wait. A file that cannot be
    read counts 0 (its job reports why).
    """
    try:
        return sum(c.get("cell_type") == "code" for c in json.loads(sub.path.read_bytes()).get("cells", []))
    except (OSError, ValueError, AttributeError, TypeError):
        return 0


def _run_jobs(todo: list[Submission], prepared: dict[str, PreparedAssignment], jobs: Path, mode: str,
              options: GradeOptions) -> list[tuple[Submission, JobResult, Path]]:
    """Grade the notebooks ``options.workers`` at a time, with a progress bar; Ctrl-C stops every job."""
    cache_dir = course_cache(options.ensure_corpus)
    results, running = [], set()
    with _progress(len(todo), options.progress) as bar, ThreadPoolExecutor(max_workers=options.workers) as pool:
        futures = {}
        for i, s in enumerate(todo):
            job_dir = jobs / f"{i:05d}"
            job_dir.mkdir(parents=True)
            futures[pool.submit(run_submission, s, prepared[s.assignment], job_dir, mode, options.limits, cache_dir,
                                running)] = (s, job_dir)
        try:
            for fut in as_completed(futures):
                s, job_dir = futures[fut]
                try:
                    res = fut.result()
                except Exception as exc:  # noqa: BLE001 - one broken job must not stop the class
                    prep = prepared[s.assignment]
                    res = not_graded("grader_error", f"{type(exc).__name__}: {exc}", prep.source_nb(), prep.max_score)
                results.append((s, res, job_dir))
                bar.update(1)
        except KeyboardInterrupt:
            for fut in futures:
                fut.cancel()
            for proc in list(running):
                stop(proc)
            raise
    return results


def course_cache(ensure_corpus: bool) -> Path:
    """The course cache the kernels may read; builds the default corpus first if asked and missing."""

    if ensure_corpus:
        load_corpus()
    return default_cache_dir()
