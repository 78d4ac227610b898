# Bug: the one-pass formula mean(xy) - mean(x) mean(y), computed in the input's dtype: float32 patterns with a large common offset lose their digits (and the RDM comes back float32).
def rdm(X):
    """Correlation-distance RDM of the rows of ``X``: ``D[i, j] = 1 - pearson(X[i], X[j])``, shape (n, n), float64."""
    X = np.asarray(X)
    p = X.shape[1]
    means = X.mean(axis=1, keepdims=True)
    stds = X.std(axis=1, keepdims=True)
    r = (X @ X.T / p - means @ means.T) / (stds @ stds.T)
    D = 1.0 - r
    D = (D + D.T) / 2.0
    np.fill_diagonal(D, 0.0)
    return D
