# Bug: takes every frame the segment overlaps, so neighbouring words share their boundary frames.
def segment_frames(start, end, n_frames=None):
    """Frames owned by the segment [start, end): a non-empty ``range`` of frame indices."""
    first, stop = time_to_frame(start), math.ceil(round(end / FRAME, 9))
    if n_frames is not None:
        first, stop = min(first, n_frames - 1), max(min(stop, n_frames), min(first, n_frames - 1) + 1)
    return range(first, stop)
