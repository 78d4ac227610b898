# Bug: assumes the blank is always id 0 (true for the shipped model) and ignores the blank_id argument.
def ctc_greedy_decode(ids, blank_id):
    """Best-path CTC decoding: merge runs of repeated ids, then drop blanks; a list of Python ints."""
    out = []
    prev = None
    for i in ids:
        i = int(i)
        if i != prev and i != 0:
            out.append(i)
        prev = i
    return out
