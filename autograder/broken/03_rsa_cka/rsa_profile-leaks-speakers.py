# Bug: scores each speaker on every pair that involves one of its stimuli: pairs with other speakers' stimuli leak in.
def rsa_profile(layers, control_layers, reference_rdm, speakers):
    """Per layer and speaker, the RSA of the model's layer and of the control's with the reference, each speaker's
    stimuli alone: a DataFrame with the columns layer, speaker, model, control, sorted by layer, then speaker."""
    speakers = np.asarray(speakers)
    reference_rdm = np.asarray(reference_rdm)
    upper = np.triu(np.ones(reference_rdm.shape, dtype=bool), k=1)
    rows = []
    for layer, (X, C) in enumerate(zip(layers, control_layers)):
        D, D_control = rdm(np.asarray(X)), rdm(np.asarray(C))
        for speaker in np.unique(speakers):
            mine = speakers == speaker
            pairs = upper & (mine[:, None] | mine[None, :])  # the pairs with one of this speaker's stimuli
            ref = stats.rankdata(reference_rdm[pairs])
            rows.append((layer, speaker, np.corrcoef(stats.rankdata(D[pairs]), ref)[0, 1],
                         np.corrcoef(stats.rankdata(D_control[pairs]), ref)[0, 1]))
    return pd.DataFrame(rows, columns=["layer", "speaker", "model", "control"])
