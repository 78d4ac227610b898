# Bug: assumes the transformers 4 convention (the last entry is already normalised) and never normalises it, so the last layer is not the model's output.
def ctc_lens_logits(hidden_states, final_norm, head, last_normed):
    """The CTC head applied to every layer's hidden states: float32 array (L + 1, n_frames, vocab)."""
    h = torch.as_tensor(np.asarray(hidden_states), dtype=torch.float32)
    with torch.no_grad():
        if final_norm is not None:
            h = torch.cat([final_norm(h[:-1]), h[-1:]])
        return head(h).numpy()
