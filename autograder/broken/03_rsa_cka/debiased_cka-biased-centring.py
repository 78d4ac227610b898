# Bug: centres with H K H and only zeroes the diagonal afterwards: still the biased estimator, high for unrelated data with few stimuli.
def unbiased_center_gram(K):
    """U-centring of a symmetric (n, n) Gram matrix (Székely & Rizzo 2014): zero diagonal, float64, n >= 4."""
    K = np.array(K, dtype=np.float64)
    n = K.shape[0]
    if n < 4:
        raise ValueError(f"debiased CKA needs at least 4 stimuli, got {n}")
    H = np.eye(n) - np.ones((n, n)) / n
    K = H @ K @ H
    np.fill_diagonal(K, 0.0)
    return K


def debiased_cka(gram_x, gram_y):
    """Debiased CKA of two (n, n) Gram matrices: CKA with U-centred matrices (unbiased HSIC)."""
    Kt, Lt = unbiased_center_gram(gram_x), unbiased_center_gram(gram_y)
    return float(np.sum(Kt * Lt) / (np.linalg.norm(Kt) * np.linalg.norm(Lt)))
