# Bug: treats the span end as inclusive (frames first..stop), so every word also averages the first frame after it.
def pool_to_words(matrix, spans):
    """Mean of matrix over (target word frames) x (source word frames): shape (len(spans), len(spans))."""
    m = np.asarray(matrix, dtype=float)
    out = np.empty((len(spans), len(spans)))
    for i, (a, b) in enumerate(spans):
        for j, (c, d) in enumerate(spans):
            out[i, j] = m[a:b + 1, c:d + 1].mean()
    return out
