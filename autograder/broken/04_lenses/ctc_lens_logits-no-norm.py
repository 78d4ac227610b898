# Bug: applies the head to the raw residual stream, without the encoder's final layer norm.
def ctc_lens_logits(hidden_states, final_norm, head, last_normed):
    """The CTC head applied to every layer's hidden states: float32 array (L + 1, n_frames, vocab)."""
    h = torch.as_tensor(np.asarray(hidden_states), dtype=torch.float32)
    with torch.no_grad():
        return head(h).numpy()
