# Bug: normalises the cheapest total cost by n + m (another common DTW convention) instead of the number of cells on the path, as the course and Libri-light do.
def dtw_distance(x, y):
    """Average cost along the cheapest DTW path between two segments of frames, shapes (n, dim) and (m, dim)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    norm_x = np.linalg.norm(x, axis=1, keepdims=True)
    norm_y = np.linalg.norm(y, axis=1, keepdims=True)
    x, y = x / np.where(norm_x > 0, norm_x, 1.0), y / np.where(norm_y > 0, norm_y, 1.0)
    cost = np.arccos(np.clip(x @ y.T, -1.0, 1.0)) / np.pi
    n, m = cost.shape
    total = np.full((n + 1, m + 1), np.inf)
    total[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            total[i, j] = cost[i - 1, j - 1] + min(total[i - 1, j], total[i, j - 1], total[i - 1, j - 1])
    return float(total[n, m] / (n + m))
