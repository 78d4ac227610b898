# Delegates: a wrapper around the course's lens_profile, through a helper of its own.
def _profile(*args):
    return lenses.lens_profile(*args)


def lens_profile(paths, control_paths, refs, speakers, heldout_speakers, blank_id, tokens_of):
    """Per layer, each held-out speaker's greedy CTC lens error rate for the model and for the control."""
    return _profile(paths, control_paths, refs, speakers, heldout_speakers, blank_id, tokens_of)
