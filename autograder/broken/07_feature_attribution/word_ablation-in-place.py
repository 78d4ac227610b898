# Bug: silences the words in the input tensor itself, so the ablations accumulate (each word is scored with the earlier words already removed).
def word_ablation(forward_func, inputs, words, baselines=0.0, target=None, sample_rate=16000):
    """Drop of the target output when each word's elements are replaced by the baseline (float64, one per word)."""
    x = inputs.detach()
    base = torch.as_tensor(baselines, dtype=x.dtype).expand_as(x)

    def score(z):
        with torch.no_grad():
            out = forward_func(z)
        return out.reshape(len(z)) if target is None else out[:, target]

    ablated = []
    for w in words:
        span = segment_frames(w.start, w.end, x.shape[1], 1 / sample_rate)
        y = x
        y[:, span.start:span.stop] = base[:, span.start:span.stop]
        ablated.append(y)
    if not ablated:
        return np.zeros(0)
    return (score(x) - score(torch.cat(ablated))).double().numpy()
