# Bug: permutes the pooled scores between the two conditions (an unpaired test), so a large item effect shared by both conditions drowns a consistent paired difference.
def paired_sign_flip_test(a, b, n_perm=10000, seed=0):
    """Two-sided paired permutation (sign-flip) test of mean(a - b) = 0: the p-value."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a and b must pair up item by item, got shapes {a.shape} and {b.shape}")
    observed = abs(a.mean() - b.mean())
    pooled = np.concatenate([a, b])
    rng = np.random.default_rng(seed)
    count = 0
    for _ in range(n_perm):
        shuffled = rng.permutation(pooled)
        count += abs(shuffled[:len(a)].mean() - shuffled[len(a):].mean()) >= observed - 1e-12
    return float((1 + count) / (n_perm + 1))
