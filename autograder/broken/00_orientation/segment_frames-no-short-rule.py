# Bug: a segment that contains no frame centre gets an empty range instead of the frame of its midpoint.
def segment_frames(start, end, n_frames=None):
    """Frames owned by the segment [start, end): a non-empty ``range`` of frame indices."""
    first = math.ceil(round(start / FRAME - 0.5, 9))
    stop = math.ceil(round(end / FRAME - 0.5, 9))
    if n_frames is not None:
        first, stop = min(first, n_frames), min(stop, n_frames)
    return range(first, stop)
