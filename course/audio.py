"""Audio input checks, loading and resampling.

Every model in the course expects 16 kHz mono float audio. The functions
here turn the usual mistakes (stereo files, 44.1 kHz recordings, empty or
corrupted arrays) into errors that say what to do.
"""

from __future__ import annotations

from math import gcd
from os import PathLike
from pathlib import Path

import numpy as np

from course.errors import CourseError

#: Sample rate of every model and of the course corpus.
SAMPLE_RATE = 16_000


class AudioError(CourseError, ValueError):
    """Audio that a model cannot take as it is."""


def _as_numpy(waveform) -> np.ndarray:  # noqa: ANN001 - numpy array, torch tensor or list
    if hasattr(waveform, "detach"):  # torch.Tensor
        waveform = waveform.detach().cpu().numpy()
    return np.asarray(waveform)


def check_waveform(waveform, sample_rate: int, expected_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Validate one utterance and return it as a 1-D float32 array.

    Parameters
    ----------
    waveform : array-like or torch.Tensor
        Samples, shape ``(n,)`` or ``(1, n)``. Integer PCM (int16/int32) is
        scaled to [-1, 1].
    sample_rate : int
        Rate of ``waveform`` in Hz.
    expected_rate : int
        Rate the caller needs (16 kHz for all course models).

    Raises
    ------
    AudioError
        Wrong rate, more than one channel, no samples, or non-finite samples.
    """
    x = _as_numpy(waveform)
    if int(sample_rate) != int(expected_rate):
        raise AudioError(
            f"Audio is at {sample_rate} Hz but {expected_rate} Hz is needed: resample it first with "
            f"course.audio.resample(waveform, {sample_rate}, {expected_rate})."
        )
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise AudioError(
            f"Expected mono audio of shape (n_samples,), got shape {tuple(x.shape)}. For stereo or multi-channel "
            "audio, average the channels with course.audio.to_mono(waveform)."
        )
    if x.size == 0:
        raise AudioError("The audio is empty (0 samples): check the file or the slicing that produced it.")
    if np.issubdtype(x.dtype, np.integer):
        x = x.astype(np.float32) / float(np.iinfo(x.dtype).max + 1)
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        bad = int(np.count_nonzero(~np.isfinite(x)))
        raise AudioError(f"The audio contains {bad} NaN or infinite samples: the file or its processing is corrupted.")
    return x


def to_mono(waveform) -> np.ndarray:  # noqa: ANN001
    """Average channels; accepts ``(channels, n)`` or ``(n, channels)`` (the shorter axis is channels)."""
    x = _as_numpy(waveform).astype(np.float32)
    if x.ndim == 1:
        return x
    if x.ndim != 2:
        raise AudioError(f"Cannot make mono audio from an array of shape {tuple(x.shape)}.")
    axis = 0 if x.shape[0] <= x.shape[1] else 1
    return x.mean(axis=axis)


def resample(waveform, orig_rate: int, new_rate: int = SAMPLE_RATE) -> np.ndarray:  # noqa: ANN001
    """Resample mono audio with a polyphase filter (deterministic, float32 output)."""

    from scipy.signal import resample_poly  # start-up: scipy.signal takes about 2 s

    x = _as_numpy(waveform).astype(np.float64)
    if orig_rate == new_rate:
        return x.astype(np.float32)
    g = gcd(int(orig_rate), int(new_rate))
    return resample_poly(x, new_rate // g, orig_rate // g, axis=-1).astype(np.float32)


def load_audio(path: str | PathLike, expected_rate: int = SAMPLE_RATE, convert: bool = False) -> np.ndarray:
    """Read an audio file as 1-D float32 at ``expected_rate``.

    Parameters
    ----------
    path : path-like
        WAV, FLAC or any format libsndfile reads.
    expected_rate : int
        Rate the caller needs.
    convert : bool
        If True, average channels and resample instead of raising.

    Raises
    ------
    AudioError
        Missing or unreadable file, or (with ``convert=False``) a file with
        the wrong rate or more than one channel.
    """
    import soundfile as sf  # optional: a broken libsndfile fails here, not on import (course.doctor)

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"No audio file at {path}.")
    try:
        x, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError
        raise AudioError(f"Cannot read audio file {path}: {exc}") from exc
    x = x.T  # (channels, n)
    if convert:
        x = resample(to_mono(x), rate, expected_rate)
        rate = expected_rate
    elif x.shape[0] > 1:
        raise AudioError(
            f"{path} has {x.shape[0]} channels; the models need mono. Load it with "
            "course.audio.load_audio(path, convert=True) to average the channels."
        )
    try:
        return check_waveform(x, rate, expected_rate)
    except AudioError as exc:
        raise AudioError(f"{path}: {exc} (or pass convert=True to load_audio).") from exc


def write_wav(path, waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:  # noqa: ANN001
    """Write mono audio as 16-bit PCM WAV (values are clipped to [-1, 1]); ``path`` may be a file object."""
    import soundfile as sf  # optional: a broken libsndfile fails here, not on import (course.doctor)

    x = np.clip(check_waveform(waveform, sample_rate, sample_rate), -1.0, 1.0)
    pcm = np.round(x * 32767.0).astype(np.int16)
    sf.write(path if hasattr(path, "write") else str(path), pcm, sample_rate, subtype="PCM_16", format="WAV")


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` plus ``noise`` scaled to a signal-to-noise ratio of ``snr_db`` decibels.

    The ratio is of mean powers over the whole of ``speech`` (silences included, as most robustness studies do).
    ``noise`` is repeated or cut to the length of ``speech``. The sum is clipped to [-1, 1].

    Parameters
    ----------
    speech, noise : np.ndarray
        Mono waveforms (any sample rate; they are mixed sample by sample).
    snr_db : float
        The signal-to-noise ratio in decibels; 0 means equal powers.

    Returns
    -------
    np.ndarray
        float32, as long as ``speech``.

    Raises
    ------
    AudioError
        Empty or silent noise, or silent speech (no ratio can be set).
    """
    speech = np.asarray(speech, dtype=np.float64)
    noise = np.asarray(noise, dtype=np.float64)
    if noise.size == 0 or not np.any(noise):
        raise AudioError("The noise is empty or silent: no signal-to-noise ratio can be set.")
    if not np.any(speech):
        raise AudioError("The speech is silent: no signal-to-noise ratio can be set.")
    noise = np.resize(noise, speech.shape)
    gain = np.sqrt(np.mean(speech ** 2) / (np.mean(noise ** 2) * 10 ** (snr_db / 10)))
    return np.clip(speech + gain * noise, -1.0, 1.0).astype(np.float32)
