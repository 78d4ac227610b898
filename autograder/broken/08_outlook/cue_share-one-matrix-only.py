# Bug: indexes matrix[target] as if there were a single matrix, so a stack of matrices (one per layer) picks a layer instead of the target's row.
def cue_share(matrix, target, cue):
    """Target row: the cue's entry over the mean entry of the other words (the target's own column left out)."""
    m = np.asarray(matrix, dtype=float)
    if np.any(m < 0):
        raise ValueError("relevance must be non-negative: take absolute values first")
    row = m[target]
    others = [j for j in range(m.shape[-1]) if j not in (target, cue)]
    ratio = row[..., cue] / row[..., others].mean(axis=-1)
    return float(ratio) if np.ndim(ratio) == 0 else ratio
