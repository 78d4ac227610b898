# Delegates: a wrapper around the course's word ablation.
def word_ablation(forward_func, inputs, words, baselines=0.0, target=None, sample_rate=16000):
    """Drop in the target output when each word's samples are replaced by the baseline."""
    return attribution.word_ablation(forward_func, inputs, words, baselines=baselines, target=target,
                                     sample_rate=sample_rate)
