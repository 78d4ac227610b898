# Bug: creates the random generator without the seed, so the control task changes at every call.
def control_task(types, labels=None, seed=0):
    """A Hewitt & Liang control task: ``{type: random label}``, drawn from the items' label distribution."""
    types = np.asarray(types)
    labels = types if labels is None else np.asarray(labels)
    distinct_types = np.unique(types)
    values, counts = np.unique(labels, return_counts=True)
    rng = np.random.default_rng()
    drawn = rng.choice(len(values), size=len(distinct_types), p=counts / counts.sum())
    names = values.tolist()
    return {t: names[k] for t, k in zip(distinct_types.tolist(), drawn)}
