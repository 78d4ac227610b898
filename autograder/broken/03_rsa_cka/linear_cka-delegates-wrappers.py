# Delegates: three thin wrappers around the course's centring and CKA.
def center_gram(K):
    """Double-centred Gram matrix HKH."""
    return reference.center_gram(K)


def cka(gram_x, gram_y):
    """Linear CKA of two Gram matrices."""
    return reference.cka(gram_x, gram_y)


def feature_space_linear_cka(X, Y):
    """Linear CKA of two feature matrices (rows are the same stimuli)."""
    return reference.feature_space_linear_cka(X, Y)
