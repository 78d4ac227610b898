# Bug: compares signed mean differences (a one-sided test), so a consistent difference in the other direction gets p close to 1.
def paired_sign_flip_test(a, b, n_perm=10000, seed=0):
    """Two-sided paired permutation (sign-flip) test of mean(a - b) = 0: the p-value."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a and b must pair up item by item, got shapes {a.shape} and {b.shape}")
    d = a - b
    observed = d.mean()
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(n_perm, len(d)))
    null = (signs * d).mean(axis=1)
    return float((1 + np.count_nonzero(null >= observed - 1e-12)) / (n_perm + 1))
