# Bug: does not skip silence, so empty-label intervals become a phone called "".
def phone_duration_stats(utterances):
    """Duration statistics of each phone in milliseconds: a DataFrame indexed by phone (sorted), with the columns
    count, mean, median and std (ddof=0)."""
    durations = {}
    for u in utterances:
        for p in u.phones:
            durations.setdefault(p.label, []).append(1000 * (p.end - p.start))
    rows = {phone: [len(d), np.mean(d), np.median(d), np.std(d)] for phone, d in sorted(durations.items())}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=["count", "mean", "median", "std"])
    table.index.name = "phone"
    return table.astype({"count": int, "mean": float, "median": float, "std": float})
