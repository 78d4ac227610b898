# Delegates: binds the name to the course's implementation (an alias).
control_task = reference.control_task
