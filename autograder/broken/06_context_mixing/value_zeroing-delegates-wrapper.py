# Delegates: a wrapper around the course's value zeroing.
def value_zeroing(layer, attention, hidden_states, source_spans, target_spans):
    """Value-zeroing context mixing of one layer, pooled to (target, source) spans."""
    return cm.value_zeroing(layer, attention, hidden_states, source_spans, target_spans)
