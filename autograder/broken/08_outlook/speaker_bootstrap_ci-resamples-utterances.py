# Bug: resamples utterances instead of speakers, so the interval ignores how much scores vary between voices (too narrow).
def speaker_bootstrap_ci(scores, speakers, n_boot=2000, confidence=0.95, seed=0):
    """Percentile bootstrap interval ``[low, high]`` of the mean score, resampling speakers (not utterances)."""
    scores = np.asarray(scores, dtype=float)
    speakers = np.asarray(speakers)
    if len(scores) != len(speakers):
        raise ValueError(f"{len(scores)} scores but {len(speakers)} speakers")
    if len(np.unique(speakers)) < 2:
        raise ValueError("a speaker-level bootstrap needs at least two speakers")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(scores), size=(n_boot, len(scores)))
    replicates = scores[draws].mean(axis=1)
    return np.percentile(replicates, [50 * (1 - confidence), 50 * (1 + confidence)])
