# Bug: draws each type's label from the distribution over TYPES (one vote per type) instead of over items (tokens).
def control_task(types, labels=None, seed=0):
    """A Hewitt & Liang control task: ``{type: random label}``, drawn from the items' label distribution."""
    types = np.asarray(types)
    labels = types if labels is None else np.asarray(labels)
    distinct_types = np.unique(types)
    type_label = {t: l for t, l in zip(types.tolist(), labels.tolist())}  # one label per type
    values, counts = np.unique(np.array([type_label[t] for t in distinct_types.tolist()]), return_counts=True)
    rng = np.random.default_rng(seed)
    drawn = rng.choice(len(values), size=len(distinct_types), p=counts / counts.sum())
    names = values.tolist()
    return {t: names[k] for t, k in zip(distinct_types.tolist(), drawn)}
