# Delegates: binds the name to the course's implementation (an alias).
speaker_bootstrap_ci = reference.speaker_bootstrap_ci
