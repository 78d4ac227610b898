# No control: scores only the first representation (the layer under study) and leaves out the controls.
def heldout_phone_scores(representations, phones, speakers, train, test, folds):
    """Phone accuracy of every held-out speaker, per representation."""
    phones, speakers = np.asarray(phones), np.asarray(speakers)
    train, test = np.asarray(train, dtype=bool), np.asarray(test, dtype=bool)
    names = sorted(set(speakers[test].tolist()))
    name, X = next(iter(representations.items()))
    X = np.asarray(X)
    right = np.zeros(len(phones), dtype=bool)
    for fold in folds:
        inside = np.isin(speakers, list(fold))
        fit, score = train & ~inside, test & inside
        if score.any():
            probe = train_probe(X[fit], phones[fit], X[score], phones[score]).probe
            right[score] = probe.predict(X[score]) == phones[score]
    return pd.DataFrame({name: [right[test & (speakers == s)].mean() for s in names]},
                        index=pd.Index(names, name="speaker"))
