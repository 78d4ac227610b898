# Delegates: a wrapper around the course's rdm.
def rdm(X):
    """Representational dissimilarity matrix: 1 - Pearson correlation between the rows of X."""
    return reference.rdm(np.asarray(X, dtype=float))
