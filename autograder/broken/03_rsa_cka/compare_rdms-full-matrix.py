# Bug: correlates the ranks of the whole matrices, so the zero diagonal and the mirrored lower triangle enter the score.
def compare_rdms(rdm_a, rdm_b):
    """RSA score: Spearman correlation of the upper triangles (diagonal excluded) of two RDMs."""
    a, b = np.asarray(rdm_a, dtype=np.float64).ravel(), np.asarray(rdm_b, dtype=np.float64).ravel()
    return float(np.corrcoef(stats.rankdata(a), stats.rankdata(b))[0, 1])
