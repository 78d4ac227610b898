# Bug: draws one control task on the training items and another on the test items, so a type can change its control label across the split.
def probe_selectivity(X_train, types_train, y_train, X_test, types_test, y_test, seed=0):
    """Hewitt & Liang selectivity of a linear probe: ``(task accuracy, control accuracy, selectivity)``."""
    mapping_train = control_task(types_train, y_train, seed=seed)
    mapping_test = control_task(types_test, y_test, seed=seed)
    control_train = np.array([mapping_train[t] for t in types_train])
    control_test = np.array([mapping_test[t] for t in types_test])
    task_accuracy = probe_scores(X_train, y_train, X_test, y_test)[0]
    control_accuracy = probe_scores(X_train, control_train, X_test, control_test)[0]
    return task_accuracy, control_accuracy, task_accuracy - control_accuracy
