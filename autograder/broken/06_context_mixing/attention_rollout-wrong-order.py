# Bug: multiplies the new layer on the right (R_l = R_{l-1} @ Â_l), the wrong order of the product.
def attention_rollout(attentions, residual=0.5):
    """R_1 = Â_1, R_l = Â_l @ R_{l-1} with Â_l = (1 - residual) A_l + residual I, rows renormalised."""
    a = np.asarray(attentions, dtype=float)
    eye = np.eye(a.shape[-1])
    out = np.empty_like(a)
    rollout = eye
    for l, att in enumerate(a):
        mixed = (1 - residual) * att + residual * eye
        mixed = mixed / mixed.sum(axis=1, keepdims=True)
        rollout = rollout @ mixed
        out[l] = rollout
    return out
