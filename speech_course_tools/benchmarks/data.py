"""Inputs the benchmarks share: synthetic layer activations, corpus utterances and model features (cached)."""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

import numpy as np


def synthetic_layers(n: int, dim: int, n_layers: int = 1, seed: int = 0, offset: float = 3.0) -> list[np.ndarray]:
    """Activations that look like a Transformer's: low-rank structure, noise, a mean offset, drifting layers.

    Layer ``l + 1`` is layer ``l`` mixed by a near-identity random map plus noise, so neighbouring layers are
    similar and distant ones less so (CKA between them spans a useful range). A large mean offset makes
    centring matter (a float32 or uncentred implementation would be visibly wrong).

    Parameters
    ----------
    n : int
        Examples (frames or segments).
    dim : int
        Features per example (768 for wav2vec2-base, 192 for the course's tiny models).
    n_layers : int
        Number of layers.
    seed : int
    offset : float
        Size of the per-feature mean offset.

    Returns
    -------
    list of float64 arrays, shape (n, dim)
    """
    rng = np.random.default_rng(seed)
    rank = min(dim, 32)
    x = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, dim)) / np.sqrt(rank)
    x += 0.5 * rng.standard_normal((n, dim)) + offset * rng.standard_normal(dim)
    layers = [x]
    for _ in range(n_layers - 1):
        mix = np.eye(dim) + 0.15 * rng.standard_normal((dim, dim)) / np.sqrt(dim)
        layers.append(np.tanh(layers[-1] @ mix / 2) * 2 + 0.3 * rng.standard_normal((n, dim)))
    return layers


@lru_cache(maxsize=1)
def corpus():  # noqa: ANN201
    """The default corpus (built on first use, as the notebooks do)."""
    from course.corpus import load_corpus  # by design: a benchmark loads what it measures

    return load_corpus()


@lru_cache(maxsize=4)
def model(name: str):  # noqa: ANN201
    """A shipped model and its processor, loaded once (without transformers' progress bars)."""
    from transformers.utils import logging as hf_logging  # by design: a benchmark loads what it measures

    from course.models import load_model  # by design: a benchmark loads what it measures

    hf_logging.disable_progress_bar()
    return load_model(name)


def utterances(split: str | None = None, kind: str | None = None, limit: int | None = None,
               per_speaker: int | None = None) -> list:
    """Corpus utterances in manifest order, optionally at most ``per_speaker`` of each speaker."""
    c = corpus()
    rows = c.select(split=split, kind=kind)
    if per_speaker is not None:
        rows = rows.groupby("speaker", sort=False).head(per_speaker)
    ids = list(rows.index)[:limit]
    return [c[i] for i in ids]


def hidden_states(model_name: str, utts: list) -> list[np.ndarray]:
    """Hidden states (n_layers + 1, n_frames, dim) of every utterance, in order."""
    from course.features import extract  # by design: a benchmark loads what it measures

    m, processor = model(model_name)
    return [r.hidden_states for r in extract(m, processor, utts, batch_size=8, progress=False)]


def joined_utterance(n_words: int = 12, split: str = "test"):  # noqa: ANN201
    """One utterance of exactly ``n_words`` words: two utterances of one speaker played one after the other.

    The corpus's sentences have at most 11 words; Value Zeroing's goal is stated for a 12-word utterance, so
    two sentences of one speaker whose word counts add up are joined (the second's alignments shifted by the
    first's duration).
    """
    c = corpus()
    rows = c.select(split=split)
    by_speaker: dict[str, list] = {}
    for utt_id, row in rows.iterrows():
        for other_id in by_speaker.get(row["speaker"], []):
            if rows.loc[other_id, "n_words"] + row["n_words"] == n_words:
                return _join(c[other_id], c[utt_id])
        by_speaker.setdefault(row["speaker"], []).append(utt_id)
    raise ValueError(f"No two utterances of one speaker have {n_words} words between them.")


def _join(first, second):  # noqa: ANN001, ANN202
    """``first`` then ``second`` as one utterance (alignments of ``second`` shifted by ``first``'s duration)."""
    from course.textgrid import Interval  # by design: a benchmark loads what it measures

    shift = first.duration
    moved = lambda ivs: [Interval(iv.start + shift, iv.end + shift, iv.label) for iv in ivs]  # noqa: E731
    return replace(first, id=f"{first.id}+{second.id}", text=f"{first.text} {second.text}",
                   waveform=np.concatenate([first.waveform, second.waveform]),
                   words=first.words + moved(second.words), phones=first.phones + moved(second.phones))
