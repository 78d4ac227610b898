# Bug: sums the frames instead of averaging them, so long words get large vectors.
def pool_segments(features, intervals):
    """Mean of the frame vectors each interval owns: an array of shape ``(len(intervals), dim)``."""
    features = np.asarray(features)
    frames = [segment_frames(iv.start, iv.end, n_frames=len(features)) for iv in intervals]
    pooled = [features[f.start:f.stop].sum(axis=0) for f in frames]
    return np.stack(pooled) if pooled else np.zeros((0, features.shape[1]), dtype=features.dtype)
