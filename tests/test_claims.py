"""Findings as code (course.claims): sentences checked against outputs, and the build that runs the checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from course.claims import ClaimError, Claims, claimed_sentences, sentences_not_in_text, verify_comes_last
from course.grading.build import render_assignment

REPO = Path(__file__).resolve().parents[1]


def test_a_number_holds_when_the_value_rounds_to_what_the_sentence_shows():
    claims = Claims("demo")
    assert claims.number("the probe reaches 0.93 on held-out speakers", "0.93", 0.9312)
    assert not claims.number("the probe reaches 0.93 on held-out speakers", "0.93", 0.9371)
    assert claims.number("it is right 93 % of the time", "93 %", 0.9321)
    assert not claims.number("it is right 93% of the time", "93%", 0.9371)
    assert claims.number("layer 3 is best", "3", 3.2)
    assert [c.holds for c in claims.checked] == [True, False, True, False, True]
    assert claims.checked[1].evidence == "value=0.9371, rounds_to='0.94'"
    with pytest.raises(ClaimError, match="not in the sentence"):
        claims.number("the probe reaches 0.93", "0.95", 0.95)


def test_verify_names_every_sentence_that_does_not_hold_and_refuses_an_empty_check():
    claims = Claims("02_probing")
    claims.check("the profile peaks in the middle", True, best=3)
    claims.check("the random control stays near chance", False, control=0.61, chance=0.1)
    claims.check("MFCCs beat the random model", False, mfcc=0.5, random=0.7)
    with pytest.raises(ClaimError) as err:
        claims.verify()
    text = str(err.value)
    assert "02_probing: 2 of 3 sentences" in text
    assert "'the random control stays near chance' (control=0.61, chance=0.1)" in text
    assert "MFCCs beat the random model" in text and "peaks in the middle" not in text
    with pytest.raises(ClaimError, match="no claim was checked"):
        Claims("x").verify()
    ok = Claims("x")
    ok.check("fine", True)
    ok.verify()


def test_the_sentences_of_a_claims_script_are_found_without_running_it_and_must_be_in_the_text():
    code = ('from course.claims import Claims\nc = Claims("a")\nc.check("The probe peaks at layer 3.", best == 3)\n'
            'c.number("reaches 0.93 on held-out\\nspeakers", "0.93", acc)\nc.verify()\n')
    assert claimed_sentences(code) == ["The probe peaks at layer 3.", "reaches 0.93 on held-out\nspeakers"]
    text = ["# Results\n\nThe probe peaks at\nlayer 3. It reaches 0.93 on held-out speakers, with an interval."]
    assert sentences_not_in_text(code, text) == []
    assert sentences_not_in_text(code, ["The probe peaks at layer 4. It reaches 0.93 on held-out speakers."]) \
        == ["The probe peaks at layer 3."]
    with pytest.raises(ClaimError, match="string literal"):
        claimed_sentences('c.check(f"peaks at layer {best}", True)')
    shared = 'S = "It reaches 0.93 on held-out speakers."\nc.number(S, "0.93", x)\nc.check(S, True)\n'
    assert claimed_sentences(shared) == ["It reaches 0.93 on held-out speakers."] * 2
    for bad in ('S = "a"\nS = "b"\nc.check(S, True)',  # bound twice: which sentence?
                'S = "a" + b\nc.check(S, True)',  # not a literal
                'def f():\n    S = "a"\n    c.check(S, True)',  # not at the top of the script
                'for S in ["a"]:\n    c.check(S, True)',  # a loop variable
                'c.check(T, True)'):  # never bound
        with pytest.raises(ClaimError, match="string literal"):
            claimed_sentences(bad)


def test_a_claims_script_must_end_with_its_one_verification():
    verify_comes_last('c = Claims("a")\nc.check("x", True)\nc.verify()\n')
    for bad in ('c.check("x", True)\n',  # never judged
                'c.check("x", True)\nc.verify()\nc.check("y", False)\n',  # "y" is recorded after the verdict
                'c.check("x", True)\nc.verify()\nc.verify()\n',
                ''):
        with pytest.raises(ClaimError, match="exactly once, as its last statement"):
            verify_comes_last(bad)


def test_every_notebook_claims_file_ends_with_its_verification():
    files = sorted((Path(__file__).resolve().parents[1] / "autograder" / "claims").glob("*.py"))
    assert len(files) >= 9
    for path in files:
        verify_comes_last(path.read_text(encoding="utf-8"))


@pytest.fixture
def tiny_course(tmp_path: Path) -> Path:
    course = tmp_path / "autograder"
    (course / "source" / "01_demo").mkdir(parents=True)
    shutil.copy(REPO / "autograder" / "nbgrader_config.py", course / "nbgrader_config.py")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Demo\n\nThe model answers 42 to everything."),
                nbformat.v4.new_code_cell("answer = 6 * 7\nprint(answer)")]
    nbformat.write(nb, course / "source" / "01_demo" / "01_demo.ipynb")
    (course / "claims").mkdir()
    return course


CLAIM = ('from course.claims import Claims\nclaims = Claims("01_demo")\n'
         'claims.number("The model answers 42 to everything.", "42", answer)\nclaims.verify()\n')


def test_the_build_runs_the_claims_after_the_solution_and_keeps_them_out_of_what_it_writes(tiny_course, tmp_path):
    (tiny_course / "claims" / "01_demo.py").write_text(CLAIM)
    files, _ = render_assignment(tiny_course, "01_demo", tmp_path / "work")
    for name in ("exercises/01_demo.ipynb", "solutions/01_demo.ipynb"):
        assert "Claims" not in files[name] and "claims" not in files[name], name
    assert "42" in files["solutions/01_demo.ipynb"]


def test_a_falsified_claim_fails_the_build_with_its_sentence(tiny_course, tmp_path):
    """The broken variant of the mechanism: the text says 42, a changed notebook now computes 48."""
    (tiny_course / "claims" / "01_demo.py").write_text(CLAIM)
    path = tiny_course / "source" / "01_demo" / "01_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].source = "answer = 6 * 8\nprint(answer)"
    nbformat.write(nb, path)
    with pytest.raises(Exception) as err:
        render_assignment(tiny_course, "01_demo", tmp_path / "work")
    assert "The model answers 42 to everything." in str(err.value)
    assert "rounds_to='48'" in str(err.value)


def test_a_claim_on_a_sentence_the_text_does_not_have_stops_the_build_before_running(tiny_course, tmp_path):
    (tiny_course / "claims" / "01_demo.py").write_text(CLAIM.replace("to everything", "to all questions"))
    with pytest.raises(ClaimError, match="not in 01_demo's text"):
        render_assignment(tiny_course, "01_demo", tmp_path / "work", execute=False)
