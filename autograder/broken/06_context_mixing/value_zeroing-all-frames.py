# Bug: averages the distance over all output frames instead of each target span's frames, so every row is the same.
def value_zeroing(layer, attention, hidden_states, source_spans, target_spans):
    """Value Zeroing of one layer: rows = target spans, columns = source spans, each row summing to 1."""
    x = torch.as_tensor(np.asarray(hidden_states), dtype=torch.float32)[None]  # (1, n, dim)
    scores = np.zeros((len(target_spans), len(source_spans)))
    with torch.no_grad():
        original = layer(x)[0].double()
        for j, (a, b) in enumerate(source_spans):
            def zero_values(module, inputs, output, a=a, b=b):
                output = output.clone()
                output[:, a:b] = 0.0
                return output

            hook = attention.v_proj.register_forward_hook(zero_values)
            try:
                zeroed = layer(x)[0].double()
            finally:
                hook.remove()
            d = (1 - torch.nn.functional.cosine_similarity(zeroed, original, dim=-1)).numpy()
            scores[:, j] = d.mean()
    return scores / scores.sum(axis=1, keepdims=True)
