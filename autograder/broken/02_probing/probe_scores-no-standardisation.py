# Bug: fits the logistic regression on the raw features, so features in large units dominate the L2 penalty and L-BFGS.
from sklearn.linear_model import LogisticRegression, Ridge


def probe_scores(X_train, y_train, X_test, y_test, task="classification", C=1.0, alpha=1.0, max_iter=MAX_ITER):
    """Fit a standardised linear probe on the training set: ``(test score, train score)``."""
    if task == "classification":
        model = LogisticRegression(C=C, max_iter=max_iter, tol=1e-3)
    elif task == "regression":
        model = Ridge(alpha=alpha)
    else:
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    model.fit(X_train, y_train)
    return float(model.score(X_test, y_test)), float(model.score(X_train, y_train))
