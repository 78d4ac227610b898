# Bug: right values, but returns float64 for float32 features (doubling memory on large models; hidden test).
def pool_segments(features, intervals):
    """Mean of the frame vectors each interval owns: an array of shape ``(len(intervals), dim)``."""
    features = np.asarray(features)
    out = np.zeros((len(intervals), features.shape[1]))
    for i, iv in enumerate(intervals):
        f = segment_frames(iv.start, iv.end, n_frames=len(features))
        out[i] = features[f.start:f.stop].mean(axis=0)
    return out
