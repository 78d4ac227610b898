"""Error rates for transcriptions: edit distance, phone/word error rate."""

from __future__ import annotations

from typing import Sequence


def edit_distance(ref: Sequence, hyp: Sequence) -> int:
    """Levenshtein distance (substitutions, insertions, deletions all cost 1)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def error_rate(refs: Sequence[Sequence], hyps: Sequence[Sequence]) -> float:
    """Total edit distance over total reference length (corpus-level PER/WER).

    Parameters
    ----------
    refs, hyps : sequences of token sequences
        E.g. lists of phones, or of words (``text.split()``).
    """
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses.")
    total = sum(len(r) for r in refs)
    if total == 0:
        raise ValueError("The references are empty.")
    return sum(edit_distance(r, h) for r, h in zip(refs, hyps)) / total
