# Delegates: binds the name to the course's implementation (an alias); nothing of the exercise is written.
FRAME = 0.02  # seconds per model frame

time_to_frame = reference.time_to_frame
