# Bug: returns the macro-averaged score (fraction of triplets right) instead of the error, 1 - score.
def abx_error_macro(items, mode="within"):
    """Macro-averaged ABX error: cells -> (speaker, a, b) -> (a, b) -> one number."""
    cells = abx_cells(items, mode)
    per_speaker = cells.groupby(["speaker", "a", "b"])["score"].mean()
    per_pair = per_speaker.groupby(level=["a", "b"]).mean()
    return float(per_pair.mean())
