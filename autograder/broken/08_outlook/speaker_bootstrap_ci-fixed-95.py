# Bug: always returns the 2.5th and 97.5th percentiles, whatever confidence level is asked for.
def speaker_bootstrap_ci(scores, speakers, n_boot=2000, confidence=0.95, seed=0):
    """Percentile bootstrap interval ``[low, high]`` of the mean score, resampling speakers (not utterances)."""
    scores = np.asarray(scores, dtype=float)
    speakers = np.asarray(speakers)
    if len(scores) != len(speakers):
        raise ValueError(f"{len(scores)} scores but {len(speakers)} speakers")
    names, index = np.unique(speakers, return_inverse=True)
    if len(names) < 2:
        raise ValueError("a speaker-level bootstrap needs at least two speakers")
    sums = np.bincount(index, weights=scores, minlength=len(names))
    counts = np.bincount(index, minlength=len(names))
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(names), size=(n_boot, len(names)))
    replicates = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    return np.percentile(replicates, [2.5, 97.5])
