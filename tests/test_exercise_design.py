"""Exercise design: every exercise rated, time-boxed and hinted; core paths short; estimates honest."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course.grading import exercises as E
from course.grading.layout import assignment_ids

COURSE = Path(__file__).parents[1] / "autograder"
MAX_CORE_WORDS = 3000

#: Notebooks whose exercise-design pass is not done yet; each leaves this set when it passes the checks below.
PENDING: set[str] = set()

RATED = "**Difficulty** ●●○○○ · **Importance** ●●●●○ · **Time box:** up to 15 minutes"


def _nb(*cells):
    nb = new_notebook()
    nb.cells = list(cells)
    return nb


def _source(assignment: str):
    return nbformat.read(COURSE / "source" / assignment / f"{assignment}.ipynb", as_version=4)


def _problems(assignment: str) -> list[str]:
    nb = _source(assignment)
    exercises = E.exercises(nb)
    found = [f"Exercise {ex.number}: {p}" for ex in exercises for p in ex.problems]
    if not exercises:
        found.append("no exercise")
    words = E.word_count(nb)
    if words > MAX_CORE_WORDS:
        found.append(f"{words} words of prose on the core path (at most {MAX_CORE_WORDS}; move depth to Bonus "
                     "sections)")
    stated = re.search(r"\*\*Estimated time:\*\*\s*(?:about\s+)?(\d+)(?:\s*[–-]\s*(\d+))?\s+minutes",
                       nb.cells[0].source)
    estimate = E.estimate_minutes(nb)
    if not stated:
        found.append("the first cell states no **Estimated time:** N–M minutes")
    else:
        low, high = int(stated.group(1)), int(stated.group(2) or stated.group(1))
        if not low <= estimate <= high + 5:
            found.append(f"stated {low}–{high} minutes, but reading ({E.reading_minutes(nb):.0f} min at "
                         f"{E.WORDS_PER_MINUTE} words a minute) plus the time boxes gives {estimate:.0f}")
    return found


def test_a_rated_exercise_with_hints_is_read():
    nb = _nb(new_markdown_cell(f"## 2. Exercise 1 (3 points): the probe\n\n{RATED}\n\nWrite it."),
             new_markdown_cell("<details><summary>Hint 1</summary>\n\nStandardise.\n\n</details>\n"
                               "<details><summary>Hint 2 (close to the answer)</summary>\n\nUse a pipeline.\n\n"
                               "</details>"),
             new_code_cell("def probe(): ..."))
    (ex,) = E.exercises(nb)
    assert (ex.number, ex.points, ex.title, ex.difficulty, ex.importance, ex.minutes, ex.hints) == \
        (1, 3, "the probe", 2, 4, 15, 2)
    assert ex.problems == []
    assert E.estimate_minutes(nb) == pytest.approx(15 + E.word_count(nb) / E.WORDS_PER_MINUTE)


def test_a_missing_rating_or_hint_is_named():
    nb = _nb(new_markdown_cell("### Exercise 1 (2 points): `rdm`\n\nWrite it."), new_code_cell("x = 1"),
             new_markdown_cell("<details><summary>Hint 1</summary>\n\nToo late: after the answer cell.</details>"))
    (ex,) = E.exercises(nb)
    assert any("rating line" in p for p in ex.problems) and any("hint" in p for p in ex.problems)


def test_misnumbered_exercises_are_named():
    nb = _nb(new_markdown_cell(f"### Exercise 1 (2 points): a\n\n{RATED}\n<details><summary>Hint</summary>h</details>"),
             new_markdown_cell(f"### Exercise 3 (2 points): b\n\n{RATED}\n<details><summary>Hint</summary>h</details>"))
    assert all(any("numbered [1, 3]" in p for p in ex.problems) for ex in E.exercises(nb))


def test_bonus_sections_and_model_answers_are_not_on_the_core_path():
    nb = _nb(new_markdown_cell("## 1. Core\n\none two three"),
             new_markdown_cell("### BEGIN SOLUTION\nmany words of a model answer\n### END SOLUTION"),
             new_markdown_cell("## Bonus: depth\n\nfour five six seven"),
             new_markdown_cell("more bonus words"),
             new_markdown_cell("## 2. Back on the path\n\neight"),
             new_markdown_cell("## References\n\n* Someone (2020). A long title of a paper. [@someone2020]"))
    assert E.core_markdown(nb)[1].strip() == ""
    assert E.word_count(nb) == len("## 1. Core one two three ## 2. Back on the path eight".split())


@pytest.mark.parametrize("assignment", sorted(set(assignment_ids(COURSE)) - PENDING))
def test_exercise_design_of_finished_notebooks(assignment):
    problems = _problems(assignment)
    assert not problems, f"{assignment}:\n" + "\n".join(problems)


def test_pending_notebooks_still_need_the_pass():
    """A notebook that passes every check must leave PENDING, so that the checks above guard it from then on."""
    assert PENDING <= set(assignment_ids(COURSE))
    done = sorted(a for a in PENDING if not _problems(a))
    assert not done, f"remove {done} from PENDING: they pass the exercise-design checks"
