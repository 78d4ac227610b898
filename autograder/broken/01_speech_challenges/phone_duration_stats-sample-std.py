# Bug: pandas' groupby std uses the sample standard deviation (ddof=1): wrong spread and NaN for a phone seen once.
def phone_duration_stats(utterances):
    """Duration statistics of each phone in milliseconds: a DataFrame indexed by phone (sorted), with the columns
    count, mean, median and std (ddof=0)."""
    rows = [(p.label, 1000 * (p.end - p.start)) for u in utterances for p in u.phones if p.label]
    frame = pd.DataFrame(rows, columns=["phone", "duration"])
    table = frame.groupby("phone")["duration"].agg(["count", "mean", "median", "std"])
    return table.sort_index().astype({"count": int, "mean": float, "median": float, "std": float})
