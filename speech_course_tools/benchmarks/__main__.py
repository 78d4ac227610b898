"""``python -m speech_course_tools.benchmarks``: see :mod:`speech_course_tools.benchmarks.cli`."""

from speech_course_tools.benchmarks.cli import main

raise SystemExit(main())
