# Bug: returns the raw mean distances and forgets to normalise each row to sum 1.
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
            for i, (c, e) in enumerate(target_spans):
                scores[i, j] = d[c:e].mean()
    return scores
