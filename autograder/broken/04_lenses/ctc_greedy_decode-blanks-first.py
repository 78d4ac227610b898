# Bug: drops the blanks before merging repeats, so a real double token (a _ a) collapses into one.
def ctc_greedy_decode(ids, blank_id):
    """Best-path CTC decoding: merge runs of repeated ids, then drop blanks; a list of Python ints."""
    kept = [int(i) for i in ids if int(i) != blank_id]
    out = []
    for i in kept:
        if not out or out[-1] != i:
            out.append(i)
    return out
