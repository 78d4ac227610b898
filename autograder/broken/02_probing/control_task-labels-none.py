# Bug: forgets the default labels=None (the types are their own labels): np.unique(None) has no counts to draw from.
def control_task(types, labels=None, seed=0):
    """A Hewitt & Liang control task: ``{type: random label}``, drawn from the items' label distribution."""
    types = np.asarray(types)
    distinct_types = np.unique(types)
    values, counts = np.unique(np.asarray(labels), return_counts=True)
    rng = np.random.default_rng(seed)
    drawn = rng.choice(len(values), size=len(distinct_types), p=counts / counts.sum())
    names = values.tolist()
    return {t: names[k] for t, k in zip(distinct_types.tolist(), drawn)}
