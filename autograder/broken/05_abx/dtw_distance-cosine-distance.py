# Bug: uses the cosine distance 1 - cos instead of the angle arccos(cos) / pi (same ranking of frames, different values).
def dtw_distance(x, y):
    """Average cost along the cheapest DTW path between two segments of frames, shapes (n, dim) and (m, dim)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    norm_x = np.linalg.norm(x, axis=1, keepdims=True)
    norm_y = np.linalg.norm(y, axis=1, keepdims=True)
    x, y = x / np.where(norm_x > 0, norm_x, 1.0), y / np.where(norm_y > 0, norm_y, 1.0)
    cost = 1.0 - np.clip(x @ y.T, -1.0, 1.0)
    n, m = cost.shape
    total, cells = np.zeros((n, m)), np.zeros((n, m), dtype=int)
    for i in range(n):
        for j in range(m):
            if i == 0 and j == 0:
                total[0, 0], cells[0, 0] = cost[0, 0], 1
                continue
            best = min((total[p], cells[p]) for p in ((i - 1, j), (i, j - 1), (i - 1, j - 1)) if min(p) >= 0)
            total[i, j], cells[i, j] = cost[i, j] + best[0], best[1] + 1
    return float(total[-1, -1] / cells[-1, -1])
