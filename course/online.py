"""Real speech data: Hugging Face datasets and forced alignment.

The course runs offline on its synthetic corpus. When you are online (or on
Binder), the same analyses run on real recordings: :func:`load_hf_speech`
loads a Hugging Face speech dataset (or a local copy of one) and
:func:`forced_align` computes word and phone intervals for any utterance with
its transcript, using the pocketsphinx aligner and its CMU dictionary (the
acoustic model ships inside the ``pocketsphinx`` wheel, so alignment works
offline too). The result is the same :class:`~course.corpus.Utterance` record
the corpus gives, so every notebook function accepts it.

Phone labels from the aligner are ARPAbet (``HH``, ``IY``, ...), not the
corpus's IPA: compare phones only within one source.
"""

from __future__ import annotations

import csv
import io
import os
import re
import socket
from os import PathLike
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from course.audio import SAMPLE_RATE, check_waveform, resample, to_mono, write_wav
from course.corpus import Utterance
from course.errors import CourseError
from course.textgrid import Interval

#: A small LibriSpeech sample on the hub (73 utterances), good for a first look.
DEFAULT_DATASET = "hf-internal-testing/librispeech_asr_dummy"


class OfflineError(CourseError, RuntimeError):
    """A dataset or model could not be fetched from the Hugging Face hub."""


class AlignmentError(CourseError, RuntimeError):
    """Forced alignment failed for an utterance."""


def hub_offline_reason() -> str | None:
    """Why the Hugging Face hub cannot be used right now, or None if it may be reachable.

    Checks ``HF_HUB_OFFLINE``/``HF_DATASETS_OFFLINE`` and whether the hub's host
    name resolves (a quick test that avoids minutes of download retries).
    """

    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        if os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on"):
            return f"{var} is set"
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.getaddrinfo(host, 443)
    except OSError as exc:
        return f"cannot resolve {host} ({exc})"
    return None


def _require_hub(name: str) -> None:
    reason = hub_offline_reason()
    if reason:
        raise OfflineError(
            f"Cannot download {name!r} from the Hugging Face hub: {reason}. You seem to be offline.\n"
            "Use the course corpus instead (course.corpus.load_corpus()), or pass the path of a local copy "
            "(a directory written by save_to_disk, or an audiofolder with metadata.csv)."
        )


def _decode_audio(value) -> tuple[np.ndarray, int]:  # noqa: ANN001 - a datasets Audio cell
    """Decode a ``datasets`` audio cell stored undecoded ({"bytes", "path"} or an array dict)."""
    import soundfile as sf  # optional: a broken libsndfile fails here, not on import (course.doctor)

    if isinstance(value, dict) and value.get("array") is not None:
        return np.asarray(value["array"], dtype=np.float32), int(value["sampling_rate"])
    if isinstance(value, dict) and value.get("bytes"):
        x, rate = sf.read(io.BytesIO(value["bytes"]), dtype="float32", always_2d=True)
    elif isinstance(value, dict) and value.get("path"):
        x, rate = sf.read(value["path"], dtype="float32", always_2d=True)
    else:
        raise ValueError(f"Cannot decode audio cell {type(value).__name__}.")
    return to_mono(x.T), int(rate)


def _normalise_transcript(text: str) -> str:
    return " ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split())


def load_hf_speech(
    name: str | PathLike = DEFAULT_DATASET,
    split: str = "validation",
    config: str | None = None,
    limit: int | None = None,
    text_column: str = "text",
    audio_column: str = "audio",
    align: bool = True,
) -> list[Utterance]:
    """Load a speech dataset from the Hugging Face hub or a local directory.

    Parameters
    ----------
    name : str or path-like
        A hub id such as ``"hf-internal-testing/librispeech_asr_dummy"``, or a
        local directory: one written by ``Dataset.save_to_disk`` (see
        :func:`save_hf_dataset`) or an "audiofolder" (audio files plus a
        ``metadata.csv`` with a ``file_name`` and a text column).
    split, config : str
        Dataset split and configuration.
    limit : int, optional
        Keep the first ``limit`` utterances.
    text_column, audio_column : str
        Column names of the transcript and the audio.
    align : bool
        Run :func:`forced_align` to get word and phone intervals.

    Returns
    -------
    list of Utterance
        16 kHz mono audio; ``split`` is the dataset split and ``kind`` is
        ``"read"``.

    Raises
    ------
    OfflineError
        The hub cannot be reached (no network, or ``HF_HUB_OFFLINE=1``).
    """
    import datasets  # optional: only the online path needs Hugging Face datasets (about 1 s to import)

    local = Path(name)
    try:
        if local.is_dir() and any((local / f).exists() for f in ("dataset_info.json", "state.json",
                                                                 "dataset_dict.json")):
            ds = datasets.load_from_disk(str(local))
        elif local.is_dir():
            ds = _read_audiofolder(local, text_column, audio_column)
        else:
            _require_hub(str(name))
            ds = datasets.load_dataset(str(name), config, split=split)
    except (FileNotFoundError, OfflineError):
        raise
    except Exception as exc:  # hub, network and cache errors come in many types
        offline = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("HF_DATASETS_OFFLINE")
        raise OfflineError(
            f"Could not load the dataset {str(name)!r} from the Hugging Face hub"
            f"{' (HF_HUB_OFFLINE is set)' if offline else ''}: {type(exc).__name__}: {exc}\n"
            "Without a network connection, use the course corpus instead: course.corpus.load_corpus(). "
            "A dataset saved with save_to_disk, or a local audiofolder, loads with its directory path."
        ) from exc
    if isinstance(ds, datasets.DatasetDict):
        if split not in ds and len(ds) != 1:
            raise ValueError(f"No split {split!r} in {str(name)!r}; it has {list(ds)}.")
        ds = ds[split] if split in ds else ds[next(iter(ds))]
    if audio_column not in ds.column_names or text_column not in ds.column_names:
        raise ValueError(f"The dataset has columns {ds.column_names}; pass audio_column= and text_column=.")
    ds = ds.cast_column(audio_column, datasets.Audio(decode=False))
    if limit is not None:
        ds = ds.select(range(min(limit, len(ds))))
    out = []
    for i, row in enumerate(ds):
        wav, rate = _decode_audio(row[audio_column])
        wav = check_waveform(resample(wav, rate, SAMPLE_RATE) if rate != SAMPLE_RATE else wav, SAMPLE_RATE)
        text = _normalise_transcript(row[text_column])
        words, phones = forced_align(wav, text) if align else ([], [])
        utt_id = str(row.get("id", f"{split}-{i:05d}"))
        speaker = str(row.get("speaker_id", "unknown"))
        labels = {k: v for k, v in row.items() if k != audio_column}
        out.append(Utterance(utt_id, speaker, split, "read", text, wav, SAMPLE_RATE, words, phones, labels))
    return out


def _read_audiofolder(root: Path, text_column: str, audio_column: str):
    """Read the "audiofolder" layout (``metadata.csv`` + audio files) into a ``datasets.Dataset``.

    ``datasets``' own audiofolder builder needs torchcodec to encode audio;
    reading the files ourselves keeps the course free of that dependency.
    """

    import datasets  # optional: only the online path needs Hugging Face datasets (about 1 s to import)

    meta = root / "metadata.csv"
    if not meta.is_file():
        raise FileNotFoundError(f"{root} has neither a saved dataset nor a metadata.csv (audiofolder layout).")
    with open(meta, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or "file_name" not in rows[0] or text_column not in rows[0]:
        raise ValueError(f"{meta} needs the columns file_name and {text_column}.")
    cols = {k: [r[k] for r in rows] for k in rows[0] if k != "file_name"}
    cols[audio_column] = [{"bytes": (root / r["file_name"]).read_bytes(), "path": r["file_name"]} for r in rows]
    return _with_audio_feature(datasets.Dataset.from_dict(cols), audio_column)


def _with_audio_feature(ds, audio_column: str):  # noqa: ANN001, ANN202
    import datasets  # optional: only the online path needs Hugging Face datasets (about 1 s to import)

    return ds.cast_column(audio_column, datasets.Audio(sampling_rate=SAMPLE_RATE, decode=False))


def save_hf_dataset(utterances, out: str | PathLike) -> Path:  # noqa: ANN001
    """Save utterances as a Hugging Face dataset on disk (columns id, speaker_id, text, audio).

    The result has the same format as a hub speech dataset and loads with
    :func:`load_hf_speech` (``name=out``) or ``datasets.load_from_disk``.
    """
    import datasets  # optional: only the online path needs Hugging Face datasets (about 1 s to import)


    rows: dict[str, list] = {"id": [], "speaker_id": [], "text": [], "audio": []}
    for u in utterances:
        buf = io.BytesIO()
        write_wav(buf, u.waveform, u.sample_rate)
        rows["id"].append(u.id)
        rows["speaker_id"].append(u.speaker)
        rows["text"].append(u.text)
        rows["audio"].append({"bytes": buf.getvalue(), "path": f"{u.id}.wav"})
    if not rows["id"]:
        raise ValueError("No utterances to save.")
    ds = _with_audio_feature(datasets.Dataset.from_dict(rows), "audio")
    ds.save_to_disk(str(out))
    return Path(out)


def forced_align(waveform, text: str, sample_rate: int = SAMPLE_RATE) -> tuple[list[Interval], list[Interval]]:  # noqa: ANN001
    """Align a transcript to audio with pocketsphinx (10 ms resolution).

    Parameters
    ----------
    waveform : array-like
        Mono audio.
    text : str
        The words spoken; letters and apostrophes (other characters are dropped).
    sample_rate : int
        Must be 16 000 (resample first with :func:`course.audio.resample`).

    Returns
    -------
    words, phones : list of Interval
        Word intervals (lower case) and ARPAbet phone intervals, in seconds;
        silences are left out.

    Raises
    ------
    AlignmentError
        A word is not in the pronunciation dictionary, or the aligner found
        no path through the audio (wrong transcript, or audio too short).
    """
    from pocketsphinx import Decoder  # optional: forced alignment only

    x = check_waveform(waveform, sample_rate)
    words = _normalise_transcript(text).split()
    if not words:
        raise AlignmentError("The transcript is empty: give the words spoken in the audio.")
    decoder = Decoder(samprate=SAMPLE_RATE, bestpath=False, loglevel="FATAL")
    unknown = [w for w in words if decoder.lookup_word(w) is None]
    if unknown:
        raise AlignmentError(
            f"No pronunciation for {unknown} in the aligner's dictionary; add them with "
            "decoder.add_word or remove them from the transcript."
        )
    pad_seconds = 0.3  # pocketsphinx needs silence around the speech
    pad = np.zeros(int(pad_seconds * SAMPLE_RATE), np.float32)
    pcm = (np.clip(np.concatenate([pad, x, pad]), -1, 1) * 32767).astype(np.int16).tobytes()
    try:
        decoder.set_align_text(" ".join(words))
        for second_pass in (False, True):
            if second_pass:
                decoder.set_alignment()
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
        alignment = decoder.get_alignment()
    except Exception as exc:  # pocketsphinx raises RuntimeError without detail
        raise AlignmentError(f"Forced alignment failed ({exc}); check that the transcript matches the audio.") from exc
    if alignment is None:
        raise AlignmentError("Forced alignment found no path; check that the transcript matches the audio.")
    frame = 0.01
    duration = len(x) / SAMPLE_RATE

    def interval(start: int, length: int, label: str) -> Interval:
        s = min(max(start * frame - pad_seconds, 0.0), duration)
        e = min(max((start + length) * frame - pad_seconds, 0.0), duration)
        return Interval(round(s, 4), round(e, 4), label)

    out_words, out_phones = [], []
    for w in alignment:
        name = re.sub(r"\(\d+\)$", "", w.name)  # alternative pronunciations are named word(2)
        if name.startswith("<") or name in ("[NOISE]",):
            continue
        out_words.append(interval(w.start, w.duration, name))
        out_phones.extend(interval(p.start, p.duration, p.name) for p in w if p.name != "SIL")
    aligned = [w.label for w in out_words]
    if aligned != words:
        raise AlignmentError(f"The aligner returned {aligned}, not the transcript {words}.")
    keep = [iv for iv in out_phones if iv.end > iv.start]
    return [w for w in out_words if w.end > w.start], keep
