# Delegates: a wrapper around the course's cue_gap_profile.
def cue_gap_profile(measure, control_measure, utterances):
    """Per layer and speaker, the mean gap under ``measure`` and under ``control_measure``."""
    return cm.cue_gap_profile(measure, control_measure, utterances)
