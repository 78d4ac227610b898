# Bug: leaves the observed labelling out of the count, so a strong effect gets p = 0, which no finite permutation test can show.
def paired_sign_flip_test(a, b, n_perm=10000, seed=0):
    """Two-sided paired permutation (sign-flip) test of mean(a - b) = 0: the p-value."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a and b must pair up item by item, got shapes {a.shape} and {b.shape}")
    d = a - b
    observed = abs(d.mean())
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(n_perm, len(d)))
    null = np.abs((signs * d).mean(axis=1))
    return float(np.count_nonzero(null >= observed - 1e-12) / n_perm)
