# Bug: ignores last_normed and normalises every entry: right for wav2vec 2.0 in transformers 5, a double norm where the last entry already has it.
def ctc_lens_logits(hidden_states, final_norm, head, last_normed):
    """The CTC head applied to every layer's hidden states: float32 array (L + 1, n_frames, vocab)."""
    h = torch.as_tensor(np.asarray(hidden_states), dtype=torch.float32)
    with torch.no_grad():
        if final_norm is not None:
            h = final_norm(h)
        return head(h).numpy()
