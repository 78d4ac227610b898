"""nbgrader configuration of the course (run nbgrader commands from this directory).

Every kernel that ``nbgrader autograde`` starts from here runs in the course
sandbox (bubblewrap when available, see docs/grading.md) with a per-cell
timeout and a memory cap; ``speech-course grade`` adds parallel workers,
per-submission isolation and feedback without hidden tests on top.
"""

from course.grading.nbconfig import sandboxed_config

c = get_config()  # noqa: F821 - provided by traitlets when nbgrader loads this file
c.merge(sandboxed_config(sandbox="auto"))
