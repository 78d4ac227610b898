# Bug: compares frame centres with unrounded quotients, so a boundary exactly on a centre (0.07 s) loses that frame.
def frame_labels(intervals, n_frames, silence=""):
    """The label of each of ``n_frames`` frames: the interval that owns the frame's centre, or ``silence``."""
    labels = [silence] * n_frames
    centres = np.arange(n_frames) + 0.5
    late = []
    for iv in intervals:
        start, end = iv.start / FRAME, iv.end / FRAME
        if start >= n_frames:
            continue
        owned = np.flatnonzero((centres >= start) & (centres < end))
        if len(owned) == 0:
            late.append(iv)
        for n in owned:
            labels[n] = iv.label
    for iv in late:
        labels[segment_frames(iv.start, iv.end, n_frames)[0]] = iv.label
    return labels
