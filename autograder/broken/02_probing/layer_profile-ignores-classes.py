# Bug: keeps every phone, also those outside `classes`: a test phone the probe never learnt counts as an error.
def layer_profile(datasets, control_datasets, heldout_speakers, classes, max_iter=MAX_ITER):
    """Per layer, each held-out speaker's probe accuracy on the model's dataset and on the control's: a DataFrame
    with the columns layer, speaker, model, control, sorted by layer, then speaker."""
    rows = []
    for layer, (ds, ctrl) in enumerate(zip(datasets, control_datasets)):
        test = np.isin(ds.groups, list(heldout_speakers))
        fit, score = ~test, test
        right = {}
        for name, d in (("model", ds), ("control", ctrl)):
            probe = reference.train_probe(d.X[fit], d.y[fit], d.X[score], d.y[score], max_iter=max_iter).probe
            right[name] = probe.predict(d.X[score]) == d.y[score]
        who = ds.groups[score]
        for speaker in np.unique(who):
            mine = who == speaker
            rows.append((layer, speaker, right["model"][mine].mean(), right["control"][mine].mean()))
    return pd.DataFrame(rows, columns=["layer", "speaker", "model", "control"])
