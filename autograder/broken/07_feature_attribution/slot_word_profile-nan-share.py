# Bug: divides by the positive total even when it is 0: a command whose scores are all negative gets share NaN.
def slot_word_profile(methods, utterances, slot):
    """Per ranking and speaker, the mean top and share: a DataFrame with the columns ranking, speaker, top, share."""
    rankings = dict(methods)
    rankings["control: duration"] = lambda u: np.array([w.end - w.start for w in u.words])
    per_speaker = {}
    for u in utterances:
        mask = np.zeros(len(u.words), dtype=bool)
        mask[[int(i) for i in str(u.labels[f"{slot}_words"]).split()]] = True
        stats = []
        for fn in rankings.values():
            s = np.asarray(fn(u), dtype=float)
            pos = np.clip(s, 0, None)
            with np.errstate(invalid="ignore"):
                stats.append((float(mask[np.argmax(s)]), pos[mask].sum() / pos.sum()))
        stats.append((mask.mean(), mask.mean()))
        per_speaker.setdefault(u.speaker, []).append(stats)
    names = [*rankings, "control: random"]
    means = {s: np.mean(v, axis=0) for s, v in per_speaker.items()}
    rows = [(name, s, *means[s][k]) for k, name in enumerate(names) for s in sorted(means)]
    return pd.DataFrame(rows, columns=["ranking", "speaker", "top", "share"])
