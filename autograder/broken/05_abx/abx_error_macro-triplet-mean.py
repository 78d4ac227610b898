# Bug: a mean over raw triplets (cells weighted by their number of triplets) instead of the macro-average, so frequent phones and large cells dominate.
def abx_error_macro(items, mode="within"):
    """Macro-averaged ABX error: cells -> (speaker, a, b) -> (a, b) -> one number."""
    cells = abx_cells(items, mode)
    correct = (cells["score"] * cells["n_triplets"]).sum()
    return float(1.0 - correct / cells["n_triplets"].sum())
