"""Shared fixtures: a small corpus built once per test run, and the default corpus."""

from __future__ import annotations

import pytest

from course.corpus import build_corpus, load_corpus

SMALL_SIZE = 140  # ten utterances per speaker


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
