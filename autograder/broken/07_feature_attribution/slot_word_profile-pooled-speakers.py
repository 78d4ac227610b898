# Bug: pools every command before averaging: each speaker's row holds the mean over all speakers' commands.
def slot_word_profile(methods, utterances, slot):
    """Per ranking and speaker, the mean top and share: a DataFrame with the columns ranking, speaker, top, share."""
    rankings = dict(methods)
    rankings["control: duration"] = lambda u: np.array([w.end - w.start for w in u.words])
    every, speakers = [], set()
    for u in utterances:
        mask = np.zeros(len(u.words), dtype=bool)
        mask[[int(i) for i in str(u.labels[f"{slot}_words"]).split()]] = True
        stats = []
        for fn in rankings.values():
            s = np.asarray(fn(u), dtype=float)
            pos = np.clip(s, 0, None)
            stats.append((float(mask[np.argmax(s)]), pos[mask].sum() / pos.sum() if pos.sum() > 0 else 0.0))
        stats.append((mask.mean(), mask.mean()))
        every.append(stats)
        speakers.add(u.speaker)
    pooled = np.mean(every, axis=0)
    names = [*rankings, "control: random"]
    rows = [(name, s, *pooled[k]) for k, name in enumerate(names) for s in sorted(speakers)]
    return pd.DataFrame(rows, columns=["ranking", "speaker", "top", "share"])
