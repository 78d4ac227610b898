"""Attention rollout vs a direct matrix product; batched Value Zeroing vs the per-word, per-layer loop."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from speech_course_tools.benchmarks import data
from speech_course_tools.benchmarks.core import Context, Row, benchmark, best_time, compare_timed, max_abs_diff
from speech_course_tools.benchmarks.references import context_mixing as ref

ROLLOUT_TOL = 1e-10
VZ_TOL = 1e-5
VZ_SPEEDUP = 5.0


def synthetic_attention(n_layers: int, n_heads: int, n: int, seed: int = 0) -> np.ndarray:
    """Softmax attention weights with a local bias (as in speech models), shape (n_layers, n_heads, n, n)."""
    rng = np.random.default_rng(seed)
    pos = np.arange(n)
    local = -np.abs(pos[:, None] - pos[None, :]) / 8.0
    logits = rng.standard_normal((n_layers, n_heads, n, n)) + rng.uniform(0, 2, (n_layers, n_heads, 1, 1)) * local
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


@benchmark("rollout", "attention rollout vs a direct matrix product", requires=("course.context_mixing",))
def bench_rollout(ctx: Context) -> Iterator[Row]:
    """Rollout through 12 layers x 12 heads (wav2vec2-base-sized) and through a shipped model's attentions."""
    from course.context_mixing import attention_rollout  # by design: a benchmark loads what it measures

    reference = "direct product Â_L ... Â_1 with numpy.linalg.multi_dot (benchmarks/references/context_mixing.py)"
    n = ctx.size(500, 150)
    att = synthetic_attention(12, 12, n)
    ours, theirs, t_ours, t_ref = compare_timed(lambda: attention_rollout(att)[-1],
                                                lambda: ref.rollout_direct(att), ctx.repeats)
    every = max_abs_diff(attention_rollout(att), ref.rollout_all(att))
    diff = max(max_abs_diff(ours, theirs), every)
    yield Row("rollout", "rollout of the whole stack (and every prefix, untimed)",
              f"12 layers x 12 heads, {n} frames ({n * 0.02:.0f} s)", diff, t_ours, t_ref, reference,
              f"|Δ| ≤ {ROLLOUT_TOL:g}", diff <= ROLLOUT_TOL, ROLLOUT_TOL,
              note="ours returns every R_l (one product per layer); the reference only the last")

    from course.context_mixing import run_encoder  # by design: a benchmark loads what it measures

    model, processor = data.model("tiny-w2v2-ctc")
    utt = data.joined_utterance(12)
    run = run_encoder(model, processor, utt.waveform)
    att = run.attentions.numpy()
    ours, theirs, t_ours, t_ref = compare_timed(lambda: attention_rollout(att),
                                                lambda: ref.rollout_all(att), ctx.repeats)
    diff = max_abs_diff(ours, theirs)
    yield Row("rollout", "every prefix R_1..R_L, tiny-w2v2-ctc on a 12-word utterance",
              f"{att.shape[0]} layers x {att.shape[1]} heads, {att.shape[-1]} frames", diff, t_ours, t_ref,
              reference + " (one product per prefix)", f"|Δ| ≤ {ROLLOUT_TOL:g}", diff <= ROLLOUT_TOL, ROLLOUT_TOL)


@benchmark("value_zeroing", "batched Value Zeroing vs the per-word, per-layer loop",
           requires=("course.context_mixing", "course.models"))
def bench_value_zeroing(ctx: Context) -> Iterator[Row]:
    """Value Zeroing of every layer of the shipped wav2vec 2.0 CTC model on a 12-word utterance."""
    import torch  # by design: a benchmark loads what it measures

    from course.context_mixing import (  # by design: a benchmark loads what it measures
        encoder_layer, run_encoder, value_zeroing, word_spans)

    reference = ("per-word, per-layer loop with the layer written out by hand "
                 "(benchmarks/references/context_mixing.py)")
    cases = [("tiny-w2v2-ctc", data.joined_utterance(12), 12)]
    if not ctx.quick:
        short = next(u for u in data.utterances(split="test", kind="command", limit=60) if len(u.words) >= 6)
        cases.append(("tiny-whisper", short, len(short.words)))
    for name, utt, n_words in cases:
        model, processor = data.model(name)
        run = run_encoder(model, processor, utt.waveform)
        hs = run.hidden_states
        spans = word_spans(utt.words, run.n_frames)
        n_layers = hs.shape[0] - 1

        def ours(batched: bool = True) -> np.ndarray:
            out = []
            for index in range(1, n_layers + 1):
                handle = encoder_layer(model, index)
                out.append(value_zeroing(handle.run, handle.attention, hs[index - 1], spans, batched=batched))
            return np.stack(out)

        with torch.no_grad():
            mine, theirs, t_ours, t_ref = compare_timed(ours, lambda: ref.value_zeroing_model(model, hs, spans),
                                                        ctx.repeats, budget_s=60)
        diff = max_abs_diff(mine, theirs)
        speedup = t_ref / t_ours
        goal = f"|Δ| ≤ {VZ_TOL:g}"
        met = diff <= VZ_TOL
        if n_words == 12:
            goal += f"; ≥ {VZ_SPEEDUP:g}x faster"
            met = met and speedup >= VZ_SPEEDUP
        loop, t_loop = best_time(lambda: ours(batched=False), ctx.repeats, budget_s=30)
        yield Row("value_zeroing", f"all {n_layers} layers of {name}, batched",
                  f"{n_words} words, {hs.shape[1]} frames, {hs.shape[2]}-d", diff, t_ours, t_ref, reference, goal,
                  met, VZ_TOL,
                  note=f"speed-up {speedup:.1f}x; course's own unbatched loop (batched=False): "
                       f"{t_loop:.3f} s, |Δ| to the reference {max_abs_diff(loop, theirs):.1e}")


NORMS_TOL = 1e-5


@benchmark("attention_norms", "attention norms (Kobayashi et al. 2020) vs the per-head, per-target loop",
           requires=("course.context_mixing", "course.models"))
def bench_attention_norms(ctx: Context) -> Iterator[Row]:
    """Norm matrices of every layer of the shipped wav2vec 2.0 CTC model on a 12-word utterance."""
    from course.context_mixing import (  # by design: a benchmark loads what it measures
        attention_inputs, attention_norms, encoder_layer, run_encoder)

    reference = "loop over targets and heads, f^h(x_j) from the weights (benchmarks/references/context_mixing.py)"
    model, processor = data.model("tiny-w2v2-ctc")
    utt = data.joined_utterance(12)
    run = run_encoder(model, processor, utt.waveform)
    xs = attention_inputs(model, run.hidden_states)
    layers = [(encoder_layer(model, l).attention, run.attentions[l - 1], xs[l - 1])
              for l in range(1, len(run.attentions) + 1)]
    ours, theirs, t_ours, t_ref = compare_timed(lambda: np.stack([attention_norms(*a) for a in layers]),
                                                lambda: np.stack([ref.attention_norms_loop(*a) for a in layers]),
                                                ctx.repeats)
    diff = max_abs_diff(ours, theirs)
    yield Row("attention_norms", "every layer's norm matrix, tiny-w2v2-ctc on a 12-word utterance",
              f"{len(layers)} layers x {run.attentions.shape[1]} heads, {run.attentions.shape[-1]} frames", diff,
              t_ours, t_ref, reference, f"|Δ| ≤ {NORMS_TOL:g}", diff <= NORMS_TOL, NORMS_TOL,
              note="the inputs (attention_inputs: one rerun of each layer) are computed once, untimed")
