# Bug: gives a short interval its frame in list order, so a following neighbour overwrites it and it vanishes.
def frame_labels(intervals, n_frames, silence=""):
    """The label of each of ``n_frames`` frames: the interval that owns the frame's centre, or ``silence``."""
    labels = [silence] * n_frames
    centres = np.arange(n_frames) + 0.5
    for iv in intervals:
        start, end = round(iv.start / FRAME, 9), round(iv.end / FRAME, 9)
        if start >= n_frames:
            continue
        owned = np.flatnonzero((centres >= start) & (centres < end))
        if len(owned) == 0:
            owned = [segment_frames(iv.start, iv.end, n_frames)[0]]
        for n in owned:
            labels[n] = iv.label
    return labels
