# Pools across speakers: every speaker of a fold gets the fold's pooled accuracy, not its own.
def heldout_phone_scores(representations, phones, speakers, train, test, folds):
    """Phone accuracy of every held-out speaker, per representation."""
    phones, speakers = np.asarray(phones), np.asarray(speakers)
    train, test = np.asarray(train, dtype=bool), np.asarray(test, dtype=bool)
    names = sorted(set(speakers[test].tolist()))
    table = {name: {} for name in representations}
    for name, X in representations.items():
        X = np.asarray(X)
        for fold in folds:
            inside = np.isin(speakers, list(fold))
            fit, score = train & ~inside, test & inside
            if score.any():
                accuracy = train_probe(X[fit], phones[fit], X[score], phones[score]).score
                for s in set(speakers[score].tolist()):
                    table[name][s] = accuracy
    return pd.DataFrame({name: [table[name][s] for s in names] for name in representations},
                        index=pd.Index(names, name="speaker"))
