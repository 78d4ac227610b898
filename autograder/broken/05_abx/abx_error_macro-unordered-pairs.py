# Bug: merges (a, b) and (b, a) into one unordered pair before the final average, so a pair that exists in one direction only weighs as much as both directions of another pair.
def abx_error_macro(items, mode="within"):
    """Macro-averaged ABX error: cells -> (speaker, a, b) -> (a, b) -> one number."""
    cells = abx_cells(items, mode)
    per_speaker = cells.groupby(["speaker", "a", "b"])["score"].mean()
    per_pair = per_speaker.groupby(level=["a", "b"]).mean().reset_index()
    per_pair["pair"] = [tuple(sorted(p)) for p in zip(per_pair["a"], per_pair["b"])]
    return float(1.0 - per_pair.groupby("pair")["score"].mean().mean())
