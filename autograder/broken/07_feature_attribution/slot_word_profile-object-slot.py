# Bug: always reads the object's words, whatever slot is explained (right only while SLOT is "object").
def slot_word_profile(methods, utterances, slot):
    """Per ranking and speaker, the mean top and share: a DataFrame with the columns ranking, speaker, top, share."""
    rankings = dict(methods)
    rankings["control: duration"] = lambda u: np.array([w.end - w.start for w in u.words])
    per_speaker = {}
    for u in utterances:
        mask = np.zeros(len(u.words), dtype=bool)
        mask[[int(i) for i in str(u.labels["object_words"]).split()]] = True
        stats = []
        for fn in rankings.values():
            s = np.asarray(fn(u), dtype=float)
            pos = np.clip(s, 0, None)
            stats.append((float(mask[np.argmax(s)]), pos[mask].sum() / pos.sum() if pos.sum() > 0 else 0.0))
        stats.append((mask.mean(), mask.mean()))
        per_speaker.setdefault(u.speaker, []).append(stats)
    names = [*rankings, "control: random"]
    means = {s: np.mean(v, axis=0) for s, v in per_speaker.items()}
    rows = [(name, s, *means[s][k]) for k, name in enumerate(names) for s in sorted(means)]
    return pd.DataFrame(rows, columns=["ranking", "speaker", "top", "share"])
