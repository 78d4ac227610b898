# Bug: when predecessors tie on the total cost, takes the first in move order instead of the path with the fewest cells (exact ties, e.g. repeated frames, get a longer path and a smaller distance).
def dtw_distance(x, y):
    """Average cost along the cheapest DTW path between two segments of frames, shapes (n, dim) and (m, dim)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    norm_x = np.linalg.norm(x, axis=1, keepdims=True)
    norm_y = np.linalg.norm(y, axis=1, keepdims=True)
    x, y = x / np.where(norm_x > 0, norm_x, 1.0), y / np.where(norm_y > 0, norm_y, 1.0)
    cost = np.arccos(np.clip(x @ y.T, -1.0, 1.0)) / np.pi
    n, m = cost.shape
    total, cells = np.zeros((n, m)), np.zeros((n, m), dtype=int)
    for i in range(n):
        for j in range(m):
            if i == 0 and j == 0:
                total[0, 0], cells[0, 0] = cost[0, 0], 1
                continue
            preds = [p for p in ((i - 1, j), (i, j - 1), (i - 1, j - 1)) if min(p) >= 0]
            best = preds[int(np.argmin([total[p] for p in preds]))]
            total[i, j], cells[i, j] = cost[i, j] + total[best], cells[best] + 1
    return float(total[-1, -1] / cells[-1, -1])
