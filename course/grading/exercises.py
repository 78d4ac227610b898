"""What each exercise of an assignment asks of the learner, read from the notebook's Markdown.

Every exercise starts with a heading ``Exercise N (P points): title`` followed, in the same cell, by a line that
rates it and boxes its time::

    **Difficulty** ●●○○○ · **Importance** ●●●●○ · **Time box:** up to 15 minutes

and, in that cell or a Markdown cell after it (before its answer cell), one or two collapsible hints::

    <details><summary>Hint 1</summary> ... </details>

:func:`exercises` parses them; :func:`reading_minutes` and :func:`estimate_minutes` turn a notebook into the
time estimate its first cell states (reading at about 200 words a minute, plus each exercise's time box). Bonus
sections (a level-1 or level-2 heading that starts with "Bonus" or "Extra") and model answers are not on the core
path and are not counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nbformat import NotebookNode

HEADING = re.compile(r"^#{2,4}\s+(?:\d+\.\s+)?Exercise\s+(\d+)\s+\((\d+)\s+points?\):\s*(.+?)\s*$", re.M)
RATING = re.compile(r"\*\*Difficulty\*\*\s+([●○]{5})\s+·\s+\*\*Importance\*\*\s+([●○]{5})\s+·\s+"
                    r"\*\*Time box:\*\*\s+up to\s+(\d+)\s+minutes")
HINT = re.compile(r"<details>\s*<summary>\s*Hint\b", re.I)
TOP_HEADING = re.compile(r"#{1,2}\s+(?:\d+\.\s+)?(.+)")
SOLUTION = re.compile(r"### BEGIN SOLUTION.*?### END SOLUTION", re.S)
WORDS_PER_MINUTE = 200


@dataclass
class Exercise:
    """One exercise as the notebook presents it."""

    number: int
    points: int
    title: str
    cell: int  # index of the cell with its heading
    difficulty: int | None = None  # 1-5, None if the rating line is missing
    importance: int | None = None
    minutes: int | None = None  # the time box
    hints: int = 0
    problems: list[str] = field(default_factory=list)


def _rating(dots: str) -> int:
    return dots.count("●")


def exercises(nb: NotebookNode) -> list[Exercise]:
    """Every exercise of ``nb`` in order, with its rating, time box, number of hints and what is missing."""
    found: list[Exercise] = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for m in HEADING.finditer(cell.source):
            ex = Exercise(int(m.group(1)), int(m.group(2)), m.group(3).strip(), i)
            rating = RATING.search(cell.source, m.end())
            if rating:
                ex.difficulty, ex.importance = _rating(rating.group(1)), _rating(rating.group(2))
                ex.minutes = int(rating.group(3))
            ex.hints = len(HINT.findall(cell.source[m.end():]))
            for later in nb.cells[i + 1:]:  # hints may follow in Markdown cells up to the next code cell
                if later.cell_type != "markdown" or HEADING.search(later.source):
                    break
                ex.hints += len(HINT.findall(later.source))
            found.append(ex)
    for ex in found:
        if ex.difficulty is None:
            ex.problems.append("no rating line (**Difficulty** ●●○○○ · **Importance** ●●●○○ · **Time box:** up to "
                               "N minutes) under the heading")
        elif not (1 <= ex.difficulty <= 5 and 1 <= ex.importance <= 5 and ex.minutes > 0):
            ex.problems.append("difficulty and importance must be 1-5 filled dots, the time box positive")
        if ex.hints < 1:
            ex.problems.append("no collapsible hint (<details><summary>Hint 1</summary> ... </details>)")
    numbers = [ex.number for ex in found]
    if numbers != list(range(1, len(found) + 1)):
        for ex in found:
            ex.problems.append(f"exercises are numbered {numbers}, not 1 .. {len(found)}")
    return found


def core_markdown(nb: NotebookNode) -> list[str]:
    """The Markdown the learner reads on the core path: model answers, Bonus (or "Extra") sections and the
    References list left out (a list of works to look up, not prose to read on the way).

    A section is a cell that starts with a level-1 or level-2 heading; it runs to the next such cell.
    """
    texts, bonus = [], False
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        top = TOP_HEADING.match(cell.source.lstrip())
        if top:
            bonus = top.group(1).lower().startswith(("bonus", "extra", "references"))
        if not bonus:
            texts.append(SOLUTION.sub("", cell.source))
    return texts


def word_count(nb: NotebookNode) -> int:
    """Words of prose on the core path (HTML tags, URLs and formula markup count as words too: a rough count)."""
    return sum(len(text.split()) for text in core_markdown(nb))


def reading_minutes(nb: NotebookNode) -> float:
    """Minutes to read the core path at :data:`WORDS_PER_MINUTE`."""
    return word_count(nb) / WORDS_PER_MINUTE


def estimate_minutes(nb: NotebookNode) -> float:
    """Reading time plus every exercise's time box."""
    return reading_minutes(nb) + sum(ex.minutes or 0 for ex in exercises(nb))
