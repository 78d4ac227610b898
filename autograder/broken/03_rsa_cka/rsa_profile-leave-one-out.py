# Bug: scores each speaker's row on all the other speakers' stimuli (the jackknife's leave-one-out set), not its own.
def rsa_profile(layers, control_layers, reference_rdm, speakers):
    """Per layer and speaker, the RSA of the model's layer and of the control's with the reference, each speaker's
    stimuli alone: a DataFrame with the columns layer, speaker, model, control, sorted by layer, then speaker."""
    speakers = np.asarray(speakers)
    rows = []
    for layer, (X, C) in enumerate(zip(layers, control_layers)):
        X, C = np.asarray(X), np.asarray(C)
        for speaker in np.unique(speakers):
            rest = np.flatnonzero(speakers != speaker)
            ref = reference_rdm[np.ix_(rest, rest)]
            rows.append((layer, speaker, compare_rdms(rdm(X[rest]), ref), compare_rdms(rdm(C[rest]), ref)))
    return pd.DataFrame(rows, columns=["layer", "speaker", "model", "control"])
