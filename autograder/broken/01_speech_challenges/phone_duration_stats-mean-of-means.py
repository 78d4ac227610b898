# Bug: averages the per-utterance statistics instead of pooling all segments (wrong when counts differ per utterance).
def phone_duration_stats(utterances):
    """Duration statistics of each phone in milliseconds: a DataFrame indexed by phone (sorted), with the columns
    count, mean, median and std (ddof=0)."""
    per_utt = {}
    for u in utterances:
        durations = {}
        for p in u.phones:
            if p.label:
                durations.setdefault(p.label, []).append(1000 * (p.end - p.start))
        for phone, d in durations.items():
            per_utt.setdefault(phone, []).append((len(d), np.mean(d), np.median(d), np.std(d)))
    rows = {phone: [sum(s[0] for s in stats), np.mean([s[1] for s in stats]), np.median([s[2] for s in stats]),
                    np.mean([s[3] for s in stats])] for phone, stats in sorted(per_utt.items())}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["count", "mean", "median", "std"])
    table.index.name = "phone"
    return table.astype({"count": int, "mean": float, "median": float, "std": float})
