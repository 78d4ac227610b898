"""The errors the course raises on purpose, under one base class.

Every exception class of the package derives from :class:`CourseError` *and* from the built-in class that describes
its kind (``ValueError`` for bad input, ``OSError`` for a missing model, ``AssertionError`` for a claim or a
delegating answer that no longer holds, ...), so that ``except CourseError`` catches everything the course reports
and ``except ValueError`` still works where it did. Each message says what happened and what to do; the command line
(:func:`course.cli.main`) prints it without a traceback.
"""

from __future__ import annotations


class CourseError(Exception):
    """Base of every error the course raises on purpose."""


class UsageError(CourseError, ValueError):
    """A command-line option or argument that cannot be used (a non-positive timeout, a wrong folder)."""
