# Bug: compares the model's layers twice (a copy-paste slip): the control column repeats the model's, no control runs.
def rsa_profile(layers, control_layers, reference_rdm, speakers):
    """Per layer and speaker, the RSA of the model's layer and of the control's with the reference, each speaker's
    stimuli alone: a DataFrame with the columns layer, speaker, model, control, sorted by layer, then speaker."""
    speakers = np.asarray(speakers)
    rows = []
    for layer, (X, C) in enumerate(zip(layers, control_layers)):
        X, C = np.asarray(X), np.asarray(X)
        for speaker in np.unique(speakers):
            mine = np.flatnonzero(speakers == speaker)
            ref = reference_rdm[np.ix_(mine, mine)]
            rows.append((layer, speaker, compare_rdms(rdm(X[mine]), ref), compare_rdms(rdm(C[mine]), ref)))
    return pd.DataFrame(rows, columns=["layer", "speaker", "model", "control"])
