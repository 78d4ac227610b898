# Bug: computes in the input's dtype: with float32 hidden states or Gram matrices and a large offset, centring loses most digits.
def center_gram(K):
    """H K H with H = I - 11^T / n, for a symmetric (n, n) Gram matrix; float64."""
    K = np.asarray(K)
    column_means = K.mean(axis=0)
    return K - column_means[None, :] - column_means[:, None] + column_means.mean()


def cka(gram_x, gram_y):
    """CKA of two (n, n) Gram matrices over the same stimuli: <HKH, HLH>_F / (||HKH||_F ||HLH||_F)."""
    Kc, Lc = center_gram(gram_x), center_gram(gram_y)
    return float(np.sum(Kc * Lc) / (np.linalg.norm(Kc) * np.linalg.norm(Lc)))


def feature_space_linear_cka(X, Y):
    """Linear CKA of X (n, p) and Y (n, q) from the features: ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)."""
    X, Y = np.asarray(X), np.asarray(Y)
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    return float(np.linalg.norm(Yc.T @ Xc) ** 2 / (np.linalg.norm(Xc.T @ Xc) * np.linalg.norm(Yc.T @ Yc)))
