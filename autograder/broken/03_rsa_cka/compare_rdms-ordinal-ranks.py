# Bug: ranks by argsort of argsort, so tied dissimilarities (a categorical RDM) get arbitrary distinct ranks instead of their average rank.
def compare_rdms(rdm_a, rdm_b):
    """RSA score: Spearman correlation of the upper triangles (diagonal excluded) of two RDMs."""
    rdm_a, rdm_b = np.asarray(rdm_a, dtype=np.float64), np.asarray(rdm_b, dtype=np.float64)
    upper = np.triu_indices(len(rdm_a), k=1)
    ranks_a = np.argsort(np.argsort(rdm_a[upper]))
    ranks_b = np.argsort(np.argsort(rdm_b[upper]))
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])
