"""Representations to analyse: model hidden states and acoustic baselines, frame-aligned.

:func:`extract` runs a model over many utterances in padded batches and
returns, per utterance, the hidden states of every layer (and attention
weights on request) cropped to the utterance's real frames, so frame ``n``
lines up with the TextGrid segments through :mod:`course.frames`.
:func:`mfcc` and :func:`log_mel` give acoustic baselines on the same 20 ms
frame grid as wav2vec 2.0: the control every probing result needs.

Layer-norm placement (it matters for lenses): hidden states are returned as
``transformers`` gives them. In pre-LN models intermediate states are
un-normalised residual streams, and the encoder's final layer norm differs by
family (checked with transformers 5): for wav2vec 2.0 / HuBERT with
``do_stable_layer_norm`` (the shipped wav2vec 2.0 models) *no* entry of
``hidden_states`` has it (only ``last_hidden_state`` does); for Whisper the last
entry has it. In post-LN models (wav2vec2-base) every entry is normalised.
:mod:`course.lenses` handles each case.
"""

from __future__ import annotations

from contextlib import nullcontext

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from course.audio import SAMPLE_RATE, check_waveform
from course.frames import FRAME_SECONDS, num_frames
from course.models import is_whisper, model_device, per_head_attention, whisper_audio_frames


@dataclass
class Representation:
    """Hidden states of one utterance.

    Attributes
    ----------
    utt_id : str
    hidden_states : np.ndarray, shape (n_layers + 1, n_frames, dim)
        Index 0 is the input to the first transformer layer (after the
        feature encoder / convolutions and positional embedding).
    attentions : np.ndarray or None, shape (n_layers, n_heads, n_frames, n_frames)
        Attention weights (rows: queries) when requested. For wav2vec 2.0
        models each row sums to 1. A Whisper encoder attends over its whole
        fixed window, padding included, so its cropped rows sum to less than
        1 (the rest went to padding frames); renormalise if a method needs it.
    frame_seconds : float
        0.02 for every course model.
    """

    utt_id: str
    hidden_states: np.ndarray
    attentions: np.ndarray | None = None
    frame_seconds: float = FRAME_SECONDS

    @property
    def n_frames(self) -> int:
        return self.hidden_states.shape[1]

    def layer(self, index: int) -> np.ndarray:
        """Hidden states of one layer, shape (n_frames, dim)."""
        return self.hidden_states[index]


def _waveforms(items: Sequence) -> tuple[list[str], list[np.ndarray]]:
    ids, waves = [], []
    for i, item in enumerate(items):
        if hasattr(item, "waveform"):
            ids.append(item.id)
            waves.append(check_waveform(item.waveform, item.sample_rate))
        else:
            ids.append(str(i))
            waves.append(check_waveform(item, SAMPLE_RATE))
    return ids, waves


#: Model types whose outputs depend on padding even with an attention mask: data2vec-audio's positional embedding
#: is a stack of five convolutions, so the padded frames (zeroed before the first) leak into the real ones.
PADDING_LEAKS = ("data2vec-audio",)


def _supports_padding_mask(processor, model) -> bool:  # noqa: ANN001
    """Whether padded batches give the same outputs as one utterance at a time."""
    fe = getattr(processor, "feature_extractor", processor)
    if getattr(model.config, "model_type", "") in PADDING_LEAKS:
        return False
    return bool(getattr(fe, "return_attention_mask", True))


@torch.no_grad()
def encode(model, processor, waveforms: list[np.ndarray], attentions: bool = False):  # noqa: ANN001, ANN201
    """Run one padded batch; return per-utterance hidden states (and attentions), cropped to real frames.

    The inputs go to the model's device; the results come back to the CPU as NumPy arrays.

    Returns
    -------
    list of (hidden_states, attentions or None)
        ``hidden_states`` has shape (n_layers + 1, n_frames, dim).
    """
    fe = getattr(processor, "feature_extractor", processor)
    device = model_device(model)
    lengths = [len(w) for w in waveforms]
    if is_whisper(model):
        inputs = fe(waveforms, sampling_rate=SAMPLE_RATE, return_tensors="pt").to(device)
        out = model.get_encoder()(inputs.input_features, output_hidden_states=True, output_attentions=attentions)
        n_pos = out.hidden_states[0].shape[1]
        valid = [whisper_audio_frames(n, fe.hop_length, n_pos) for n in lengths]
    else:
        inputs = fe(waveforms, sampling_rate=SAMPLE_RATE, padding=True, return_attention_mask=True,
                    return_tensors="pt").to(device)
        mask = inputs.get("attention_mask") if _supports_padding_mask(processor, model) else None
        with per_head_attention(model) if attentions else nullcontext():  # WavLM: every head's own map
            out = model(inputs.input_values, attention_mask=mask, output_hidden_states=True,
                        output_attentions=attentions)
        valid = [int(model._get_feat_extract_output_lengths(torch.tensor(n))) for n in lengths]
    hs = torch.stack(out.hidden_states, dim=1)  # (batch, L+1, T, D)
    att = torch.stack(out.attentions, dim=1) if attentions else None  # (batch, L, H, T, T)
    results = []
    for b, n in enumerate(valid):
        # copies, not views: a view would keep the whole padded batch (and its attentions) alive
        h = hs[b, :, :n].float().cpu().numpy().copy()
        a = att[b, :, :, :n, :n].float().cpu().numpy().copy() if att is not None else None
        results.append((h, a))
    return results


def extract(
    model,  # noqa: ANN001
    processor,  # noqa: ANN001
    utterances: Sequence,
    batch_size: int = 4,
    attentions: bool = False,
    progress: bool = True,
) -> list[Representation]:
    """Hidden states of every layer for many utterances, in padded batches.

    Parameters
    ----------
    model, processor
        From :func:`course.models.load_model` (any wav2vec 2.0 / HuBERT /
        Whisper-family model).
    utterances : sequence
        :class:`~course.corpus.Utterance` records or 16 kHz mono arrays.
    batch_size : int
        Utterances per forward pass. Padding is masked, so results do not
        depend on it (for models whose feature extractor does not use an
        attention mask, e.g. wav2vec2-base, and for data2vec-audio, whose
        stacked positional convolutions carry the padding into the real
        frames, utterances run one at a time).
        Memory grows with it: the convolutional front end's activations of a
        whole batch are alive at once (60 corpus utterances through
        tiny-w2v2-ctc raised the peak by 0.38 GB at 8, 0.25 GB at 4 and
        0.16 GB at 2; on 2 cores, 4 was also faster than 8).
    attentions : bool
        Also return attention weights (memory grows with frames squared).
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of Representation
        In the order of ``utterances``.
    """

    ids, waves = _waveforms(utterances)
    if not _supports_padding_mask(processor, model) and not is_whisper(model):
        batch_size = 1
    order = np.argsort([-len(w) for w in waves], kind="stable")  # similar lengths together: less padding
    reps: list[Representation | None] = [None] * len(waves)
    model.eval()
    with tqdm(total=len(waves), desc="Extracting", unit="utt", disable=not progress) as bar:
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            for i, (h, a) in zip(idx, encode(model, processor, [waves[i] for i in idx], attentions)):
                reps[i] = Representation(ids[i], h, a)
            bar.update(len(idx))
    return reps  # type: ignore[return-value]


def _frames_transform(kind: str, n_coeffs: int):  # noqa: ANN202
    import torchaudio  # optional: a torchaudio that does not match torch fails here, not on import (course.doctor)

    mel = {"n_fft": 400, "win_length": 400, "hop_length": 320, "n_mels": 40 if kind == "mfcc" else n_coeffs,
           "center": False}
    if kind == "mfcc":
        return torchaudio.transforms.MFCC(sample_rate=SAMPLE_RATE, n_mfcc=n_coeffs, melkwargs=mel)
    return torchaudio.transforms.MelSpectrogram(sample_rate=SAMPLE_RATE, **mel)


def mfcc(waveform, n_mfcc: int = 13, sample_rate: int = SAMPLE_RATE) -> np.ndarray:  # noqa: ANN001
    """MFCCs on wav2vec 2.0's frame grid (25 ms window, 20 ms hop): shape (n_frames, n_mfcc)."""
    x = torch.from_numpy(check_waveform(waveform, sample_rate))
    out = _frames_transform("mfcc", n_mfcc)(x).T.numpy()
    assert out.shape[0] == num_frames(len(x))
    return out


def mfcc_deltas(waveform, sample_rate: int = SAMPLE_RATE) -> np.ndarray:  # noqa: ANN001
    """13 MFCCs with first and second differences (39 dimensions) on the same 20 ms grid: (n_frames, 39)."""
    import torchaudio  # optional: a torchaudio that does not match torch fails here, not on import (course.doctor)

    m = torch.from_numpy(mfcc(waveform, sample_rate=sample_rate).T.copy())
    d1 = torchaudio.functional.compute_deltas(m)
    return torch.cat([m, d1, torchaudio.functional.compute_deltas(d1)]).T.numpy()


def log_mel(waveform, n_mels: int = 80, sample_rate: int = SAMPLE_RATE) -> np.ndarray:  # noqa: ANN001
    """Log mel filterbank energies on wav2vec 2.0's frame grid: shape (n_frames, n_mels)."""
    x = torch.from_numpy(check_waveform(waveform, sample_rate))
    return torch.log(_frames_transform("mel", n_mels)(x) + 1e-6).T.numpy()


def speaker_normalise(features, speakers, eps: float = 1e-8) -> np.ndarray:  # noqa: ANN001
    """Mean and variance normalisation per speaker (CMVN with per-speaker statistics).

    Every dimension of every speaker's rows is shifted to mean 0 and scaled to
    standard deviation 1, using only that speaker's rows (population std,
    ``ddof=0``). This removes a speaker's average spectrum (or average
    activation) and its spread, the simplest speaker normalisation in ASR.
    It needs the speaker's features but no labels, so it is allowed on
    held-out speakers too.

    Parameters
    ----------
    features : array, shape (n, dim)
        Frame (or segment) vectors, e.g. MFCCs of several utterances stacked.
    speakers : sequence, length n
        Speaker of each row (any hashable labels; pass utterance ids for
        per-utterance CMVN). Rows need not be grouped by speaker.
    eps : float
        A dimension whose standard deviation within a speaker is at most
        ``eps`` (constant, e.g. a speaker with one row) is only centred.

    Returns
    -------
    np.ndarray, shape (n, dim)
        A new array (the input is not modified); floating input keeps its
        dtype, integer input becomes float64. Statistics are computed in
        float64.
    """
    x = np.asarray(features)
    if x.ndim != 2:
        raise ValueError(f"features must have shape (n, dim), got {x.shape}.")
    spk = np.asarray(speakers)
    if spk.shape != (len(x),):
        raise ValueError(f"Give one speaker per row: {len(x)} rows but speakers has shape {spk.shape}.")
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    x64 = x.astype(np.float64)
    out = np.empty_like(x64)
    _, which = np.unique(spk, return_inverse=True)
    for k in range(which.max() + 1 if len(which) else 0):
        rows = which == k
        mean = x64[rows].mean(axis=0)
        std = x64[rows].std(axis=0)
        out[rows] = (x64[rows] - mean) / np.where(std > eps, std, 1.0)
    return out.astype(dtype, copy=False)
