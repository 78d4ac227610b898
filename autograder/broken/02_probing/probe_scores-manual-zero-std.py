# Bug: standardises by hand with the training statistics but divides by a zero standard deviation for a constant feature (NaN).
from sklearn.linear_model import LogisticRegression, Ridge


def probe_scores(X_train, y_train, X_test, y_test, task="classification", C=1.0, alpha=1.0, max_iter=MAX_ITER):
    """Fit a standardised linear probe on the training set: ``(test score, train score)``."""
    if task == "classification":
        model = LogisticRegression(C=C, max_iter=max_iter, tol=1e-3)
    elif task == "regression":
        model = Ridge(alpha=alpha)
    else:
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    mean, std = np.mean(X_train, axis=0), np.std(X_train, axis=0)
    Z_train, Z_test = (X_train - mean) / std, (X_test - mean) / std
    model.fit(Z_train, y_train)
    return float(model.score(Z_test, y_test)), float(model.score(Z_train, y_train))
