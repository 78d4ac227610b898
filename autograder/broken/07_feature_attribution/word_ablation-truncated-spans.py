# Bug: converts word times to samples by truncation, int(t * rate), instead of the centre convention: off by one when t * rate falls just below a whole sample.
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
        span = range(int(w.start * sample_rate), int(w.end * sample_rate))
        y = x.clone()
        y[:, span.start:span.stop] = base[:, span.start:span.stop]
        ablated.append(y)
    if not ablated:
        return np.zeros(0)
    return (score(x) - score(torch.cat(ablated))).double().numpy()
