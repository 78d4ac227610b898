# Bug: returns (train score, test score) instead of (test score, train score); invisible while both are 1.0.
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def probe_scores(X_train, y_train, X_test, y_test, task="classification", C=1.0, alpha=1.0, max_iter=MAX_ITER):
    """Fit a standardised linear probe on the training set: ``(test score, train score)``."""
    if task == "classification":
        model = LogisticRegression(C=C, max_iter=max_iter, tol=1e-3)
    elif task == "regression":
        model = Ridge(alpha=alpha)
    else:
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    probe = make_pipeline(StandardScaler(), model).fit(X_train, y_train)
    return float(probe.score(X_train, y_train)), float(probe.score(X_test, y_test))
