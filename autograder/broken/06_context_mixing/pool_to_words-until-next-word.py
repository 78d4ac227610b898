# Bug: lets each word run until the next word starts (from the start times only), so pauses are pooled into the word before them.
def pool_to_words(matrix, spans):
    """Mean of matrix over (target word frames) x (source word frames): shape (len(spans), len(spans))."""
    m = np.asarray(matrix, dtype=float)
    starts = [a for a, _ in spans]
    ends = starts[1:] + [spans[-1][1]]
    out = np.empty((len(spans), len(spans)))
    for i in range(len(spans)):
        for j in range(len(spans)):
            out[i, j] = m[starts[i]:ends[i], starts[j]:ends[j]].mean()
    return out
