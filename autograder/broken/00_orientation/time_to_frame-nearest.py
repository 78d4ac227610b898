# Bug: rounds to the nearest frame instead of taking the frame that contains t (0.019 s -> frame 1).
FRAME = 0.02  # seconds per model frame


def time_to_frame(t):
    """Index of the 20 ms frame that contains time ``t`` (seconds); ValueError if ``t`` is negative."""
    if t < 0:
        raise ValueError(f"time must be >= 0, got {t}")
    return round(t / FRAME)
