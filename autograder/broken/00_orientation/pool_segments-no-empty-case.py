# Bug: np.stack fails on an empty list of intervals (a hidden test passes one).
def pool_segments(features, intervals):
    """Mean of the frame vectors each interval owns: an array of shape ``(len(intervals), dim)``."""
    features = np.asarray(features)
    frames = [segment_frames(iv.start, iv.end, n_frames=len(features)) for iv in intervals]
    return np.stack([features[f.start:f.stop].mean(axis=0) for f in frames])
