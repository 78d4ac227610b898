# Bug: cka and the feature form never centre (uncentred kernel alignment), so a representation's mean offset changes the score.
def center_gram(K):
    """H K H with H = I - 11^T / n, for a symmetric (n, n) Gram matrix; float64."""
    K = np.asarray(K, dtype=np.float64)
    column_means = K.mean(axis=0)
    return K - column_means[None, :] - column_means[:, None] + column_means.mean()


def cka(gram_x, gram_y):
    """CKA of two (n, n) Gram matrices over the same stimuli: <HKH, HLH>_F / (||HKH||_F ||HLH||_F)."""
    K, L = np.asarray(gram_x, dtype=np.float64), np.asarray(gram_y, dtype=np.float64)
    return float(np.sum(K * L) / (np.linalg.norm(K) * np.linalg.norm(L)))


def feature_space_linear_cka(X, Y):
    """Linear CKA of X (n, p) and Y (n, q) from the features: ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)."""
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    return float(np.linalg.norm(Y.T @ X) ** 2 / (np.linalg.norm(X.T @ X) * np.linalg.norm(Y.T @ Y)))
