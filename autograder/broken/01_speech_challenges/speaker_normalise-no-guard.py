# Bug: no guard for zero variance, so a constant dimension (or a one-row speaker) becomes NaN.
def speaker_normalise(features, speakers, eps=1e-8):
    """Per-speaker mean and variance normalisation of the rows of ``features`` (shape (n, dim))."""
    features = np.asarray(features)
    speakers = np.asarray(speakers)
    out = np.zeros(features.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        for s in np.unique(speakers):
            rows = speakers == s
            out[rows] = (features[rows] - features[rows].mean(axis=0)) / features[rows].std(axis=0)
    return out.astype(features.dtype) if np.issubdtype(features.dtype, np.floating) else out
