# Bug: scores the methods only; the duration and random controls that could beat them are never added.
def slot_word_profile(methods, utterances, slot):
    """Per ranking and speaker, the mean top and share: a DataFrame with the columns ranking, speaker, top, share."""
    per_speaker = {}
    for u in utterances:
        mask = np.zeros(len(u.words), dtype=bool)
        mask[[int(i) for i in str(u.labels[f"{slot}_words"]).split()]] = True
        stats = []
        for fn in methods.values():
            s = np.asarray(fn(u), dtype=float)
            pos = np.clip(s, 0, None)
            stats.append((float(mask[np.argmax(s)]), pos[mask].sum() / pos.sum() if pos.sum() > 0 else 0.0))
        per_speaker.setdefault(u.speaker, []).append(stats)
    means = {s: np.mean(v, axis=0) for s, v in per_speaker.items()}
    rows = [(name, s, *means[s][k]) for k, name in enumerate(methods) for s in sorted(means)]
    return pd.DataFrame(rows, columns=["ranking", "speaker", "top", "share"])
