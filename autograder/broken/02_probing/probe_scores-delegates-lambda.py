# Delegates: a lambda that trains the probe with the course's train_probe.
probe_scores = lambda X_train, y_train, X_test, y_test, task="classification", C=1.0, alpha=1.0, max_iter=MAX_ITER: \
    np.array([(r := reference.train_probe(X_train, y_train, X_test, y_test, task=task, C=C, alpha=alpha,
                                          max_iter=max_iter)).score, r.train_score])
