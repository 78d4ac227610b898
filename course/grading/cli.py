"""The grading subcommands of ``speech-course``: build, grade, check, gradescope, bench-grading, similarity,
release."""

from __future__ import annotations

import argparse
from pathlib import Path

from course.errors import UsageError
from course.grading.sandbox import MODES, Limits, parse_size


def _limits(args: argparse.Namespace) -> Limits:
    if args.cell_timeout <= 0 or args.notebook_timeout <= 0:
        raise UsageError("Timeouts must be positive.")
    return Limits(memory_bytes=parse_size(args.memory), cell_timeout=args.cell_timeout,
                  notebook_timeout=args.notebook_timeout)


def _course_dir(args: argparse.Namespace) -> Path:
    from course.grading.layout import default_course_dir  # start-up: per subcommand

    return args.course_dir or default_course_dir()


def _build(args: argparse.Namespace) -> int:
    from course.grading.build import build  # start-up: per subcommand

    course_dir = _course_dir(args)
    repo = args.repo or Path(course_dir).resolve().parent
    if args.workers < 1:
        raise UsageError("--workers must be at least 1.")
    result = build(course_dir, Path(repo), args.assignment or None, check=args.check, execute=not args.no_execute,
                   workers=args.workers)
    if result.peak_rss_kb:
        print("peak memory of each solution's kernel: "
              + ", ".join(f"{a} {kb / 1e6:.2f} GB" for a, kb in result.peak_rss_kb.items()))
    if args.check:
        for name in result.drifted:
            print(f"drifted: {name}")
        if result.drifted:
            print("The generated notebooks differ from autograder/source: run `speech-course build` and commit.")
            return 1
        print("exercises/ and solutions/ match autograder/source.")
        return 0
    for name in result.written:
        print(f"wrote {name}")
    print(f"{len(result.written)} file(s) changed." if result.written else "Everything was up to date.")
    return 0


def _refuse_learner_release(course_dir: Path, what: str) -> None:
    """A learner release's course directory holds the visible tests only: grading a class with it would be wrong."""
    from course.grading.release import is_learner_release  # start-up: per subcommand

    if is_learner_release(course_dir):
        raise UsageError(f"{course_dir} is the self-check course directory of a learner release (visible tests "
                         f"only): {what} from the full course repository, or pass its autograder/ as --course-dir.")


def _grade(args: argparse.Namespace) -> int:
    from course.grading.grade import GradeOptions, default_workers, grade_class  # start-up: per subcommand

    _refuse_learner_release(_course_dir(args), "grade a class")

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1.")
    workers = args.workers or default_workers()
    options = GradeOptions(course_dir=_course_dir(args), limits=_limits(args), workers=workers,
                           sandbox=args.sandbox, students=tuple(args.student or ()),
                           assignments=tuple(args.assignment or ()), record=not args.no_record,
                           progress=not args.quiet, similarity=not args.no_similarity)
    grade_class(args.submissions, args.out, options)
    return 0


def _check(args: argparse.Namespace) -> int:
    from course.grading.check import check_learner_notebook, guess_assignment, report  # start-up: per subcommand
    from course.grading.layout import check_course_dir  # start-up: per subcommand

    course_dir = check_course_dir(_course_dir(args))
    assignment = args.assignment or guess_assignment(args.notebook, course_dir)
    result = check_learner_notebook(args.notebook, course_dir, assignment, _limits(args), args.sandbox)
    from course.grading.release import learner_release_note  # start-up: per subcommand

    note = learner_release_note(course_dir)  # a learner release has visible tests only: say so before the score
    if note:
        print(note)
    print(report(result, assignment))
    return 0


def _gradescope(args: argparse.Namespace) -> int:
    from course.grading.gradescope import build_bundle  # start-up: per subcommand

    _refuse_learner_release(_course_dir(args), "build the Gradescope bundle")
    out = build_bundle(_course_dir(args), args.assignment, args.out)
    print(f"Gradescope autograder bundle: {out}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from course.grading.bench import bench_grading  # start-up: per subcommand

    print(bench_grading(_course_dir(args), args.assignment, args.submissions, args.workers, _limits(args),
                        args.sandbox))
    return 0


def _release(args: argparse.Namespace) -> int:
    from course.grading.layout import repo_root  # start-up: per subcommand
    from course.grading.release import write_release  # start-up: per subcommand

    result = write_release(args.repo or repo_root(), args.out, binder_repo=args.binder_repo,
                           binder_ref=args.binder_ref, force=args.force)
    print(f"Learner release written to {result.out}: {len(result.files)} files, assignments "
          f"{', '.join(result.assignments)}.")
    print("Left out:")
    for path, why in result.left_out.items():
        print(f"  {path}: {why}")
    print(f"Binder link: {result.binder_url}" if result.binder_url else
          "No Binder link (pass --binder-repo OWNER/NAME to put one in the README).")
    return 0


def _similarity(args: argparse.Namespace) -> int:
    from course.grading.similarity import THRESHOLD, similarity_report  # start-up: per subcommand

    similarity_report(args.submissions, args.out, _course_dir(args),
                      threshold=THRESHOLD if args.threshold is None else args.threshold)
    return 0


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cell-timeout", type=int, default=Limits.cell_timeout, metavar="S",
                   help=f"seconds a cell may run before it is interrupted (default {Limits.cell_timeout})")
    p.add_argument("--notebook-timeout", type=int, default=Limits.notebook_timeout, metavar="S",
                   help=f"seconds one notebook may take in all before it is killed (default {Limits.notebook_timeout})")
    p.add_argument("--memory", default="3G", help="memory cap per submission, e.g. 3G or 1500M (default 3G)")
    p.add_argument("--sandbox", choices=MODES, default="auto",
                   help="bwrap: require bubblewrap; none: limits only; auto (default): bwrap if it works, else "
                        "none with a warning")
    p.add_argument("--course-dir", type=Path, default=None,
                   help="nbgrader course directory (default: the repository's autograder/)")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register the grading subcommands on ``speech-course``'s subparsers."""
    p = sub.add_parser("build", help="regenerate exercises/ and solutions/ from autograder/source",
                       description="Regenerate exercises/ (nbgrader release: stubs, no hidden tests) and solutions/ "
                                   "(executed reference notebooks without hidden tests) from autograder/source.")
    p.add_argument("--check", action="store_true",
                   help="compare instead of writing; exit status 1 if the checked-in files drifted")
    p.add_argument("--assignment", action="append", metavar="ID", help="only this assignment (repeatable)")
    p.add_argument("--no-execute", action="store_true", help="do not execute the solutions (no outputs)")
    p.add_argument("--workers", type=int, default=2, help="solutions executed at once (default 2)")
    p.add_argument("--course-dir", type=Path, default=None,
                   help="nbgrader course directory (default: the repository's autograder/)")
    p.add_argument("--repo", type=Path, default=None,
                   help="where exercises/ and solutions/ go (default: the course directory's parent)")
    p.set_defaults(func=_build)

    g = sub.add_parser("grade", help="autograde a class of submissions with nbgrader, sandboxed and in parallel",
                       description="Autograde SUBMISSIONS (a folder or zip of <student_id>/<assignment_id>/"
                                   "<notebook>.ipynb) with nbgrader. Writes OUT/grades.csv, "
                                   "OUT/feedback/<student>/<assignment>/<notebook>.html (no hidden test code) and "
                                   "OUT/logs/; records the grades in the course's gradebook.")
    g.add_argument("submissions", type=Path, help="folder or zip of <student_id>/<assignment_id>/<notebook>.ipynb")
    g.add_argument("--out", type=Path, required=True, help="output folder (grades.csv, feedback/, logs/)")
    g.add_argument("--workers", type=int, default=None, help="notebooks graded at once (default: CPU cores, max 8)")
    g.add_argument("--student", action="append", metavar="ID", help="(re)grade only this student (repeatable)")
    g.add_argument("--assignment", action="append", metavar="ID",
                   help="grade only this assignment (repeatable; default: every assignment submitted)")
    g.add_argument("--no-record", action="store_true",
                   help="do not update the course directory's gradebook.db and autograded/ folder")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.add_argument("--no-similarity", action="store_true",
                   help="do not write OUT/similarity.csv and OUT/similarity.md (see speech-course similarity)")
    _add_run_options(g)
    g.set_defaults(func=_grade)

    c = sub.add_parser("check", help="grade your own notebook locally (visible and hidden tests)",
                       description="Grade NOTEBOOK exactly as a submission is graded (sandboxed nbgrader, visible "
                                   "and hidden tests), print each test's outcome and end with 'score: X/Y'. "
                                   "Hidden tests' code is never shown.")
    c.add_argument("notebook", type=Path, help="your notebook, e.g. exercises/00_orientation.ipynb")
    c.add_argument("--assignment", default=None, metavar="ID",
                   help="assignment id (default: from the file name or the notebook's cells)")
    _add_run_options(c)
    c.set_defaults(func=_check)

    s = sub.add_parser("gradescope", help="build a Gradescope autograder bundle for an assignment",
                       description="Build a Gradescope autograder zip (setup.sh, run_autograder, the course package "
                                   "and the assignment's source) that writes results/results.json.")
    s.add_argument("assignment", help="assignment id, e.g. 00_orientation")
    s.add_argument("--out", type=Path, required=True, help="the zip to write")
    s.add_argument("--course-dir", type=Path, default=None,
                   help="nbgrader course directory (default: the repository's autograder/)")
    s.set_defaults(func=_gradescope)

    b = sub.add_parser("bench-grading", help="measure grading throughput and the sandbox's overhead",
                       description="Grade copies of an assignment's reference solution: notebooks per minute for "
                                   "each worker count, and the cost of the sandbox relative to plain execution.")
    b.add_argument("--assignment", default="00_orientation", help="assignment to grade (default 00_orientation)")
    b.add_argument("--submissions", type=int, default=8, help="submissions per measurement (default 8)")
    b.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to measure (default 1 2)")
    _add_run_options(b)
    b.set_defaults(func=_bench)

    m = sub.add_parser("similarity", help="flag copies of the course's code, near-identical students and answers "
                                          "that touch the grader (information, not a verdict)",
                       description="Compare the answer cells of SUBMISSIONS (as for grade) with the course's "
                                   "implementations and the model answers, and every pair of students with each "
                                   "other (code given by the release notebook set aside); flag cells that use the "
                                   "grading machinery. Writes OUT/similarity.csv and OUT/similarity.md. Runs no "
                                   "student code.")
    m.add_argument("submissions", type=Path, help="folder or zip of <student_id>/<assignment_id>/<notebook>.ipynb")
    m.add_argument("--out", type=Path, required=True, help="output folder (similarity.csv, similarity.md)")
    m.add_argument("--threshold", type=float, default=None, metavar="SHARE",
                   help="report scores from this share of matching code on, between 0 and 1 (default 0.8)")
    m.add_argument("--course-dir", type=Path, default=None,
                   help="nbgrader course directory (default: the repository's autograder/)")
    m.set_defaults(func=_similarity)

    r = sub.add_parser("release", help="write a learner repository for a graded class (no solutions, no hidden "
                                       "tests)",
                       description="Write a learner repository to OUT from this checkout: the course package, "
                                   "exercises/, binder/, learner docs, a README for learners and a self-check "
                                   "course directory with the visible tests only. Leaves out solutions/, the "
                                   "assignment sources (hidden tests), broken answers, tests/ and instructor docs.")
    r.add_argument("--out", type=Path, required=True, help="the folder to write (new, or empty apart from .git)")
    r.add_argument("--binder-repo", default=None, metavar="OWNER/NAME",
                   help="GitHub repository that will host the release: the README gets its Binder badge")
    r.add_argument("--binder-ref", default="HEAD", metavar="REF",
                   help="branch, tag or commit the Binder link builds (default HEAD: the default branch)")
    r.add_argument("--force", action="store_true",
                   help="write into a non-empty OUT: delete everything in it except .git/ first")
    r.add_argument("--repo", type=Path, default=None,
                   help="the course checkout to release (default: the one the course package belongs to)")
    r.set_defaults(func=_release)
