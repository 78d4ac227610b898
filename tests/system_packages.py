"""Tests that need a system package (bubblewrap, Chromium) or a browser driver: skip here, fail under CI.

On a learner's or contributor's machine a missing system package skips the test with the reason and the install
command. Under CI (``CI=true``, set by ``.ci/run``, which installs the packages) the same absence fails the test,
so that a failed install cannot leave CI green with the sandbox, browser and slide tests silently skipped.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """Whether the tests run under CI (``CI=true``, as .ci/run and most CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(reason: str) -> None:
    """Skip the calling test for ``reason``, or fail it under CI."""
    if in_ci():
        pytest.fail(f"CI=true and a required system package is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def require_bubblewrap() -> str:
    """The path of a working ``bwrap``."""
    from course.grading.sandbox import bwrap_path

    path = bwrap_path()
    if path is None:
        missing("bubblewrap is not installed or cannot create a sandbox here (Debian: apt-get install bubblewrap): "
                "grading runs without isolation")
    return path


def require_chromium() -> str:
    """The path of Chromium, with Playwright importable to drive it."""
    from speech_course_tools.slides import find_chromium

    chromium = find_chromium()
    if chromium is None:
        missing("Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        missing("Playwright is not installed (pip install -r requirements.lock -e '.[dev]'); it drives the system "
                "Chromium")
    return chromium
