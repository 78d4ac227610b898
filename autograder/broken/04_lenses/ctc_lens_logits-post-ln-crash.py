# Bug: calls final_norm without checking for None, so a post-LN model (final_norm=None) raises TypeError.
def ctc_lens_logits(hidden_states, final_norm, head, last_normed):
    """The CTC head applied to every layer's hidden states: float32 array (L + 1, n_frames, vocab)."""
    h = torch.as_tensor(np.asarray(hidden_states), dtype=torch.float32)
    with torch.no_grad():
        n_norm = len(h) - 1 if last_normed else len(h)
        h = torch.cat([final_norm(h[:n_norm]), h[n_norm:]])
        return head(h).numpy()
