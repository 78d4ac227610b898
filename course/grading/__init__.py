"""Autograding with real nbgrader, sandboxed, in parallel, without leaking hidden tests.

One module per concern (see ``docs/grading.md`` for the workflow):

- :mod:`course.grading.layout`      where the course directory, assignments, exercises and solutions live
- :mod:`course.grading.notebooks`   nbgrader cells, hidden tests, redaction, deterministic notebooks
- :mod:`course.grading.assignments` ``nbgrader generate_assignment`` in a scratch directory
- :mod:`course.grading.build`       ``speech-course build``: exercises/ and solutions/ from the sources
- :mod:`course.grading.sandbox`     bubblewrap sandbox and resource limits for kernels
- :mod:`course.grading.limits`      the launcher that applies the limits before a kernel starts
- :mod:`course.grading.kernel`      the kernel manager nbgrader uses to start sandboxed kernels
- :mod:`course.grading.execute`     nbgrader's execution step, hardened (working directory, output caps, events)
- :mod:`course.grading.nbconfig`    the nbgrader configuration that puts the pieces together
- :mod:`course.grading.submissions` finding and checking submitted notebooks (folder or zip)
- :mod:`course.grading.results`     what grading reports: statuses, test outcomes, a job's result
- :mod:`course.grading.job`         grading one submission in its own process and scratch course
- :mod:`course.grading.feedback`    test outcomes and feedback without hidden test code
- :mod:`course.grading.grade`       ``speech-course grade``: a class, in parallel, into grades.csv
- :mod:`course.grading.check`       ``speech-course check``: a learner's self-check
- :mod:`course.grading.gradescope`  Gradescope autograder bundles
- :mod:`course.grading.bench`       ``speech-course bench-grading``
- :mod:`course.grading.variants`    deliberately broken answers that test the tests, hidden block by hidden block
- :mod:`course.grading.fallback`    notebooks keep running when an exercise is unfinished
- :mod:`course.grading.references`  the course's implementations of every graded function
- :mod:`course.grading.guard`       tests fail when an answer calls the course's implementation
- :mod:`course.grading.similarity`  ``speech-course similarity``: copies, near-identical pairs, grader tampering
- :mod:`course.grading.release`     ``speech-course release``: a learner repository for a graded class
- :mod:`course.grading.cli`         the subcommands

Importing this package is cheap (nothing heavy is imported here), so notebooks
can use :func:`course.grading.fallback.learner_or_reference`.
"""
