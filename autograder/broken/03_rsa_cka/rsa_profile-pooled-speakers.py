# Bug: pools the speakers: one RSA over all stimuli per layer, repeated on every speaker's row.
def rsa_profile(layers, control_layers, reference_rdm, speakers):
    """Per layer and speaker, the RSA of the model's layer and of the control's with the reference, each speaker's
    stimuli alone: a DataFrame with the columns layer, speaker, model, control, sorted by layer, then speaker."""
    speakers = np.asarray(speakers)
    rows = []
    for layer, (X, C) in enumerate(zip(layers, control_layers)):
        model = compare_rdms(rdm(np.asarray(X)), reference_rdm)
        control = compare_rdms(rdm(np.asarray(C)), reference_rdm)
        for speaker in np.unique(speakers):
            rows.append((layer, speaker, model, control))
    return pd.DataFrame(rows, columns=["layer", "speaker", "model", "control"])
