# Delegates: a copy of the notebook's visible helper (course_probe_selectivity), which calls the course's functions.
def probe_selectivity(X_train, types_train, y_train, X_test, types_test, y_test, seed=0):
    """[task accuracy, control accuracy, selectivity] of a probe and its control task."""
    mapping = reference.control_task(np.concatenate([types_train, types_test]), np.concatenate([y_train, y_test]),
                                     seed=seed)
    task = reference.train_probe(X_train, y_train, X_test, y_test, max_iter=MAX_ITER).score
    control = reference.train_probe(X_train, reference.control_labels(types_train, mapping), X_test,
                                    reference.control_labels(types_test, mapping), max_iter=MAX_ITER).score
    return np.array([task, control, reference.selectivity(task, control)])
