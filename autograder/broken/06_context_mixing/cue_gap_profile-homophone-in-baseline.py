# Bug: the homophone's own share leaks into the baseline: "other words" include the homophone itself.
def cue_gap_profile(measure, control_measure, utterances):
    """Per layer and speaker, the mean gap (cue's share minus the mean other word's share in the homophone's row)
    under ``measure`` and under ``control_measure``: a DataFrame with the columns layer, speaker, model, control."""
    per_speaker = {}
    for u in utterances:
        t, c = int(u.labels["target_index"]), int(u.labels["cue_index"])
        gaps = []
        for fn in (measure, control_measure):
            m = np.asarray(fn(u), dtype=float)
            row = m[:, t, :]
            share = row / row.sum(-1, keepdims=True)
            others = [j for j in range(m.shape[-1]) if j != c]
            gaps.append(share[:, c] - share[:, others].mean(-1))
        per_speaker.setdefault(u.speaker, []).append(np.stack(gaps, axis=1))
    rows = []
    means = {s: np.mean(v, axis=0) for s, v in per_speaker.items()}
    n_layers = len(next(iter(means.values())))
    for layer in range(n_layers):
        for s in sorted(means):
            rows.append((layer + 1, s, means[s][layer, 0], means[s][layer, 1]))
    return pd.DataFrame(rows, columns=["layer", "speaker", "model", "control"])
