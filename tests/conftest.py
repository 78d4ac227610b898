"""Shared fixtures (a small corpus built once per test run, the default corpus) and the test tiers.

Tests that run notebooks, kernels, nbgrader, browsers or model evaluations are marked ``slow``: a test is slow if it
is marked so, sits in one of :data:`SLOW_MODULES` or uses one of :data:`SLOW_FIXTURES`. ``python -m pytest -m "not
slow"`` is the fast tier for everyday work; CI runs everything.
"""

from __future__ import annotations

import pytest

from course.corpus import build_corpus, load_corpus

SMALL_SIZE = 140  # ten utterances per speaker

#: Fixtures that grade a class, run every notebook or build a full-size corpus.
SLOW_FIXTURES = {"graded_class", "graded", "blocks", "release_errors", "v2", "tiny_course", "test_utts"}
#: Modules whose every test drives a browser, a Binder build or the whole grading pipeline.
SLOW_MODULES = {"test_grading_pipeline.py", "test_browser.py", "test_binder.py"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW_MODULES or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def small_corpus_dir(tmp_path_factory):
    # version 1: a v2 corpus needs at least 864 utterances (its held-out splits); the machinery is the same
    return build_corpus(tmp_path_factory.mktemp("corpus") / "small", size=SMALL_SIZE, seed=3, progress=False,
                        version=1)


@pytest.fixture(scope="session")
def small_corpus(small_corpus_dir):
    return load_corpus(small_corpus_dir, build=False, version=1)


@pytest.fixture(scope="session")
def default_corpus():
    """The default corpus the notebooks use (built by the README's setup command, or here on first use)."""
    return load_corpus()


@pytest.fixture(scope="session")
def french_corpus():
    """The default French corpus (built by the README's setup command, or here on first use: about 10 s)."""
    return load_corpus(language="fr")
