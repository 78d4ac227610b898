"""The similarity report (course.grading.similarity): copies, near-identical pairs, answers that touch the grader.

Synthetic classes: copies of the release notebooks with answer cells filled from code strings. Nothing is executed.
Every positive check has a negative counterpart in the same class, so that no test passes by reporting nothing.
"""

from __future__ import annotations

import csv
import time
import zipfile
from pathlib import Path

import pytest

from course.grading import similarity as sim
from course.grading.layout import repo_root
from course.grading.notebooks import nbgrader_meta, read_notebook, write_notebook

REPO = repo_root()
COURSE_DIR = REPO / "autograder"

# --- answers ------------------------------------------------------------------------------------------------------
# Copies of the course's implementations (course.frames.segment_frames, course.abx._triplet_score, course.abx.dtw_batch
# as a helper): identifiers renamed, docstrings and annotations removed, comments changed.

COURSE_COPY = {
    "00_orientation": {"segment_frames": '''
_EPS_DIGITS = 9
FRAME_SECONDS = FRAME


def segment_frames(s, e, total=None, step=FRAME_SECONDS):
    if not e > s:
        raise ValueError("segment is empty")
    lo = math.ceil(round(s / step - 0.5, _EPS_DIGITS))
    hi = math.ceil(round(e / step - 0.5, _EPS_DIGITS))

    if hi <= lo:
        lo = time_to_frame((s + e) / 2, step)   # midpoint frame
        hi = lo + 1
    if total is not None:
        if total <= 0:
            raise ValueError("need frames")
        lo, hi = min(lo, total - 1), min(hi, total)
        hi = max(hi, lo + 1)
    return range(lo, hi)
'''},
    "05_abx": {
        "triplet_score": '''
def triplet_score(dist_a, dist_b, exclude_same=False):
    smaller = dist_a[:, :, None] < dist_b[:, None, :]
    same = dist_a[:, :, None] == dist_b[:, None, :]
    result = smaller + 0.5 * same
    if exclude_same:
        mask = ~np.eye(dist_a.shape[0], dtype=bool)
        result = result[mask]
    count = result.size
    return float(result.sum() / count)
''',
        "dtw_distance": '''
def _dtw(c):
    c = np.asarray(c, dtype=np.float64)
    if c.ndim != 3 or c.shape[1] == 0 or c.shape[2] == 0:
        raise ValueError("bad shape")
    nb, rows, cols = c.shape
    cc = np.moveaxis(c, 0, -1)
    table = np.full((rows + 1, cols + 1, nb), np.inf)
    steps = np.zeros((rows + 1, cols + 1, nb), dtype=np.int64)
    table[1, 1], steps[1, 1] = cc[0, 0], 1
    huge = np.iinfo(np.int64).max
    for d in range(1, rows + cols - 1):
        r = np.arange(max(0, d - cols + 1), min(rows, d + 1))
        q = d - r
        t, l, dg = table[r, q + 1], table[r + 1, q], table[r, q]
        low = np.minimum(np.minimum(t, l), dg)
        # fewest steps among the cheapest moves
        fewest = np.where(t == low, steps[r, q + 1], huge)
        np.minimum(fewest, np.where(l == low, steps[r + 1, q], huge), out=fewest)
        np.minimum(fewest, np.where(dg == low, steps[r, q], huge), out=fewest)
        table[r + 1, q + 1] = cc[r, q] + low
        steps[r + 1, q + 1] = fewest + 1
    return table[rows, cols] / steps[rows, cols]


def dtw_distance(x, y):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x = x / np.linalg.norm(x, axis=1, keepdims=True).clip(1e-12)
    y = y / np.linalg.norm(y, axis=1, keepdims=True).clip(1e-12)
    return float(_dtw((np.arccos(np.clip(x @ y.T, -1, 1)) / np.pi)[None])[0])
'''},
}

# The model answers of autograder/source with every identifier renamed (and no docstring).
MODEL_COPY = {
    "00_orientation": {"pool_segments": '''
def pool_segments(feats, segs):
    feats = np.asarray(feats)
    owned = [segment_frames(s.start, s.end, n_frames=len(feats)) for s in segs]
    means = [feats[o.start:o.stop].mean(axis=0) for o in owned]
    return np.stack(means) if means else np.zeros((0, feats.shape[1]), dtype=feats.dtype)
'''},
    "05_abx": {"dtw_distance": '''
def dtw_distance(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    na = np.linalg.norm(a, axis=1, keepdims=True)
    nb = np.linalg.norm(b, axis=1, keepdims=True)
    a, b = a / np.where(na > 0, na, 1.0), b / np.where(nb > 0, nb, 1.0)
    d = np.arccos(np.clip(a @ b.T, -1.0, 1.0)) / np.pi
    rows, cols = d.shape
    acc, length = np.zeros((rows, cols)), np.zeros((rows, cols), dtype=int)
    for r in range(rows):
        for c in range(cols):
            if r == 0 and c == 0:
                acc[0, 0], length[0, 0] = d[0, 0], 1
                continue
            prev = min((acc[q], length[q]) for q in ((r - 1, c), (r, c - 1), (r - 1, c - 1)) if min(q) >= 0)
            acc[r, c], length[r, c] = d[r, c] + prev[0], prev[1] + 1
    return float(acc[-1, -1] / length[-1, -1])
'''},
}

# Correct answers written independently of the course's code, with another structure.
OWN = {
    "00_orientation": {
        "time_to_frame": '''
FRAME = 0.02


def time_to_frame(t):
    if t < 0:
        raise ValueError("negative time")
    k = int(t / FRAME + 1e-9)
    return k
''',
        "segment_frames": '''
def segment_frames(start, end, n_frames=None):
    centres_after = lambda s: int(np.ceil(s / FRAME - 0.5 - 1e-9))
    lo, hi = centres_after(start), centres_after(end)
    if hi - lo < 1:
        mid = 0.5 * (start + end)
        lo = int(mid // FRAME)
        hi = lo + 1
    if n_frames is None:
        return range(lo, hi)
    last = n_frames - 1
    lo = lo if lo < last else last
    hi = hi if hi < n_frames else n_frames
    if hi <= lo:
        hi = lo + 1
    return range(lo, hi)
''',
        "pool_segments": '''
def pool_segments(features, intervals):
    feats = np.array(features)
    rows = []
    for seg in intervals:
        owned = segment_frames(seg.start, seg.end, feats.shape[0])
        total = np.zeros(feats.shape[1])
        for idx in owned:
            total += feats[idx]
        rows.append(total / len(owned))
    out = np.zeros((len(rows), feats.shape[1]), dtype=feats.dtype)
    for r, row in enumerate(rows):
        out[r] = row
    return out
''',
    },
    "05_abx": {
        "dtw_distance": '''
def dtw_distance(x, y):
    a = np.array(x, dtype=np.float64)
    b = np.array(y, dtype=np.float64)
    a = a / np.maximum(np.sqrt((a ** 2).sum(axis=1))[:, None], 1e-300)
    b = b / np.maximum(np.sqrt((b ** 2).sum(axis=1))[:, None], 1e-300)
    sim = np.einsum("id,jd->ij", a, b).clip(-1, 1)
    d = np.arccos(sim) / math.pi
    rows, cols = d.shape
    acc = np.full((rows + 1, cols + 1), np.inf)
    steps = np.zeros((rows + 1, cols + 1), dtype=int)
    acc[0, 0] = 0.0
    for r in range(1, rows + 1):
        for c in range(1, cols + 1):
            options = [(acc[r - 1, c], steps[r - 1, c]), (acc[r, c - 1], steps[r, c - 1]),
                       (acc[r - 1, c - 1], steps[r - 1, c - 1])]
            prev_cost, prev_steps = sorted(options)[0]
            acc[r, c] = prev_cost + d[r - 1, c - 1]
            steps[r, c] = prev_steps + 1
    return float(acc[rows, cols] / steps[rows, cols])
''',
        "triplet_score": '''
def triplet_score(d_xa, d_xb, exclude_same=False):
    xa = np.asarray(d_xa, float)
    xb = np.asarray(d_xb, float)
    total, count = 0.0, 0
    for i in range(xa.shape[0]):
        for j in range(xa.shape[1]):
            if exclude_same and i == j:
                continue
            diff = xb[i] - xa[i, j]
            total += np.sum(diff > 0) + 0.5 * np.sum(diff == 0)
            count += xb.shape[1]
    return total / count
''',
    },
}

# A second independent set for the orientation notebook (a student who never saw OWN).
OTHER = {
    "time_to_frame": '''
FRAME = 0.02  # seconds per model frame


def time_to_frame(t):
    if t >= 0:
        return int(np.floor(t / FRAME + 1e-9))
    raise ValueError(f"{t} < 0")
''',
    "segment_frames": '''
def segment_frames(start, end, n_frames=None):
    owned = [i for i in range(int(end / FRAME) + 2) if start <= (i + 0.5) * FRAME < end]
    if not owned:
        owned = [time_to_frame((start + end) / 2)]
    first, last = owned[0], owned[-1] + 1
    if n_frames is not None:
        first = min(first, n_frames - 1)
        last = max(first + 1, min(last, n_frames))
    return range(first, last)
''',
    "pool_segments": '''
def pool_segments(features, intervals):
    x = np.asarray(features)
    means = [x[list(segment_frames(iv.start, iv.end, len(x)))].mean(0) for iv in intervals]
    return np.array(means).reshape(len(intervals), x.shape[1])
''',
}

# OWN["00_orientation"] as a classmate would hand it in after copying it: every identifier renamed, comments and
# a docstring added, blank lines moved.
OWN_DISGUISED = {
    "time_to_frame": '''
FRAME = 0.02


def time_to_frame(time_s):
    """My frame index."""

    if time_s < 0:
        raise ValueError("time must not be negative")  # guard
    index = int(time_s / FRAME + 1e-9)
    return index
''',
    "segment_frames": '''
def segment_frames(start, end, n_frames=None):
    # first frame whose centre is at or after s
    first_centre = lambda sec: int(np.ceil(sec / FRAME - 0.5 - 1e-9))
    a, b = first_centre(start), first_centre(end)

    if b - a < 1:
        middle = 0.5 * (start + end)
        a = int(middle // FRAME)
        b = a + 1
    if n_frames is None:
        return range(a, b)
    top = n_frames - 1

    a = a if a < top else top
    b = b if b < n_frames else n_frames
    if b <= a:
        b = a + 1
    return range(a, b)
''',
    "pool_segments": '''
def pool_segments(features, intervals):
    """Average per segment."""
    arr = np.array(features)
    vectors = []
    for interval in intervals:
        frames = segment_frames(interval.start, interval.end, arr.shape[0])

        acc = np.zeros(arr.shape[1])
        for f in frames:
            acc += arr[f]
        vectors.append(acc / len(frames))  # mean
    result = np.zeros((len(vectors), arr.shape[1]), dtype=arr.dtype)
    for k, v in enumerate(vectors):
        result[k] = v
    return result
''',
}


# --- building classes ---------------------------------------------------------------------------------------------


def release(assignment: str):
    return read_notebook(REPO / "exercises" / f"{assignment}.ipynb")


def submit(root: Path, student: str, assignment: str, answers: dict[str, str] | None = None,
           edit=None) -> Path:
    """Write ``root/student/assignment/assignment.ipynb``: the release with the answer cells named in ``answers``
    replaced; ``edit(nb)`` may change it further."""
    nb = release(assignment)
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in (answers or {}):
            cell.source = answers[grade_id].strip("\n")
    if edit is not None:
        edit(nb)
    path = root / student / assignment / f"{assignment}.ipynb"
    write_notebook(nb, path)
    return path


def find(root: Path, threshold: float = sim.THRESHOLD) -> list[sim.Finding]:
    return sim.find_similarities(root, COURSE_DIR, threshold, say=lambda _: None)


def rows(findings, kind, student=None, assignment=None):
    return [f for f in findings if f.kind == kind and (student is None or f.student == student)
            and (assignment is None or f.assignment == assignment)]


# --- normalisation ------------------------------------------------------------------------------------------------


def test_normalisation_survives_renaming_comments_docstrings_and_annotations():
    a = "def f(x: float, n=3) -> float:\n    '''Doc.'''\n    y = np.mean(x)  # mean\n\n    return y * n\n"
    b = "def g(values, count=3):\n    # average first\n    avg = np.mean(values)\n    return avg * count\n"
    c = "def g(values, count=3):\n    avg = np.median(values)\n    return avg * count\n"
    assert sim.normalised_tokens(a) == sim.normalised_tokens(b)
    assert "mean" in sim.normalised_tokens(a) and "np" in sim.normalised_tokens(a), "library calls are kept"
    assert sim.normalised_tokens(b) != sim.normalised_tokens(c), "a different library call is a difference"
    assert sim.normalised_tokens("n: int = 3\nm: int\n") == sim.normalised_tokens("k = 3\n")
    assert sim.normalised_tokens("%timeit f()\nx = f'{y}'\n") == sim.normalised_tokens("z = 'text'\n")


def test_fingerprints_are_deterministic_and_winnowed():
    tokens = sim.normalised_tokens(OWN["05_abx"]["dtw_distance"])
    fps = sim.fingerprints(tokens)
    assert fps == sim.fingerprints(list(tokens))
    n_grams = len(tokens) - sim.K + 1
    assert 0 < len(fps) < n_grams, "winnowing keeps a subset of the k-gram hashes"
    assert sim.fingerprints(tokens[: sim.K - 1]) == set()
    assert sim.overlap(fps, fps) == 1.0
    assert sim.overlap(fps, set(list(fps)[:3])) is None, "too few fingerprints for a score"


# --- copies of the course's code ----------------------------------------------------------------------------------


def test_copies_of_the_course_implementation_and_model_answer_are_flagged_own_answers_are_not(tmp_path):
    root = tmp_path / "class"
    for a in ("00_orientation", "05_abx"):
        submit(root, "copier", a, COURSE_COPY[a])
        submit(root, "modeller", a, MODEL_COPY[a])
        submit(root, "honest", a, OWN[a])
    findings = find(root)
    copies = {(f.student, f.assignment, f.function): f for f in rows(findings, "copy")}
    assert copies[("copier", "00_orientation", "segment_frames")].other == "course.frames.segment_frames"
    assert copies[("copier", "05_abx", "triplet_score")].other == "course.abx._triplet_score"
    assert copies[("copier", "05_abx", "_dtw")].other == "course.abx.dtw_batch", "a copied helper counts"
    assert copies[("modeller", "00_orientation", "pool_segments")].other == "model answer"
    assert copies[("modeller", "05_abx", "dtw_distance")].other == "model answer"
    for f in copies.values():
        assert f.score >= sim.THRESHOLD and "fingerprints" in f.detail
    assert not rows(findings, "copy", "honest"), "independently written answers are not copies"
    # ... and that is not because they were too short to be scored: with no threshold they get (low) scores
    scored = rows(find(root, threshold=0.0), "copy", "honest")
    assert {f.function for f in scored} >= {"segment_frames", "pool_segments", "dtw_distance", "triplet_score"}
    assert all(f.score < sim.THRESHOLD for f in scored)


def test_unparsable_answer_is_noted_not_flagged(tmp_path):
    root = tmp_path / "class"
    broken = COURSE_COPY["00_orientation"]["segment_frames"].replace("return range(lo, hi)", "return range(lo, hi")
    submit(root, "ann", "00_orientation", {"segment_frames": broken})
    submit(root, "bob", "00_orientation", COURSE_COPY["00_orientation"])
    submit(root, "cat", "00_orientation", {"pool_segments": "x = " + "1 + " * 20000 + "1"})  # too deep for ast
    findings = find(root)
    assert not rows(findings, "copy", "ann")
    assert any("segment_frames does not parse" in f.detail for f in rows(findings, "note", "ann"))
    assert any("pool_segments does not parse" in f.detail for f in rows(findings, "note", "cat"))
    assert rows(findings, "copy", "bob"), "the same code that parses is flagged"


# --- pairs of students --------------------------------------------------------------------------------------------


def test_near_identical_students_are_paired_independent_ones_and_stubs_are_not(tmp_path):
    root = tmp_path / "class"
    a = "00_orientation"
    submit(root, "ann", a, OWN[a])
    submit(root, "bob", a, OWN_DISGUISED)
    submit(root, "cat", a, OTHER)
    submit(root, "dan", a)          # the release notebook, unchanged
    submit(root, "eve", a)
    findings = find(root)
    pairs = rows(findings, "pair")
    assert [(f.student, f.other) for f in pairs] == [("ann", "bob")]
    assert pairs[0].score >= sim.THRESHOLD
    assert set(pairs[0].function.split()) == {"time_to_frame", "segment_frames", "pool_segments"}
    assert "shared fingerprints" in pairs[0].detail
    # with no threshold, independent answers still score low, and the stubs (base code) share nothing at all
    loose = {(f.student, f.other): f.score for f in rows(find(root, threshold=0.0), "pair")}
    assert all(score < sim.THRESHOLD for pair, score in loose.items() if pair != ("ann", "bob"))
    assert not any("dan" in pair or "eve" in pair for pair in loose)


def test_stub_only_class_has_no_pairs_but_copied_stub_plus_answer_does(tmp_path):
    root = tmp_path / "class"
    for student in ("s1", "s2", "s3"):
        submit(root, student, "05_abx")
    assert not rows(find(root, threshold=0.0), "pair")
    submit(root, "s1", "05_abx", OWN["05_abx"])
    submit(root, "s2", "05_abx", OWN["05_abx"])
    assert [(f.student, f.other) for f in rows(find(root), "pair")] == [("s1", "s2")]


def test_common_idioms_of_a_large_class_are_not_evidence_and_it_is_fast(tmp_path):
    root = tmp_path / "class"
    a = "00_orientation"
    nb_answers = [OWN[a], OTHER]
    for i in range(118):  # everyone hands in one of two answers: each answer is common, not a pair
        submit(root, f"s{i:03d}", a, nb_answers[i % 2])
    submit(root, "x1", a, COURSE_COPY[a])
    submit(root, "x2", a, COURSE_COPY[a])
    started = time.perf_counter()
    findings = find(root)
    elapsed = time.perf_counter() - started
    assert [(f.student, f.other) for f in rows(findings, "pair")] == [("x1", "x2")]
    assert elapsed < 30, f"120 students took {elapsed:.1f} s"


# --- answers that touch the grader --------------------------------------------------------------------------------


def _add_to_first_cell(code: str):
    def edit(nb):
        cell = next(c for c in nb.cells if c.cell_type == "code")
        cell.source += "\n" + code
    return edit


def test_answers_touching_the_grader_are_flagged(tmp_path):
    root = tmp_path / "class"
    a = "00_orientation"
    tracer = "import sys\n\nsys.settrace(lambda *args: None)\n" + OWN[a]["segment_frames"]
    submit(root, "gil", a, {**OWN[a], "segment_frames": tracer},
           edit=_add_to_first_cell("import ctypes\nfrom course.grading.guard import own_work"))
    sneaky = OWN[a]["pool_segments"].replace("feats = np.array(features)",
                                             'feats = np.array(features)\n    getattr(sys, "settrace")(None)\n'
                                             '    g = pool_segments.__code__\n'
                                             '    mod = importlib.import_module("course.grading.guard")')
    submit(root, "ivy", a, {**OWN[a], "pool_segments": sneaky})
    harmless = OWN[a]["pool_segments"].replace(
        "feats = np.array(features)",
        "# never use eval() here, nor sys.settrace\n    feats = np.array(features)\n"
        "    pattern = re.compile('x')\n    model.eval()\n    note = 'evaluate the frames'")
    submit(root, "hal", a, {**OWN[a], "pool_segments": harmless})
    findings = find(root)
    hits = {(f.student, f.function): f.detail for f in rows(findings, "grader")}
    assert hits[("gil", "segment_frames")] == "touches the grader: uses sys.settrace"
    first_cell = next(k for k in hits if k[0] == "gil" and k[1].startswith("cell "))
    assert "ctypes" in hits[first_cell], "a cell the learner edited outside the answers counts too"
    assert "course.grading.guard" in hits[first_cell], "the test cells' own use of the guard does not excuse it"
    assert "course.grading.fallback" not in hits[first_cell], "the release's own import is not the learner's"
    assert "sys.settrace" in hits[("ivy", "pool_segments")] and "__code__" in hits[("ivy", "pool_segments")]
    assert "importlib" in hits[("ivy", "pool_segments")]
    assert "course.grading.guard" in hits[("ivy", "pool_segments")]
    assert not rows(findings, "grader", "hal"), \
        "comments, model.eval(), re.compile and the release's own course.grading.fallback import are not flagged"


@pytest.mark.parametrize("code, label", [
    ("sys.setprofile(f)", "sys.setprofile"), ("threading.settrace(f)", "sys.settrace"),
    ("m = sys.modules['course.frames']", "sys.modules"), ("src = inspect.getsource(f)", "inspect.getsource"),
    ("exec(code)", "exec"), ("eval('1')", "eval"), ("compile(src, 'x', 'exec')", "compile"),
    ("import subprocess", "subprocess"), ("from multiprocessing import Pool", "multiprocessing"),
    ("os.system('ls')", "os.system"), ("gc.get_referents(f)", "gc.get_referents"),
    ("from course import grading", "course.grading"),
])
def test_grader_patterns(code, label):
    assert label in sim.grader_hits(code)
    assert sim.grader_hits("# " + code) == [], "a comment is not a use"


def test_plain_scientific_code_does_not_touch_the_grader():
    code = OWN["05_abx"]["dtw_distance"] + "\nmodel.eval()\nrx = re.compile('a')\ntorch.compile(model)\n"
    assert sim.grader_hits(code) == []


# --- the report ---------------------------------------------------------------------------------------------------


def test_report_from_a_zip_with_a_corrupt_notebook(tmp_path):
    root = tmp_path / "class"
    submit(root, "ann", "00_orientation", COURSE_COPY["00_orientation"])
    submit(root, "bob", "00_orientation", COURSE_COPY["00_orientation"])
    submit(root, "cat", "00_orientation", OWN["00_orientation"])
    bad = root / "joe" / "00_orientation" / "00_orientation.ipynb"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"cells": [', encoding="utf-8")
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(root.rglob("*")):
            zf.write(path, Path("export") / path.relative_to(root))
    out = tmp_path / "out"
    csv_path = sim.similarity_report(archive, out, COURSE_DIR, say=lambda _: None)
    assert csv_path == out / "similarity.csv"
    with open(csv_path, newline="", encoding="utf-8") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == list(sim.CSV_FIELDS)
    kinds = [(r["kind"], r["student"]) for r in table]
    assert ("copy", "ann") in kinds and ("copy", "bob") in kinds and ("pair", "ann") in kinds
    assert not any(student == "cat" for kind, student in kinds if kind != "note")
    assert any(r["kind"] == "note" and r["student"] == "joe" and "invalid_notebook" in r["detail"] for r in table)
    text = (out / "similarity.md").read_text(encoding="utf-8")
    assert "not a verdict" in text and "course.frames.segment_frames" in text
    first = csv_path.read_bytes()
    sim.similarity_report(root, out, COURSE_DIR, say=lambda _: None)
    assert csv_path.read_bytes() == first, "the report is deterministic (and the same from a folder or a zip)"


def test_cli_similarity(tmp_path, capsys):
    from course.cli import main

    root = tmp_path / "class"
    submit(root, "ann", "05_abx", OWN["05_abx"])
    submit(root, "bob", "05_abx", OWN["05_abx"])
    assert main(["similarity", str(root), "--out", str(tmp_path / "out"), "--threshold", "0.9"]) == 0
    assert "1 pair" in capsys.readouterr().out
    assert (tmp_path / "out" / "similarity.md").is_file()
    assert main(["similarity", str(root), "--out", str(tmp_path / "out"), "--threshold", "2"]) == 2
    with pytest.raises(SystemExit):
        main(["similarity", "--help"])
    assert f"default {sim.THRESHOLD}" in capsys.readouterr().out


# --- speech-course grade writes the report, and never loses a grade to it -----------------------------------------


@pytest.fixture
def fake_grading(monkeypatch):
    """grade_class with nbgrader, the sandbox and the jobs replaced: every executed submission scores 0."""
    from course.grading import grade
    from course.grading.job import not_graded
    from course.grading.notebooks import graded_cells

    class Prepared:
        def __init__(self, assignment):
            self.source = COURSE_DIR / "source" / assignment / f"{assignment}.ipynb"
            self.notebook = f"{assignment}.ipynb"
            self.cells = tuple(graded_cells(read_notebook(self.source)))
            self.max_score = sum(c.points for c in self.cells if c.kind == "test")
            self.manual_points = sum(c.points for c in self.cells if c.kind == "answer")

        def source_nb(self):
            return read_notebook(self.source)

    def run_jobs(todo, prepared, jobs, mode, options):
        return [(s, not_graded("ok", "", prepared[s.assignment].source_nb(), prepared[s.assignment].max_score), None)
                for s in todo]

    monkeypatch.setattr(grade, "prepare_assignment", lambda course_dir, a, tmp: Prepared(a))
    monkeypatch.setattr(grade, "_run_jobs", run_jobs)
    monkeypatch.setattr(grade, "_publish", lambda *args: None)
    monkeypatch.setattr(grade, "resolve_mode", lambda requested: "none")
    return grade


def test_grade_writes_the_similarity_report(tmp_path, fake_grading):
    root = tmp_path / "class"
    submit(root, "ann", "05_abx", OWN["05_abx"])
    submit(root, "bob", "05_abx", OWN["05_abx"])
    options = fake_grading.GradeOptions(course_dir=COURSE_DIR, record=False, progress=False)
    rows_ = fake_grading.grade_class(root, tmp_path / "out", options, say=lambda _: None)
    assert len(rows_) == 2 and (tmp_path / "out" / "grades.csv").is_file()
    assert "pair,05_abx,ann,bob" in (tmp_path / "out" / "similarity.csv").read_text(encoding="utf-8")
    options = fake_grading.GradeOptions(course_dir=COURSE_DIR, record=False, progress=False, similarity=False)
    fake_grading.grade_class(root, tmp_path / "out2", options, say=lambda _: None)
    assert (tmp_path / "out2" / "grades.csv").is_file() and not (tmp_path / "out2" / "similarity.csv").exists()


def test_a_failing_report_loses_no_grade(tmp_path, fake_grading, monkeypatch, capsys):
    def boom(*args, **kwargs):
        raise RuntimeError("report exploded")

    monkeypatch.setattr(fake_grading, "similarity_report", boom)  # the name the grader calls
    root = tmp_path / "class"
    submit(root, "ann", "05_abx", OWN["05_abx"])
    submit(root, "bob", "05_abx")
    options = fake_grading.GradeOptions(course_dir=COURSE_DIR, record=False, progress=False)
    rows_ = fake_grading.grade_class(root, tmp_path / "out", options, say=lambda _: None)
    with open(tmp_path / "out" / "grades.csv", newline="", encoding="utf-8") as f:
        graded = [(r["student_id"], r["assignment"]) for r in csv.DictReader(f)]
    assert graded == [("ann", "05_abx"), ("bob", "05_abx")] and len(rows_) == 2
    assert "similarity report failed (RuntimeError: report exploded)" in capsys.readouterr().err
