"""The small test course of tests/test_grading_pipeline.py: configured like autograder/ (sandboxed kernels)."""

from course.grading.nbconfig import sandboxed_config

get_config().merge(sandboxed_config())  # noqa: F821 - provided by traitlets
