# Delegates: a wrapper around the course's slot_word_profile.
def slot_word_profile(methods, utterances, slot):
    """Per ranking and speaker, the mean top and share: a DataFrame with the columns ranking, speaker, top, share."""
    return attribution.slot_word_profile(methods, utterances, slot)
