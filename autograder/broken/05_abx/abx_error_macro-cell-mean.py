# Bug: averages all cells of a phone pair at once, skipping the per-speaker level, so a speaker with more contexts weighs more.
def abx_error_macro(items, mode="within"):
    """Macro-averaged ABX error: cells -> (speaker, a, b) -> (a, b) -> one number."""
    cells = abx_cells(items, mode)
    per_pair = cells.groupby(["a", "b"])["score"].mean()
    return float(1.0 - per_pair.mean())
