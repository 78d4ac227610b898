# Bug: tests "starts after the last frame" in seconds (0.7 < 35 * 0.02 = 0.7000000000000001), so it labels a frame.
def frame_labels(intervals, n_frames, silence=""):
    """The label of each of ``n_frames`` frames: the interval that owns the frame's centre, or ``silence``."""
    labels = [silence] * n_frames
    centres = np.arange(n_frames) + 0.5
    late = []
    for iv in intervals:
        if iv.start >= n_frames * FRAME:
            continue
        start, end = round(iv.start / FRAME, 9), round(iv.end / FRAME, 9)
        owned = np.flatnonzero((centres >= start) & (centres < end))
        if len(owned) == 0:
            late.append(iv)
        for n in owned:
            labels[n] = iv.label
    for iv in late:
        labels[segment_frames(iv.start, iv.end, n_frames)[0]] = iv.label
    return labels
