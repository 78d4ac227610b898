"""Reference implementations used only to check ``course`` (never imported by it).

Each module is written from the paper's formulas, as directly as is practical, and
deliberately takes a different computational route from ``course`` where one exists
(so that a shared mistake is unlikely):

* :mod:`speech_course_tools.benchmarks.references.cka`: Kornblith et al. (2019) Gram-matrix CKA, and the
  unbiased HSIC estimator of Song et al. (2012) for debiased CKA;
* :mod:`speech_course_tools.benchmarks.references.abx`: ABX error by an explicit loop over triplets, with a
  cell-by-cell dynamic-time-warping recursion;
* :mod:`speech_course_tools.benchmarks.references.context_mixing`: attention rollout as one direct matrix
  product, and Value Zeroing as a loop over layers and words with the layer's
  attention written out by hand.

RSA is checked against rsatoolbox and feature attribution against captum, the
libraries researchers use, so they need no reference here.
"""
