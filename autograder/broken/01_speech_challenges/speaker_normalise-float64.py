# Bug: always returns float64, doubling the memory of float32 model features (a hidden test checks the dtype).
def speaker_normalise(features, speakers, eps=1e-8):
    """Per-speaker mean and variance normalisation of the rows of ``features`` (shape (n, dim))."""
    features = np.asarray(features, dtype=np.float64)
    speakers = np.asarray(speakers)
    out = np.zeros(features.shape)
    for s in np.unique(speakers):
        rows = speakers == s
        std = features[rows].std(axis=0)
        std[std <= eps] = 1.0
        out[rows] = (features[rows] - features[rows].mean(axis=0)) / std
    return out
