# Bug: Pearson correlation of the raw dissimilarities instead of their ranks (not invariant to monotone transforms).
def compare_rdms(rdm_a, rdm_b):
    """RSA score: Spearman correlation of the upper triangles (diagonal excluded) of two RDMs."""
    rdm_a, rdm_b = np.asarray(rdm_a, dtype=np.float64), np.asarray(rdm_b, dtype=np.float64)
    upper = np.triu_indices(len(rdm_a), k=1)
    return float(np.corrcoef(rdm_a[upper], rdm_b[upper])[0, 1])
