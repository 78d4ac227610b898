# Bug: forgets the residual connection and multiplies the raw attention matrices.
def attention_rollout(attentions, residual=0.5):
    """R_1 = Â_1, R_l = Â_l @ R_{l-1} with Â_l = (1 - residual) A_l + residual I, rows renormalised."""
    a = np.asarray(attentions, dtype=float)
    out = np.empty_like(a)
    rollout = np.eye(a.shape[-1])
    for l, att in enumerate(a):
        mixed = att / att.sum(axis=1, keepdims=True)
        rollout = mixed @ rollout
        out[l] = rollout
    return out
