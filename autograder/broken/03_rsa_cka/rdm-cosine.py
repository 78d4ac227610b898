# Bug: does not centre the patterns at all, so it computes the cosine distance instead of the correlation distance.
def rdm(X):
    """Correlation-distance RDM of the rows of ``X``: ``D[i, j] = 1 - pearson(X[i], X[j])``, shape (n, n), float64."""
    X = np.asarray(X, dtype=np.float64)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)
    D = 1.0 - unit @ unit.T
    D = (D + D.T) / 2.0
    np.fill_diagonal(D, 0.0)
    return D
