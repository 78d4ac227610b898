# Bug: compares each X's mean distance to the A tokens with its mean distance to the B tokens (one decision per X) instead of scoring every (X, A, B) triplet.
def triplet_score(d_xa, d_xb, exclude_same=False):
    """Mean score of the triplets (X_i, A_j, B_k): 1 if d(X, A) < d(X, B), 1/2 on a tie, 0 otherwise."""
    d_xa, d_xb = np.asarray(d_xa, dtype=float), np.asarray(d_xb, dtype=float)
    if exclude_same:
        keep = ~np.eye(*d_xa.shape, dtype=bool)
        to_a = np.array([row[k].mean() for row, k in zip(d_xa, keep)])
    else:
        to_a = d_xa.mean(axis=1)
    to_b = d_xb.mean(axis=1)
    return float(np.mean((to_a < to_b) + 0.5 * (to_a == to_b)))
