# Bug: averages over speakers within each context first and over contexts second (the wrong order: unbalanced contexts and speakers weigh differently).
def abx_error_macro(items, mode="within"):
    """Macro-averaged ABX error: cells -> (speaker, a, b) -> (a, b) -> one number."""
    cells = abx_cells(items, mode)
    per_context = cells.groupby(["context", "a", "b"])["score"].mean()
    per_pair = per_context.groupby(level=["a", "b"]).mean()
    return float(1.0 - per_pair.mean())
