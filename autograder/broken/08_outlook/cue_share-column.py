# Bug: reads the target's column (what other words draw from the target) instead of its row (what the target draws on); the same only for symmetric matrices.
def cue_share(matrix, target, cue):
    """Target row: the cue's entry over the mean entry of the other words (the target's own column left out)."""
    m = np.asarray(matrix, dtype=float)
    if np.any(m < 0):
        raise ValueError("relevance must be non-negative: take absolute values first")
    col = m[..., :, target]
    others = [j for j in range(m.shape[-1]) if j not in (target, cue)]
    ratio = col[..., cue] / col[..., others].mean(axis=-1)
    return float(ratio) if np.ndim(ratio) == 0 else ratio
