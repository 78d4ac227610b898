# Delegates: a wrapper around the course's duration table.
def phone_duration_stats(utterances):
    """Duration statistics in milliseconds per phone label."""
    return frames_ref.duration_stats(utterances)
