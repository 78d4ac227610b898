"""ABX (``course.abx.abx_error``) against an explicit triple loop, and its time per 1 000 triplets."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from speech_course_tools.benchmarks import data
from speech_course_tools.benchmarks.core import Context, Row, benchmark, best_time, compare_timed
from speech_course_tools.benchmarks.references import abx as ref

MODEL = "tiny-w2v2-ctc"
LAYER = 3
TOL = 1e-12  # the errors are means of exactly computed cell scores: equal up to the order of float additions


def heldout_items(per_speaker: int, context: bool = False, tokens: int = 5, seed: int = 0):  # noqa: ANN201
    """ABX items as the layer-wise analysis builds them (course.layerwise).

    Rich sentences of the held-out speakers, one layer of the CTC model, phones that every speaker says at
    least 3 times, at most ``tokens`` items per (context, speaker, phone).
    """
    from course.abx import phone_items, subsample_items  # by design: a benchmark loads what it measures

    utts = [u for u in data.utterances(split="validation", kind="rich", per_speaker=per_speaker)]
    utts += data.utterances(split="test", kind="rich", per_speaker=per_speaker)
    feats = [h[LAYER] for h in data.hidden_states(MODEL, utts)]
    items = phone_items(feats, utts, context=context)
    speakers = sorted(set(items.speakers))
    keep = [p for p in sorted(set(items.phones))
            if all(np.sum((items.phones == p) & (items.speakers == s)) >= 3 for s in speakers)]
    items = items.subset(np.isin(items.phones, keep))
    return subsample_items(items, tokens, seed=seed)


def small_items(items, n_phones: int = 5, n_speakers: int = 3, tokens: int = 3):  # noqa: ANN001, ANN201
    """A small subset the triple loop can afford: a few phones and speakers, a few tokens each."""
    from course.abx import subsample_items  # by design: a benchmark loads what it measures

    phones = sorted(set(items.phones))[:n_phones]
    speakers = sorted(set(items.speakers))[:n_speakers]
    sub = items.subset(np.isin(items.phones, phones) & np.isin(items.speakers, speakers))
    return subsample_items(sub, tokens, seed=1)


def compare_results(ours, theirs: dict) -> float:  # noqa: ANN001
    """Largest difference between course's ABXResult and the reference's dict (errors, pairs, cells).

    Raises
    ------
    AssertionError
        If the two disagree on which cells, phone pairs or how many triplets there are (a structural
        difference, not a numerical one), or on a cell's score (exactly computed on both sides).
    """
    assert ours.n_triplets == theirs["n_triplets"], (ours.n_triplets, theirs["n_triplets"])
    cells = {(r.context, r.speaker, r.x_speaker, r.a, r.b): (r.score, int(r.n_triplets))
             for r in ours.cells.itertuples()}
    assert cells.keys() == theirs["cells"].keys(), "different ABX cells"
    for key, (score, n) in cells.items():
        assert n == theirs["cells"][key][1], (key, n, theirs["cells"][key][1])
        assert score == theirs["cells"][key][0], (key, score, theirs["cells"][key][0])
    pairs = {(r.a, r.b): r.error for r in ours.by_pair.itertuples()}
    assert pairs.keys() == theirs["by_pair"].keys(), "different phone pairs"
    diffs = [abs(pairs[k] - theirs["by_pair"][k]) for k in pairs] + [abs(ours.error - theirs["error"])]
    return float(max(diffs))


@benchmark("abx", "ABX error vs an explicit triple loop (equal), time per 1 000 triplets",
           requires=("course.abx", "course.models"))
def bench_abx(ctx: Context) -> Iterator[Row]:
    """Equality on a small item set (both modes, with and without contexts); time per 1 000 triplets."""
    from course.abx import abx_error  # by design: a benchmark loads what it measures

    reference = "explicit triple loop, cell-by-cell DTW (benchmarks/references/abx.py)"
    items = heldout_items(per_speaker=ctx.size(15, 5))
    for context in (False, True):
        source = heldout_items(per_speaker=ctx.size(15, 5), context=True) if context else items
        small = small_items(source, n_phones=ctx.size(6, 4) if not context else 40, tokens=3)
        for mode in ("within", "across"):
            try:
                ours, theirs, t_ours, t_ref = compare_timed(
                    lambda: abx_error(small, mode),
                    lambda: ref.abx_error(small.features, small.phones, small.speakers, small.contexts, mode),
                    repeats=1)
            except ValueError as exc:  # too few items for a triplet in this configuration
                yield Row("abx", f"{mode}, {'triphone contexts' if context else 'no context'}", note=f"skipped: {exc}")
                continue
            diff = compare_results(ours, theirs)
            n = ours.n_triplets
            yield Row("abx", f"{mode}-speaker error, {'triphone contexts' if context else 'no context'}",
                      f"{len(small)} items, {n} triplets", diff, t_ours, t_ref, reference,
                      "equal (cells, counts and scores exactly; errors to 1e-12)", diff <= TOL, TOL,
                      note=f"error {theirs['error']:.4f}; per 1 000 triplets: ours {1e3 * t_ours / n:.3f} s, "
                           f"reference {1e3 * t_ref / n:.2f} s",
                      extra={"per_1000_ours_s": 1e3 * t_ours / n, "per_1000_ref_s": 1e3 * t_ref / n})
    for mode in ("within", "across"):
        result, t = best_time(lambda: abx_error(items, mode), ctx.repeats, budget_s=60)
        per = 1e3 * t / result.n_triplets
        dims = items.features[0].shape[1]
        yield Row("abx", f"{mode}-speaker error, realistic item set (time only)",
                  f"{len(items)} items, {dims}-d, {result.n_triplets} triplets", None, t, None,
                  note=f"{per * 1e3:.1f} ms per 1 000 triplets; error {result.error:.4f}; "
                       f"layer {LAYER} of {MODEL}, 4 held-out speakers",
                  extra={"per_1000_ours_s": per})
