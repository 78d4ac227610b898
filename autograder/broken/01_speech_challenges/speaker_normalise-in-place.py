# Bug: normalises floating-point input in place, so the caller's feature array is overwritten.
def speaker_normalise(features, speakers, eps=1e-8):
    """Per-speaker mean and variance normalisation of the rows of ``features`` (shape (n, dim))."""
    out = features if np.issubdtype(np.asarray(features).dtype, np.floating) else np.asarray(features, float)
    speakers = np.asarray(speakers)
    for s in np.unique(speakers):
        rows = speakers == s
        std = out[rows].std(axis=0)
        std[std <= eps] = 1.0
        out[rows] = (out[rows] - out[rows].mean(axis=0)) / std
    return out
