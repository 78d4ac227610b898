# Bug: standardises the test set with its own mean and standard deviation (fit_transform on the test data), which adapts the probe to the held-out speakers.
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.preprocessing import StandardScaler


def probe_scores(X_train, y_train, X_test, y_test, task="classification", C=1.0, alpha=1.0, max_iter=MAX_ITER):
    """Fit a standardised linear probe on the training set: ``(test score, train score)``."""
    if task == "classification":
        model = LogisticRegression(C=C, max_iter=max_iter, tol=1e-3)
    elif task == "regression":
        model = Ridge(alpha=alpha)
    else:
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    Z_train = StandardScaler().fit_transform(X_train)
    Z_test = StandardScaler().fit_transform(X_test)
    model.fit(Z_train, y_train)
    return float(model.score(Z_test, y_test)), float(model.score(Z_train, y_train))
