# Bug: ignores the residual argument and always mixes half attention, half identity.
def attention_rollout(attentions, residual=0.5):
    """R_1 = Â_1, R_l = Â_l @ R_{l-1} with Â_l = (1 - residual) A_l + residual I, rows renormalised."""
    a = np.asarray(attentions, dtype=float)
    eye = np.eye(a.shape[-1])
    out = np.empty_like(a)
    rollout = eye
    for l, att in enumerate(a):
        mixed = 0.5 * att + 0.5 * eye
        mixed = mixed / mixed.sum(axis=1, keepdims=True)
        rollout = mixed @ rollout
        out[l] = rollout
    return out
