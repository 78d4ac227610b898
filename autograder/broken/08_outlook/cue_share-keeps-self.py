# Bug: counts the target's own entry among the "other words", so its large self-relevance dilutes the comparison.
def cue_share(matrix, target, cue):
    """Target row: the cue's entry over the mean entry of the other words (the target's own column left out)."""
    m = np.asarray(matrix, dtype=float)
    if np.any(m < 0):
        raise ValueError("relevance must be non-negative: take absolute values first")
    row = m[..., target, :]
    others = [j for j in range(m.shape[-1]) if j != cue]
    ratio = row[..., cue] / row[..., others].mean(axis=-1)
    return float(ratio) if np.ndim(ratio) == 0 else ratio
