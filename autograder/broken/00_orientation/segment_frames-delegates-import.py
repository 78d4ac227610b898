# Delegates: imports the course's function under another name and calls it.
from course.frames import segment_frames as _course_segment_frames


def segment_frames(start, end, n_frames=None):
    """Frames owned by the segment [start, end): a non-empty ``range`` of frame indices."""
    return _course_segment_frames(start, end, n_frames)
