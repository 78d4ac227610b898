# Bug: ignores exclude_same, so within a speaker X is compared with itself (distance 0: a free win).
def triplet_score(d_xa, d_xb, exclude_same=False):
    """Mean score of the triplets (X_i, A_j, B_k): 1 if d(X, A) < d(X, B), 1/2 on a tie, 0 otherwise."""
    d_xa, d_xb = np.asarray(d_xa, dtype=float), np.asarray(d_xb, dtype=float)
    scores = (d_xa[:, :, None] < d_xb[:, None, :]) + 0.5 * (d_xa[:, :, None] == d_xb[:, None, :])
    return float(scores.mean())
