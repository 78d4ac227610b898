# Bug: np.asarray does not copy a float64 array, so fill_diagonal zeroes the diagonal of the caller's Gram matrix.
def unbiased_center_gram(K):
    """U-centring of a symmetric (n, n) Gram matrix (Székely & Rizzo 2014): zero diagonal, float64, n >= 4."""
    K = np.asarray(K, dtype=np.float64)
    n = K.shape[0]
    if n < 4:
        raise ValueError(f"debiased CKA needs at least 4 stimuli, got {n}")
    np.fill_diagonal(K, 0.0)
    r = K.sum(axis=0) / (n - 2)
    g = K.sum() / ((n - 1) * (n - 2))
    Kt = K - r[:, None] - r[None, :] + g
    np.fill_diagonal(Kt, 0.0)
    return Kt


def debiased_cka(gram_x, gram_y):
    """Debiased CKA of two (n, n) Gram matrices: CKA with U-centred matrices (unbiased HSIC)."""
    Kt, Lt = unbiased_center_gram(gram_x), unbiased_center_gram(gram_y)
    return float(np.sum(Kt * Lt) / (np.linalg.norm(Kt) * np.linalg.norm(Lt)))
