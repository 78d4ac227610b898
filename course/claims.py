"""Findings as code: a sentence that says what the shipped models show is checked against the outputs it describes.

Each notebook's claims live beside its source, in ``autograder/claims/<assignment>.py``: a short script that runs
in the solution's kernel after the notebook's last cell, with every variable of the notebook at hand::

    from course.claims import Claims

    claims = Claims("02_probing")
    claims.check("The phone probe peaks in the middle layers", 2 <= best_layer <= 4, best_layer=best_layer)
    claims.number("reaches 0.93 on held-out speakers", "0.93", accuracy)
    claims.verify()

``speech-course build`` (and ``build --check``, which CI runs) refuses a claims file whose sentences do not occur,
word for word, in the notebook's Markdown (so the sentence checked is the sentence a learner reads), runs it after
the solution and stops with every sentence that no longer holds. The file never reaches learners: it is not part
of the nbgrader source, the exercise or the solution. A retrained model or a corpus change that makes a sentence
false then fails the build with that sentence, instead of leaving it wrong in the text.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from course.errors import CourseError


class ClaimError(CourseError, AssertionError):
    """A sentence of the course's text does not hold on the outputs, or is not in the text it claims to check."""


@dataclass(frozen=True)
class Claim:
    """One checked sentence: whether it holds, and the values it was checked on."""

    sentence: str
    holds: bool
    evidence: str


class Claims:
    """The claims of one notebook, checked against its outputs.

    Parameters
    ----------
    notebook : str
        The assignment the sentences belong to (named in the error).
    """

    def __init__(self, notebook: str) -> None:
        self.notebook = notebook
        self.checked: list[Claim] = []

    def check(self, sentence: str, holds: bool, **evidence: object) -> bool:
        """Record whether ``sentence`` holds (``holds``), with the values it rests on (shown if it does not)."""
        shown = ", ".join(f"{k}={v!r}" for k, v in evidence.items())
        self.checked.append(Claim(sentence, bool(holds), shown))
        return bool(holds)

    def number(self, sentence: str, shown: str, value: float) -> bool:
        """Check that the number ``shown`` in ``sentence`` is ``value`` rounded to as many decimals as it shows.

        ``shown`` must occur in ``sentence`` ("0.93" in "reaches 0.93 on held-out speakers"); a percentage
        ("93 %" or "93%") stands for ``value`` as a share (0.93).
        """
        if shown not in sentence:
            raise ClaimError(f"{self.notebook}: the number {shown!r} is not in the sentence {sentence!r}.")
        text = shown.strip()
        percent = text.endswith("%")
        digits = text.rstrip("% ")
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        printed = f"{value * 100 if percent else value:.{decimals}f}"
        return self.check(sentence, printed == digits, value=value, rounds_to=printed)

    def failed(self) -> list[Claim]:
        """The claims checked so far that do not hold."""
        return [c for c in self.checked if not c.holds]

    def verify(self) -> None:
        """Raise :class:`ClaimError` naming every sentence that does not hold (or if nothing was checked)."""
        if not self.checked:
            raise ClaimError(f"{self.notebook}: no claim was checked; a claims file checks at least one sentence.")
        bad = self.failed()
        if bad:
            lines = "\n".join(f"  - {c.sentence!r} ({c.evidence})" for c in bad)
            raise ClaimError(f"{self.notebook}: {len(bad)} of {len(self.checked)} sentences no longer hold on "
                             f"the outputs; change the text (and its claim) or find what changed:\n{lines}")


_CHECKS = ("check", "number")


def _string_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level names bound exactly once, to a string literal (``sentence = "..."``)."""
    bound: dict[str, list] = {}
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AugAssign, ast.AnnAssign, ast.For)) else []
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name):
                    bound.setdefault(name.id, []).append(node)
    return {name: nodes[0].value.value for name, nodes in bound.items()
            if len(nodes) == 1 and isinstance(nodes[0], ast.Assign) and nodes[0] in tree.body
            and isinstance(nodes[0].value, ast.Constant) and isinstance(nodes[0].value.value, str)}


def claimed_sentences(code: str) -> list[str]:
    """The sentences a claims script checks: the first argument of every ``.check(...)`` and ``.number(...)`` call.

    The argument is a string literal, or a name bound once, at the top of the script, to a string literal (for a
    sentence that several checks share).

    Raises
    ------
    ClaimError
        If a sentence is neither (it could not be found in the text before running anything).
    """
    tree = ast.parse(code)
    constants = _string_constants(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _CHECKS:
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append(first.value)
            elif isinstance(first, ast.Name) and first.id in constants:
                found.append(constants[first.id])
            else:
                raise ClaimError(f"line {node.lineno}: the sentence of a claim must be a string literal (or a name "
                                 "bound once, at the top of the script, to one), so that the build can find it in "
                                 "the notebook's text before running anything.")
    return found


def verify_comes_last(code: str) -> None:
    """Check that a claims script calls ``.verify()`` once, as its last statement.

    A check after the verification would be recorded and never judged: its sentence could stop holding and the
    build would not notice.

    Raises
    ------
    ClaimError
        If the script has no ``.verify()``, more than one, or statements after it.
    """
    tree = ast.parse(code)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and node.func.attr == "verify"]
    last = tree.body[-1] if tree.body else None
    ends = (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and last.value in calls)
    if len(calls) != 1 or not ends:
        where = ", ".join(f"line {c.lineno}" for c in calls) or "none"
        raise ClaimError("a claims script calls .verify() exactly once, as its last statement, so that every check "
                         f"before it is judged (.verify() calls: {where}).")


def _words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def sentences_not_in_text(code: str, markdown: list[str]) -> list[str]:
    """The sentences of a claims script that do not occur in ``markdown`` (the notebook's Markdown cells).

    Runs of white space count as one space, so a sentence may wrap differently in the notebook.
    """
    text = _words(" ".join(markdown))
    return [s for s in claimed_sentences(code) if _words(s) not in text]


def claims_file(course_dir: Path, assignment: str) -> Path:
    """Where the claims of ``assignment`` live (the file may not exist)."""
    return Path(course_dir) / "claims" / f"{assignment}.py"
