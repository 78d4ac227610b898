# Bug: assumes each speaker's rows are contiguous and in sorted order (np.split by counts), wrong for interleaved rows.
def speaker_normalise(features, speakers, eps=1e-8):
    """Per-speaker mean and variance normalisation of the rows of ``features`` (shape (n, dim))."""
    features = np.asarray(features)
    names, counts = np.unique(np.asarray(speakers), return_counts=True)
    parts = []
    for block in np.split(features, np.cumsum(counts)[:-1]):
        std = block.std(axis=0)
        std[std <= eps] = 1.0
        parts.append((block - block.mean(axis=0)) / std)
    out = np.concatenate(parts).astype(np.float64)
    return out.astype(features.dtype) if np.issubdtype(features.dtype, np.floating) else out
