# Bug: zeroes the source word's hidden states (the layer's input) instead of its value vectors, which also removes its queries, keys and residual.
def value_zeroing(layer, attention, hidden_states, source_spans, target_spans):
    """Value Zeroing of one layer: rows = target spans, columns = source spans, each row summing to 1."""
    x = torch.as_tensor(np.asarray(hidden_states), dtype=torch.float32)[None]  # (1, n, dim)
    scores = np.zeros((len(target_spans), len(source_spans)))
    with torch.no_grad():
        original = layer(x)[0].double()
        for j, (a, b) in enumerate(source_spans):
            x0 = x.clone()
            x0[:, a:b] = 0.0
            zeroed = layer(x0)[0].double()
            d = (1 - torch.nn.functional.cosine_similarity(zeroed, original, dim=-1)).numpy()
            for i, (c, e) in enumerate(target_spans):
                scores[i, j] = d[c:e].mean()
    return scores / scores.sum(axis=1, keepdims=True)
