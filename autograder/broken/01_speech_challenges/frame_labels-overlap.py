# Bug: labels every frame the interval overlaps, so the next interval overwrites the shared boundary frame.
def frame_labels(intervals, n_frames, silence=""):
    """The label of each of ``n_frames`` frames: the interval that owns the frame's centre, or ``silence``."""
    labels = [silence] * n_frames
    for iv in intervals:
        first = time_to_frame(iv.start)
        stop = min(int(np.ceil(round(iv.end / FRAME, 9))), n_frames)
        for n in range(first, stop):
            labels[n] = iv.label
    return labels
