# Delegates: a copy of the notebook's visible helper (course_ctc_lens_logits), which calls the course's lens.
def ctc_lens_logits(hidden_states, final_norm, head, last_normed):
    """The CTC head applied to every layer's hidden states: float32 array (L + 1, n_frames, vocab)."""
    return lenses.ctc_lens_logits(ctc_model, hidden_states, last_normed)
