# Speaker leak: one classifier fitted on every train segment, the scored speakers' own enrolment segments included.
def heldout_phone_scores(representations, phones, speakers, train, test, folds):
    """Phone accuracy of every held-out speaker, per representation."""
    phones, speakers = np.asarray(phones), np.asarray(speakers)
    train, test = np.asarray(train, dtype=bool), np.asarray(test, dtype=bool)
    names = sorted(set(speakers[test].tolist()))
    table = {}
    for name, X in representations.items():
        X = np.asarray(X)
        probe = train_probe(X[train], phones[train], X[test], phones[test]).probe
        right = np.zeros(len(phones), dtype=bool)
        right[test] = probe.predict(X[test]) == phones[test]
        table[name] = [right[test & (speakers == s)].mean() for s in names]
    return pd.DataFrame(table, index=pd.Index(names, name="speaker"))
