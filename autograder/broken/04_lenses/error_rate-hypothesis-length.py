# Bug: divides by the total hypothesis length instead of the reference length, so insertions lower the rate.
def edit_distance(ref, hyp):
    """Levenshtein distance between two token sequences (substitution, deletion, insertion: 1 each)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def error_rate(refs, hyps):
    """Corpus-level token error rate: total edit distance over the total number of reference tokens."""
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    if sum(len(r) for r in refs) == 0:
        raise ValueError("the references hold no token: the error rate is undefined")
    return sum(edit_distance(r, h) for r, h in zip(refs, hyps)) / max(sum(len(h) for h in hyps), 1)
