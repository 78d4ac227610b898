"""Which of the course's own implementations do the work of each graded function.

Every graded exercise asks the learner to write a function that the course already implements (the notebooks fall
back to it when the learner's is not ready). An answer that hands the work to that implementation must not earn the
points: :mod:`course.grading.guard` refuses, during a test's call of the learner's function, every implementation
listed here for the assignment (and so everything that reaches one of them), and the similarity report
(:mod:`course.grading.similarity`) compares answers with their source.

``REFERENCES[assignment][name]`` lists, for the function ``name`` that an answer cell of ``assignment`` defines, the
dotted paths of the implementations that compute the same thing: the course's function itself, the course's helpers
that do its core (a learner who calls ``dtw_batch`` has not written a DTW, and a pasted copy of a reference's body
that still calls them is refused too), and a library's implementation where the stack carries one (captum's).
"""

from __future__ import annotations

import importlib
from types import FunctionType

REFERENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "00_orientation": {
        "time_to_frame": ("course.frames.time_to_frame",),
        "segment_frames": ("course.frames.segment_frames",),
        "pool_segments": ("course.frames.pool_segments",),
    },
    "01_speech_challenges": {
        "phone_duration_stats": ("course.frames.duration_stats",),
        "frame_labels": ("course.frames.frame_labels",),
        "speaker_normalise": ("course.features.speaker_normalise",),
        "heldout_phone_scores": ("course.probing.heldout_scores",),
    },
    "02_probing": {
        "probe_scores": ("course.probing.train_probe", "course.probing.make_probe"),
        "layer_profile": ("course.probing.layer_profile", "course.probing.heldout_scores"),
        "control_task": ("course.probing.control_task",),
        "probe_selectivity": ("course.probing.selectivity", "course.probing.control_labels"),
    },
    "03_rsa_cka": {
        "rdm": ("course.similarity.rdm",),
        "compare_rdms": ("course.similarity.compare_rdms", "course.similarity.kendall_tau_a",
                         "course.stats.average_ranks"),
        "rsa_profile": ("course.similarity.rsa_profile",),
        "center_gram": ("course.similarity.center_gram",),
        "cka": ("course.similarity.cka",),
        "feature_space_linear_cka": ("course.similarity.feature_space_linear_cka",),
        "unbiased_center_gram": ("course.similarity.center_gram",),
        "debiased_cka": ("course.similarity.cka",),
    },
    "04_lenses": {
        "ctc_greedy_decode": ("course.lenses.ctc_greedy_decode",),
        "edit_distance": ("course.metrics.edit_distance",),
        "error_rate": ("course.metrics.error_rate",),
        "ctc_lens_logits": ("course.lenses.ctc_lens_logits", "course.lenses.normalise_layers"),
        "lens_profile": ("course.lenses.lens_profile",),
    },
    "05_abx": {
        "dtw_distance": ("course.abx.dtw_distance", "course.abx.dtw_batch", "course.abx.pair_distances"),
        "triplet_score": ("course.abx._triplet_score", "course.abx._phone_scores"),
        "abx_error_macro": ("course.abx.abx_error", "course.abx._groups", "course.abx._block_pairs"),
        "abx_profile": ("course.abx.abx_profile",),
    },
    "06_context_mixing": {
        "pool_to_words": ("course.context_mixing.pool_to_words", "course.context_mixing.pooling_matrix"),
        "attention_rollout": ("course.context_mixing.attention_rollout",),
        "value_zeroing": ("course.context_mixing.value_zeroing", "course.context_mixing.value_zeroing_distances",
                          "course.context_mixing._run_zeroed"),
        "cue_gap_profile": ("course.context_mixing.cue_gap_profile",),
        "attention_norms": ("course.context_mixing.attention_norms",),
    },
    "07_feature_attribution": {
        "integrated_gradients": ("course.attribution.integrated_gradients",
                                 "captum.attr._core.integrated_gradients.IntegratedGradients.attribute"),
        "word_ablation": ("course.attribution.word_ablation", "course.attribution.feature_ablation",
                          "captum.attr._core.feature_ablation.FeatureAblation.attribute"),
        "comprehensiveness": ("course.attribution.comprehensiveness", "course.attribution._removal_inputs"),
        "sufficiency": ("course.attribution.sufficiency", "course.attribution._removal_inputs"),
        "slot_word_profile": ("course.attribution.slot_word_profile",),
    },
    "08_outlook": {
        "speaker_bootstrap_ci": ("course.stats.speaker_bootstrap_ci",),
        "paired_sign_flip_test": ("course.stats.paired_sign_flip_test",),
        "cue_share": ("course.stats.cue_share",),
    },
}


def resolve(path: str) -> FunctionType:
    """The function named by a dotted ``path`` (``module.function`` or ``module.Class.method``).

    Raises
    ------
    LookupError
        If no module prefix of ``path`` imports or the attribute chain does not lead to a Python function.
    """
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:split])
        try:
            obj = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the module exists but one of its imports is missing: say so
                raise
            continue
        try:
            for attr in parts[split:]:
                obj = getattr(obj, attr)
        except AttributeError as exc:
            raise LookupError(f"{path}: {exc}") from exc
        obj = getattr(obj, "__func__", obj)
        while hasattr(obj, "__wrapped__"):  # a decorator's wrapper (torch.no_grad, captum's log_usage): its code is
            obj = obj.__wrapped__           # shared by every decorated function; the body is the wrapped one
        if not isinstance(obj, FunctionType):
            raise LookupError(f"{path} is a {type(obj).__name__}, not a Python function")
        return obj
    raise LookupError(f"{path}: no importable module")


def graded_names(assignment: str) -> tuple[str, ...]:
    """The functions whose work :data:`REFERENCES` covers for ``assignment``.

    Raises
    ------
    KeyError
        If ``assignment`` is not in the registry (with the ones that are).
    """
    if assignment not in REFERENCES:
        raise KeyError(f"no reference implementations are registered for {assignment!r}; "
                       f"known: {', '.join(sorted(REFERENCES))}")
    return tuple(REFERENCES[assignment])


def reference_functions(assignment: str, name: str | None = None) -> dict[str, tuple[FunctionType, ...]]:
    """The course's (and libraries') implementations per graded function of ``assignment``, resolved.

    Parameters
    ----------
    assignment : str
        Assignment id, e.g. ``"00_orientation"``.
    name : str, optional
        Only this graded function.

    Returns
    -------
    dict
        ``{graded name: (function, ...)}``. A library that is not installed is left out.
    """
    names = graded_names(assignment) if name is None else (name,)
    found: dict[str, tuple[FunctionType, ...]] = {}
    for n in names:
        functions = []
        for path in REFERENCES[assignment][n]:
            try:
                functions.append(resolve(path))
            except (LookupError, ImportError):
                if path.startswith("course."):
                    raise
        found[n] = tuple(functions)
    return found
