"""Interpretability Techniques for Speech Models: the course library.

Modules, one concern each:

- :mod:`course.audio`     audio checks, loading, resampling
- :mod:`course.synth`     offline speech synthesis with exact alignments (eSpeak NG)
- :mod:`course.sentences` the corpus sentence grammar (commands, homophones, ...)
- :mod:`course.corpus`    building and loading the course corpus
- :mod:`course.textgrid`  the Interval type and Praat TextGrid files
- :mod:`course.frames`    seconds <-> 20 ms model frames, pooling frames into segments
- :mod:`course.online`    real Hugging Face speech datasets and forced alignment
- :mod:`course.probing`   linear probes on frames and segments, control tasks, MDL (online code)
- :mod:`course.similarity` RDMs and RSA, linear/RBF and debiased CKA
- :mod:`course.lenses`     CTC lens and decoder lens, with pre-/post-LN final-norm handling
- :mod:`course.abx`       ABX phone discriminability (DTW, within/across speakers, triphone contexts)
- :mod:`course.claims`    findings as code: the notebooks' statements checked against their outputs at build
- :mod:`course.doctor`    ``speech-course doctor``: does every compiled piece the course needs load?
"""

__version__ = "0.1.0"
