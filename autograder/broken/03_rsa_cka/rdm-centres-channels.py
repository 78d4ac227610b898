# Bug: centres each channel across the stimuli (axis 0) instead of each pattern across its channels (axis 1).
def rdm(X):
    """Correlation-distance RDM of the rows of ``X``: ``D[i, j] = 1 - pearson(X[i], X[j])``, shape (n, n), float64."""
    X = np.asarray(X, dtype=np.float64)
    centred = X - X.mean(axis=0, keepdims=True)
    unit = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    D = 1.0 - unit @ unit.T
    D = (D + D.T) / 2.0
    np.fill_diagonal(D, 0.0)
    return D
