"""``speech-course build``: regenerate ``exercises/`` and ``solutions/`` from ``autograder/source``.

For each assignment ``NN_topic``:

* ``exercises/NN_topic.ipynb`` is nbgrader's release (``generate_assignment``:
  solutions replaced by stubs, hidden tests removed), without outputs;
* ``solutions/NN_topic.ipynb`` is the source notebook without its hidden tests
  and without the solution markers, executed top to bottom. It keeps the
  nbgrader cell metadata, so it is also a valid submission (that scores full
  marks — the test suite checks).

When ``autograder/claims/NN_topic.py`` exists (:mod:`course.claims`), its sentences must occur in the
notebook's Markdown, and it runs in the solution's kernel after the last cell: a finding the text states that the
outputs no longer support stops the build with that sentence. It is removed again before anything is written.

Both are normalised (:func:`course.grading.notebooks.normalize`) so that a
rebuild on the same machine gives identical bytes. ``--check`` rebuilds into
memory and compares instead of writing (:func:`differences`): everything that
is generated exactly (sources, cell metadata, structure, the learner
notebooks, the text of every output) must be identical, while the numbers in
executed outputs may differ within :data:`REL_TOL` / :data:`ABS_TOL`, and
images are compared by kind only. Another CPU, BLAS library or thread count
rounds floating point differently, and a probe accuracy can move in the third
decimal (0.227 on one machine, 0.229 on another); a source change, a stale
output or a retrained model that moved a number beyond that still fails.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course.claims import ClaimError, claims_file, sentences_not_in_text, verify_comes_last
from course.grading.assignments import prepare_assignment
from course.grading.layout import assignment_ids, check_course_dir, copy_data_files
from course.grading.notebooks import normalize, notebook_text, read_notebook, solution_notebook

#: Seconds a cell of a reference solution may take while building.
BUILD_CELL_TIMEOUT = 300
#: Solutions a build executes at once.
BUILD_WORKERS = 2
#: Environment variables that set the math libraries' thread counts.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@dataclass(frozen=True)
class BuildResult:
    """What a build wrote (or, with ``check``, found different: ``"path: the first difference"``), and the peak
    resident memory in kB of each executed solution's kernel."""

    written: tuple[str, ...]
    drifted: tuple[str, ...]
    peak_rss_kb: dict[str, int] = field(default_factory=dict)


def execute_notebook(nb: NotebookNode, data_dir: Path, timeout: int = BUILD_CELL_TIMEOUT,
                     threads: int | None = None) -> NotebookNode:
    """Run a trusted notebook top to bottom in a scratch copy of ``data_dir`` (errors stop the build). ``threads``
    caps the kernel's math threads (OpenMP, MKL, OpenBLAS; default: the libraries' own choice).

    The kernel runs with the grading limits but without the sandbox (the
    course's own code is trusted), over unix sockets like a graded kernel.
    """
    from nbclient import NotebookClient  # start-up: jupyter's kernel machinery, for executing only
    from traitlets.config import Config  # start-up, as above

    from course.grading.kernel import SandboxedKernelManager  # start-up, as above

    with tempfile.TemporaryDirectory(prefix="speech-course-build-") as tmp:
        copy_data_files(data_dir, Path(tmp))
        config = Config()
        config.SandboxedKernelManager.sandbox = "none"
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                                record_timing=False, kernel_manager_class=SandboxedKernelManager, config=config,
                                resources={"metadata": {"path": tmp}})
        env = {} if threads is None else {"env": {**os.environ, **{k: str(threads) for k in THREAD_VARIABLES}}}
        client.execute(**env)
    return nb


#: Code of a cell that prints the kernel's peak resident memory in kB (``VmHWM``, Linux).
PEAK_RSS_PROBE = "from course.grading.memory import peak_rss_kb; print(peak_rss_kb())"


def execute_measured(nb: NotebookNode, data_dir: Path, timeout: int = BUILD_CELL_TIMEOUT,
                     threads: int | None = None, after: str | None = None) -> tuple[NotebookNode, int]:
    """:func:`execute_notebook`, and the kernel's peak resident memory in kB.

    A cell that reads the kernel's ``VmHWM`` is appended, run last and removed again, so the returned notebook
    is the one :func:`execute_notebook` would give. ``after``: code run in the same way after the notebook's last
    cell and before the probe (the claims of :mod:`course.claims`), then removed.
    """

    extra = []
    if after is not None:
        extra.append(nbformat.v4.new_code_cell(after))
        extra[-1].id = "claims-check"
    probe = nbformat.v4.new_code_cell(PEAK_RSS_PROBE)
    probe.id = "peak-rss-probe"
    extra.append(probe)
    nb.cells.extend(extra)
    try:
        execute_notebook(nb, data_dir, timeout, threads=threads)
    finally:
        for cell in extra:
            nb.cells.remove(cell)
    text = "".join(o.get("text", "") for o in probe.outputs if o.get("output_type") == "stream")
    return nb, int(text.split()[0])


def _drop_stderr(nb: NotebookNode) -> NotebookNode:
    """Warnings and progress bars go to stderr and name local paths: keep them out of the repository."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")]
    return nb


def render_assignment(course_dir: Path, assignment: str, work: Path, execute: bool = True
                      ) -> tuple[dict[str, str], int | None]:
    """The generated files of one assignment (``{"exercises/A.ipynb": text, "solutions/A.ipynb": text}``), and the
    peak resident memory in kB of the kernel that executed the solution (None without ``execute``)."""
    generated = _generate(course_dir, assignment, work)
    return _finish(generated, execute)


@dataclass
class _Generated:
    """One assignment after ``nbgrader generate_assignment``: the release's text, the solution to execute and the
    code of its claims (:mod:`course.claims`; None without a claims file)."""

    notebook: str
    exercise: str
    solution: NotebookNode
    data_dir: Path
    claims: str | None = None


def read_claims(course_dir: Path, assignment: str, source: NotebookNode) -> str | None:
    """The code of ``assignment``'s claims file, after checking that each of its sentences is in the notebook's text.

    Raises
    ------
    ClaimError
        If a sentence the file checks does not occur in the source notebook's Markdown.
    """
    path = claims_file(course_dir, assignment)
    if not path.is_file():
        return None
    code = path.read_text(encoding="utf-8")
    try:
        verify_comes_last(code)
    except ClaimError as e:
        raise ClaimError(f"{path}: {e}") from None
    missing = sentences_not_in_text(code, [c.source for c in source.cells if c.cell_type == "markdown"])
    if missing:
        raise ClaimError(f"{path}: these sentences are not in {assignment}'s text (a claim checks the sentence "
                         "a learner reads, word for word):\n" + "\n".join(f"  - {s!r}" for s in missing))
    return code


def _generate(course_dir: Path, assignment: str, work: Path) -> _Generated:
    prep = prepare_assignment(course_dir, assignment, work)
    exercise = normalize(read_notebook(prep.release), keep_outputs=False)
    source = read_notebook(prep.source)
    solution = solution_notebook(source, read_notebook(prep.release))
    claims = read_claims(course_dir, assignment, source)
    return _Generated(prep.notebook, notebook_text(exercise), solution, prep.data_dir, claims)


def _finish(generated: _Generated, execute: bool, threads: int | None = None) -> tuple[dict[str, str], int | None]:
    solution, peak = generated.solution, None
    if execute:
        # the claims run after the last cell, then leave: learners never see them
        solution, peak = execute_measured(solution, generated.data_dir, threads=threads, after=generated.claims)
        solution = _drop_stderr(solution)
    solution = normalize(solution, keep_outputs=execute)
    return {f"exercises/{generated.notebook}": generated.exercise,
            f"solutions/{generated.notebook}": notebook_text(solution)}, peak


#: Numbers in executed outputs may differ between machines by this much (relative, and absolute for small values):
#: floating-point rounding differs with the CPU, the BLAS kernels and the thread count.
REL_TOL = 0.02
ABS_TOL = 0.015
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def comparable(text: str) -> str:
    """Notebook text with image payloads replaced by their MIME type."""
    nb = json.loads(text)
    for cell in nb.get("cells", []):
        for out in cell.get("outputs", []):
            for mime in list(out.get("data", {})):
                if mime.startswith("image/"):
                    out["data"][mime] = f"<{mime}>"
    return json.dumps(nb, indent=1, sort_keys=True)


def _outputs_text(nb: dict) -> list[str]:
    """Per cell, the text of its outputs ("" for a Markdown cell)."""
    return [json.dumps(cell.get("outputs", []), sort_keys=True) for cell in nb.get("cells", [])]


def _numbers_differ(a: str, b: str) -> str | None:
    """None if ``a`` and ``b`` are the same text with numbers within tolerance, else the first difference."""
    # numpy pads printed arrays to the widest number ("0.46  0.079" beside "0.456 0.083"): runs of spaces are one
    words_a, words_b = ([re.sub(r" +", " ", w) for w in _NUMBER.split(s)] for s in (a, b))
    nums_a, nums_b = _NUMBER.findall(a), _NUMBER.findall(b)
    if words_a != words_b or len(nums_a) != len(nums_b):
        at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
        return f"text differs near {a[max(0, at - 40):at + 40]!r}"
    for x, y in zip(nums_a, nums_b):
        fx, fy = float(x), float(y)
        if not math.isclose(fx, fy, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            return f"{x} became {y}"
    return None


def differences(old: str, new: str) -> list[str]:
    """How a generated notebook ``new`` differs from the checked-in ``old`` beyond machine-to-machine noise.

    Everything but the outputs must be identical; outputs must have the same
    text, with numbers equal within :data:`REL_TOL` / :data:`ABS_TOL`, and
    images of the same kind.
    """
    a, b = json.loads(comparable(old)), json.loads(comparable(new))
    outs_a, outs_b = _outputs_text(a), _outputs_text(b)
    for nb in (a, b):
        for cell in nb.get("cells", []):
            cell.pop("outputs", None)
    if a != b:
        return ["sources, metadata or cells differ"]
    found = []
    for i, (x, y) in enumerate(zip(outs_a, outs_b)):
        if x != y:
            why = _numbers_differ(x, y)
            if why:
                found.append(f"output of cell [{i}]: {why}")
    return found


def build(course_dir: Path, repo: Path, assignments: list[str] | None = None, check: bool = False,
          execute: bool = True, workers: int = BUILD_WORKERS) -> BuildResult:
    """Regenerate (or, with ``check``, compare) ``repo/exercises`` and ``repo/solutions``.

    Parameters
    ----------
    course_dir : Path
        The nbgrader course directory (``autograder/``).
    repo : Path
        Where ``exercises/`` and ``solutions/`` live.
    assignments : list of str, optional
        Only these (default: all). Files of other assignments are left alone;
        with all assignments, generated notebooks without a source count as drift.
    check : bool
        Compare instead of writing.
    execute : bool
        Execute the solutions (without, they are written without outputs).
    workers : int
        Solutions executed at once, each in its own kernel (default 2, the cores of the reference machine). With
        more than one, each kernel computes on one thread: two kernels of two OpenMP threads each on two cores took
        422 s for the course's drift check, against about 240 s for the nine solutions one after the other.
    """
    course_dir = check_course_dir(course_dir)
    known = assignment_ids(course_dir)
    todo = assignments or known
    unknown = sorted(set(todo) - set(known))
    if unknown:
        raise FileNotFoundError(f"Unknown assignment(s) {', '.join(unknown)}; the course has {', '.join(known)}.")
    files: dict[str, str] = {}
    peaks: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="speech-course-build-") as tmp:
        generated = {a: _generate(course_dir, a, Path(tmp)) for a in todo}  # nbgrader's API: one at a time
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:  # each solution in its own kernel
            threads = 1 if workers > 1 else None
            finished = {a: pool.submit(_finish, g, execute, threads) for a, g in generated.items()}
            for a in todo:
                rendered, peak = finished[a].result()
                files.update(rendered)
                if peak is not None:
                    peaks[a] = peak
    stale = []
    if not assignments:
        expected = set(files)
        stale = sorted(f"{d}/{p.name}" for d in ("exercises", "solutions") for p in (repo / d).glob("*.ipynb")
                       if f"{d}/{p.name}" not in expected)
    if check:
        drifted = []
        for name, text in sorted(files.items()):
            found = differences((repo / name).read_text(encoding="utf-8"), text) if (repo / name).is_file() \
                else ["missing"]
            if found:
                more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
                drifted.append(f"{name}: {found[0]}{more}")
        return BuildResult((), tuple(drifted + [f"{name}: no source" for name in stale]), peaks)
    written = []
    for name, text in sorted(files.items()):
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(name)
    for name in stale:
        (repo / name).unlink()
    return BuildResult(tuple(written + stale), (), peaks)

