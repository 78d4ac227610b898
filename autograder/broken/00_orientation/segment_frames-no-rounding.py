# Bug: no rounding before math.ceil, so a start exactly on a frame centre (0.07 s) loses that frame.
def segment_frames(start, end, n_frames=None):
    """Frames owned by the segment [start, end): a non-empty ``range`` of frame indices."""
    first = math.ceil(start / FRAME - 0.5)
    stop = math.ceil(end / FRAME - 0.5)
    if stop <= first:
        first = time_to_frame((start + end) / 2)
        stop = first + 1
    if n_frames is not None:
        first = min(first, n_frames - 1)
        stop = max(min(stop, n_frames), first + 1)
    return range(first, stop)
