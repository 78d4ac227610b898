# Bug: forgets rule 4, so an interval shorter than a frame (no centre inside) disappears from the labels.
def frame_labels(intervals, n_frames, silence=""):
    """The label of each of ``n_frames`` frames: the interval that owns the frame's centre, or ``silence``."""
    labels = [silence] * n_frames
    for n in range(n_frames):
        for iv in intervals:
            if round(iv.start / FRAME, 9) <= n + 0.5 < round(iv.end / FRAME, 9):
                labels[n] = iv.label
    return labels
