# Bug: always builds the control task with seed 0, whatever seed the caller asks for.
def probe_selectivity(X_train, types_train, y_train, X_test, types_test, y_test, seed=0):
    """Hewitt & Liang selectivity of a linear probe: ``(task accuracy, control accuracy, selectivity)``."""
    mapping = control_task(np.concatenate([types_train, types_test]), np.concatenate([y_train, y_test]))
    control_train = np.array([mapping[t] for t in types_train])
    control_test = np.array([mapping[t] for t in types_test])
    task_accuracy = probe_scores(X_train, y_train, X_test, y_test)[0]
    control_accuracy = probe_scores(X_train, control_train, X_test, control_test)[0]
    return task_accuracy, control_accuracy, task_accuracy - control_accuracy
