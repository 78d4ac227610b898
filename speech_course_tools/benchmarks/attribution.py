"""Feature attribution (``course.attribution``) against captum on the shipped intent classifier."""

from __future__ import annotations

import warnings
from importlib.metadata import version
from typing import Iterator

import numpy as np

from speech_course_tools.benchmarks import data
from speech_course_tools.benchmarks.core import Context, Row, benchmark, compare_timed, max_abs_diff

MODEL = "tiny-w2v2-intent"
TOL = 1e-4
#: "No slower than captum", with a margin for timing noise on a shared machine.
SLOWER_MARGIN = 1.10


def _goal(diff: float, ratio: float) -> tuple[str, bool]:
    return (f"|Δ| ≤ {TOL:g}, no slower (ratio ≤ {SLOWER_MARGIN:g})",
            bool(diff <= TOL and ratio <= SLOWER_MARGIN))


def _command(ctx: Context):  # noqa: ANN202
    """A held-out spoken command of at least 5 words (the intent model's input)."""

    utts = [u for u in data.utterances(split="test", kind="command", limit=60) if len(u.words) >= 5]
    return utts[0]


@benchmark("attribution", "saliency, input x gradient, Integrated Gradients, occlusion, feature/word ablation vs "
                          "captum", requires=("course.attribution", "captum", "course.models"))
def bench_attribution(ctx: Context) -> Iterator[Row]:
    """Every attribution method of course.attribution against captum on one waveform of the intent model."""

    import torch  # by design: a benchmark loads what it measures
    from captum.attr import (  # optional: without it the benchmark is reported as skipped
        FeatureAblation, InputXGradient, IntegratedGradients, Occlusion, Saliency)

    from course import attribution as A  # by design: a benchmark loads what it measures

    # captum warns that it switched requires_grad on for the input, on every call
    warnings.filterwarnings("ignore", message="Input Tensor 0 did not already require gradients")

    model, processor = data.model(MODEL)
    utt = _command(ctx)
    fe = getattr(processor, "feature_extractor", processor)
    x = fe(utt.waveform, sampling_rate=16000, return_tensors="pt").input_values

    def forward(z: torch.Tensor) -> torch.Tensor:
        return model(z).logits

    with torch.no_grad():
        target = int(forward(x).argmax(-1))
    reference = f"captum {version('captum')}"
    size = f"1 waveform, {x.shape[1]} samples ({utt.duration:.1f} s), {len(utt.words)} words"
    n_steps = ctx.size(50, 8)
    ibs = ctx.size(10, 4)
    window, stride = 1600, 800  # 0.1 s windows every 0.05 s
    spans = A.word_spans(utt.words, x.shape[1])
    mask = torch.full((1, x.shape[1]), len(spans), dtype=torch.long)  # the rest (silences) is one more group
    for i, s in enumerate(spans):
        mask[0, s.start:s.stop] = i

    cases = [
        ("saliency (|gradient|)", lambda: A.saliency(forward, x, target),
         lambda: Saliency(forward).attribute(x, target=target)),
        ("input x gradient", lambda: A.input_x_gradient(forward, x, target),
         lambda: InputXGradient(forward).attribute(x, target=target)),
        (f"Integrated Gradients, {n_steps} Gauss-Legendre steps, {ibs} per pass",
         lambda: A.integrated_gradients(forward, x, target=target, n_steps=n_steps, internal_batch_size=ibs),
         lambda: IntegratedGradients(forward).attribute(x, target=target, n_steps=n_steps, internal_batch_size=ibs)),
        (f"occlusion, window {window}, stride {stride} samples, 8 per pass",
         lambda: A.occlusion(forward, x, (window,), (stride,), 0.0, target, perturbations_per_eval=8),
         lambda: Occlusion(forward).attribute(x, sliding_window_shapes=(window,), strides=(stride,), baselines=0.0,
                                              target=target, perturbations_per_eval=8)),
        ("feature ablation, one group per word + silences",
         lambda: A.feature_ablation(forward, x, mask, 0.0, target, perturbations_per_eval=8),
         lambda: FeatureAblation(forward).attribute(x, baselines=0.0, target=target, feature_mask=mask,
                                                    perturbations_per_eval=8)),
        ("word ablation (per-word drops)",
         lambda: A.word_ablation(forward, x, utt.words, 0.0, target, perturbations_per_eval=8),
         lambda: FeatureAblation(forward).attribute(x, baselines=0.0, target=target, feature_mask=mask,
                                                    perturbations_per_eval=8)[0, [s.start for s in spans]]),
    ]
    ours_fn, ref_fn = cases[0][1:]  # warm-up: the first backward pass of a process is slower
    ours_fn(), ref_fn()
    for case, ours_fn, ref_fn in cases:
        # at least 5 interleaved runs: a fast case's ratio is noisy on a shared machine
        ours, theirs, t_ours, t_ref = compare_timed(ours_fn, ref_fn, max(ctx.repeats, 5), budget_s=60)
        diff = max_abs_diff(ours, theirs)
        scale = float(np.max(np.abs(np.asarray(theirs.detach() if hasattr(theirs, "detach") else theirs))))
        goal, met = _goal(diff, t_ours / t_ref)
        yield Row("attribution", case, size, diff, t_ours, t_ref, reference, goal, met, TOL,
                  note=f"largest |attribution| {scale:.3g}; model {MODEL}, target = predicted intent")
