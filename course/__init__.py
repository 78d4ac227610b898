"""Interpretability Techniques for Speech Models: the course library.

One module per concern, in layers: a module imports only from its own layer or the layers above it in this list
(docs/architecture.md; tests/test_architecture.py checks that no imports form a cycle).

Errors
  - :mod:`course.errors`     CourseError, the base of every error the course raises on purpose
Data
  - :mod:`course.audio`      audio checks, loading, resampling
  - :mod:`course.textgrid`   the Interval type and Praat TextGrid files
  - :mod:`course.synth`      offline speech synthesis with exact alignments (eSpeak NG)
  - :mod:`course.sentences`  the corpus sentence grammar (commands, homophones, ...)
  - :mod:`course.corpus`     building and loading the course corpus
  - :mod:`course.online`     real Hugging Face speech datasets and forced alignment
  - :mod:`course.frames`     seconds <-> 20 ms model frames, pooling frames into segments
Models and features
  - :mod:`course.registry`   one entry per shipped model: task, recipe, targets, model card text
  - :mod:`course.models`     the shipped models and any Hugging Face speech model, one loading path
  - :mod:`course.decoding`   what a model says: greedy phone, text and intent decoding
  - :mod:`course.features`   hidden states of every layer, MFCCs and log-mel features
Methods
  - :mod:`course.stats`      speaker-level intervals and tests, multiple-comparison corrections
  - :mod:`course.metrics`    edit distance and error rates
  - :mod:`course.probing`    linear probes on frames and segments, control tasks, MDL (online code)
  - :mod:`course.similarity` RDMs and RSA, linear/RBF and debiased CKA
  - :mod:`course.lenses`     CTC lens and decoder lens, with pre-/post-LN final-norm handling
  - :mod:`course.abx`        ABX phone discriminability (DTW, within/across speakers, triphone contexts)
  - :mod:`course.context_mixing` attention, rollout and value zeroing, pooled to words
  - :mod:`course.attribution` gradients, Integrated Gradients, occlusion, word ablation, faithfulness
Analyses
  - :mod:`course.layerwise`  the layer-wise comparison recorded in the self-supervised models' cards
  - :mod:`course.claims`     findings as code: the notebooks' statements checked against their outputs at build
Grading
  - :mod:`course.grading`    nbgrader course building, sandboxed grading, self-check, releases (its own index)
Command line
  - :mod:`course.doctor`     ``speech-course doctor``: does every compiled piece the course needs load?
  - :mod:`course.cli`        the ``speech-course`` command

The repository's tooling (training the shipped models, the slides, the benchmarks, the lock) is the separate package
:mod:`speech_course_tools`: it imports this one, never the other way round, and adds its subcommands to
``speech-course`` through an entry point.
"""

__version__ = "0.1.0"
