"""Time of one layer's frame-level phone probe at realistic size (informative: there is no reference)."""

from __future__ import annotations

from typing import Iterator

import numpy as np

from speech_course_tools.benchmarks import data
from speech_course_tools.benchmarks.core import Context, Row, benchmark, timed

MODEL = "tiny-w2v2-ctc"
LAYER = 3


def _subsample(ds, n: int, seed: int):  # noqa: ANN001, ANN202
    rng = np.random.default_rng(seed)
    return ds.subset(np.sort(rng.choice(len(ds), min(n, len(ds)), replace=False)))


@benchmark("probe", "one layer's frame-level phone probe: time at realistic size (no reference)",
           requires=("course.probing", "course.models"))
def bench_probe(ctx: Context) -> Iterator[Row]:
    """A linear phone probe on one layer's frames, as the layer-wise analysis trains it (course.layerwise)."""
    from course.probing import frame_dataset, train_probe  # by design: a benchmark loads what it measures

    n_train, n_test = ctx.size((20_000, 10_000), (3_000, 1_500))
    train_utts = data.utterances(split="train", per_speaker=ctx.size(25, 3))  # about 20 000 frames
    held_utts = data.utterances(split="validation", per_speaker=ctx.size(16, 3))
    held_utts += data.utterances(split="test", per_speaker=ctx.size(16, 3))
    train = frame_dataset([h[LAYER] for h in data.hidden_states(MODEL, train_utts)], train_utts)
    test = frame_dataset([h[LAYER] for h in data.hidden_states(MODEL, held_utts)], held_utts)
    train, test = _subsample(train, n_train, 0), _subsample(test, n_test, 1)
    result, seconds = timed(lambda: train_probe(train.X, train.y, test.X, test.y, groups=(train.groups, test.groups)))
    yield Row("probe", f"frame-level phone probe, layer {LAYER} of {MODEL}",
              f"{len(train)} train / {len(test)} test frames, {train.X.shape[1]}-d, {len(set(train.y))} phones",
              ours_s=seconds, note=f"held-out accuracy {result.score:.3f} (speaker-disjoint); L-BFGS logistic "
                                   "regression, one BLAS thread (course.probing)")

    # the same probe on wav2vec2-base-sized frames (768-d), synthetic so that no download is needed
    rng = np.random.default_rng(0)
    n_classes, dim = 50, 768
    n = n_train + n_test
    y = rng.integers(0, n_classes, n)
    # class means in a 32-d subspace, weak enough that accuracy is far from 1 (as for real phone probes)
    means = rng.standard_normal((n_classes, 32)) @ rng.standard_normal((32, dim)) * 0.12 / np.sqrt(32)
    X = means[y] + rng.standard_normal((n, dim)) + rng.standard_normal(dim)
    result, seconds = timed(lambda: train_probe(X[:n_train], y[:n_train], X[n_train:], y[n_train:]))
    yield Row("probe", "frame-level probe, synthetic wav2vec2-base-sized frames",
              f"{n_train} train / {n_test} test frames, {dim}-d, {n_classes} classes", ours_s=seconds,
              note=f"held-out accuracy {result.score:.3f}")
