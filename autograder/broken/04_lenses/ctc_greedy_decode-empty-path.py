# Bug: starts from ids[0], so an empty path raises IndexError instead of decoding to [].
def ctc_greedy_decode(ids, blank_id):
    """Best-path CTC decoding: merge runs of repeated ids, then drop blanks; a list of Python ints."""
    merged = [int(ids[0])] + [int(b) for a, b in zip(ids[:-1], ids[1:]) if b != a]
    return [i for i in merged if i != blank_id]
