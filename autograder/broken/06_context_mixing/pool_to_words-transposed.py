# Bug: pools the source word's frames into the rows and the target word's into the columns (the transpose).
def pool_to_words(matrix, spans):
    """Mean of matrix over (target word frames) x (source word frames): shape (len(spans), len(spans))."""
    m = np.asarray(matrix, dtype=float)
    out = np.empty((len(spans), len(spans)))
    for i, (a, b) in enumerate(spans):
        for j, (c, d) in enumerate(spans):
            out[i, j] = m[c:d, a:b].mean()
    return out
