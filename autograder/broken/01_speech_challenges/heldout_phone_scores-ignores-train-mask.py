# Sentence leak: fits on every segment of the speakers outside the fold, their test segments (the same sentences) too.
def heldout_phone_scores(representations, phones, speakers, train, test, folds):
    """Phone accuracy of every held-out speaker, per representation."""
    phones, speakers = np.asarray(phones), np.asarray(speakers)
    test = np.asarray(test, dtype=bool)
    names = sorted(set(speakers[test].tolist()))
    table = {}
    for name, X in representations.items():
        X = np.asarray(X)
        right = np.zeros(len(phones), dtype=bool)
        for fold in folds:
            inside = np.isin(speakers, list(fold))
            score = test & inside
            if score.any():
                probe = train_probe(X[~inside], phones[~inside], X[score], phones[score]).probe
                right[score] = probe.predict(X[score]) == phones[score]
        table[name] = [right[test & (speakers == s)].mean() for s in names]
    return pd.DataFrame(table, index=pd.Index(names, name="speaker"))
