# Bug: a tie counts as right (<=) instead of one half.
def triplet_score(d_xa, d_xb, exclude_same=False):
    """Mean score of the triplets (X_i, A_j, B_k): 1 if d(X, A) < d(X, B), 1/2 on a tie, 0 otherwise."""
    d_xa, d_xb = np.asarray(d_xa, dtype=float), np.asarray(d_xb, dtype=float)
    scores = (d_xa[:, :, None] <= d_xb[:, None, :]).astype(float)
    if exclude_same:
        scores = scores[~np.eye(*d_xa.shape, dtype=bool)]
    return float(scores.mean())
