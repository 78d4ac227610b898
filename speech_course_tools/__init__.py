"""Repository tooling of the course: what maintainers run, never what a learner imports.

* :mod:`speech_course_tools.training`   trains and evaluates the shipped models from their registry entries
  (:mod:`course.registry`) and writes their model cards;
* :mod:`speech_course_tools.slides`, :mod:`speech_course_tools.slidefigures`   the lecture decks and their figures;
* :mod:`speech_course_tools.bench` and :mod:`speech_course_tools.benchmarks`   extraction and notebook benchmarks,
  and every method against its reference implementation;
* :mod:`speech_course_tools.lock`   the dependency lock and its Binder copy;
* :mod:`speech_course_tools.cli`   the ``speech-course`` subcommands above (``models train|evaluate|bench|layerwise``,
  ``bench``, ``slides build``), registered through the ``speech_course.commands`` entry point.

This package imports :mod:`course`; nothing in :mod:`course` imports it (``tests/test_architecture.py`` checks
both). The learner release leaves it out, and ``speech-course`` then simply lacks these subcommands.
"""
