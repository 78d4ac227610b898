# Delegates: a wrapper around the course's held-out scoring.
def heldout_phone_scores(representations, phones, speakers, train, test, folds):
    """Phone accuracy of every held-out speaker, per representation."""
    return probing_ref.heldout_scores(representations, phones, speakers, train, test, folds)
