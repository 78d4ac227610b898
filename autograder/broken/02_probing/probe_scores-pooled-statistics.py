# Bug: computes the scaling statistics on the training and test vectors together, so the test speakers leak into the standardisation.
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
    scaler = StandardScaler().fit(np.concatenate([X_train, X_test]))
    model.fit(scaler.transform(X_train), y_train)
    return float(model.score(scaler.transform(X_test), y_test)), float(model.score(scaler.transform(X_train), y_train))
