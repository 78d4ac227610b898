# Bug: sorts ascending and reverses, so tied scores put the higher feature id first instead of a stable decreasing sort.
def _top_features(scores, fraction):
    """Ids of the top ceil(fraction * n) features by score, ties broken by the lower id (a tensor)."""
    order = np.argsort(np.asarray(scores, dtype=np.float64), kind="stable")[::-1].copy()
    k = math.ceil(round(fraction * len(order), 9))
    return torch.as_tensor(order[:k], dtype=torch.long)


def _target_probability(forward_func, batch, target):
    """Softmax probability of class target for every row of batch."""
    with torch.no_grad():
        return torch.softmax(forward_func(batch).double(), -1)[:, target]


def comprehensiveness(forward_func, inputs, scores, feature_mask, target, fractions=(0.1, 0.2, 0.3, 0.5),
                      baselines=0.0):
    """p(x) - p(x without its top features), one float64 value per fraction."""
    x = inputs.detach()
    base = torch.as_tensor(baselines, dtype=x.dtype).expand_as(x)
    mask = torch.as_tensor(feature_mask).expand_as(x)
    removed = [torch.where(torch.isin(mask, _top_features(scores, f)), base, x) for f in fractions]
    p = _target_probability(forward_func, torch.cat([x] + removed), target)
    return (p[0] - p[1:]).numpy()


def sufficiency(forward_func, inputs, scores, feature_mask, target, fractions=(0.1, 0.2, 0.3, 0.5), baselines=0.0):
    """p(x) - p(only the top features kept), one float64 value per fraction."""
    x = inputs.detach()
    base = torch.as_tensor(baselines, dtype=x.dtype).expand_as(x)
    mask = torch.as_tensor(feature_mask).expand_as(x)
    kept = [torch.where(torch.isin(mask, _top_features(scores, f)), x, base) for f in fractions]
    p = _target_probability(forward_func, torch.cat([x] + kept), target)
    return (p[0] - p[1:]).numpy()
