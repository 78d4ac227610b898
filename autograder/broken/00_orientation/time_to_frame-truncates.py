# Bug: int() truncates the floating-point quotient, so 0.58 s (28.999999999999996 frames) lands in frame 28.
FRAME = 0.02  # seconds per model frame


def time_to_frame(t):
    """Index of the 20 ms frame that contains time ``t`` (seconds); ValueError if ``t`` is negative."""
    if t < 0:
        raise ValueError(f"time must be >= 0, got {t}")
    return int(t / FRAME)
