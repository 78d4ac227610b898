"""The course corpus: synthetic speech with exact alignments, built locally.

Build it once (``speech-course corpus build`` or :func:`build_corpus`); then
:func:`load_corpus` returns a :class:`Corpus` of typed :class:`Utterance`
records. The layout on disk is plain and tool-friendly::

    DIR/<utt_id>.wav        16 kHz mono 16-bit PCM
    DIR/<utt_id>.TextGrid   tiers "words" and "phones" (empty label = silence)
    DIR/manifest.csv        one row per utterance: id, speaker, text, split, labels, ...
    DIR/corpus.json         written last: build parameters and a checksum of the manifest

A build writes into a hidden temporary directory and renames it into place
only when complete, so an interrupted build never looks finished.

The default location is ``$SPEECH_COURSE_CACHE/corpus`` (``SPEECH_COURSE_CACHE``
defaults to the per-user cache directory, e.g. ``~/.cache/speech-course``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing as mp
import os
import shutil
import sys
import uuid
import zlib
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import pandas as pd
from platformdirs import user_cache_dir
from tqdm.auto import tqdm

from course import sentences as S
from course.audio import SAMPLE_RATE, load_audio, mix_at_snr, resample, write_wav
from course.errors import CourseError
from course.synth import synthesize
from course.textgrid import Interval, read_textgrid, write_textgrid

#: Version of the corpus format and generation recipe that the course uses by default; bump when either changes.
CORPUS_VERSION = 2
#: Versions this code can build and load. Version 2 (held-out sentences, minimal-pair homophones, 32 speakers, see
#: ``docs/corpus.md``) is built on request (``--version 2``) until the shipped models are retrained on it.
VERSIONS = (1, 2)
#: Utterances in the default corpus (about 20 s to build on 2 cores).
DEFAULT_SIZE = 2400
#: Utterances in the larger corpus used to train the shipped models.
LARGE_SIZE = 6000
#: Languages of the corpus: the English corpus, and a French one made of homophones whose spelling grammatical
#: agreement decides (``sentences.FR_HOMOPHONE_PAIRS``; built from version 2 on).
LANGUAGES = ("en", "fr")
#: Utterances of the default French corpus (its held-out splits and some training sentences) and of the larger one
#: that trains ``tiny-whisper-fr``.
FRENCH_SIZE = 600
FRENCH_LARGE_SIZE = 4000


@dataclass(frozen=True)
class Speaker:
    """A synthetic speaker: an eSpeak voice (accent + variant) with its own pitch and speaking rate."""

    id: str
    voice: str
    accent: str
    pitch: int
    pitch_range: int
    rate: tuple[int, int]
    split: str


def _spk(i: int, voice: str, pitch: int, rng: int, rate: tuple[int, int], split: str) -> Speaker:
    return Speaker(f"spk{i:02d}", voice, voice.split("+")[0], pitch, rng, rate, split)


#: The corpus speakers. Whole speakers are held out for validation and test.
SPEAKERS: tuple[Speaker, ...] = (
    _spk(1, "en-us+f1", 55, 50, (150, 200), "train"),
    _spk(2, "en-us+m1", 40, 45, (145, 195), "train"),
    _spk(3, "en-us+f2", 62, 60, (155, 205), "train"),
    _spk(4, "en-us+m2", 35, 40, (140, 185), "train"),
    _spk(5, "en+f3", 58, 55, (150, 200), "train"),
    _spk(6, "en+m3", 42, 50, (145, 195), "train"),
    _spk(7, "en-us+f5", 50, 70, (160, 210), "train"),
    _spk(8, "en-us+m7", 30, 35, (140, 190), "train"),
    _spk(9, "en-gb-x-rp+m5", 45, 55, (150, 200), "train"),
    _spk(10, "en-gb-x-rp+f5", 60, 45, (145, 195), "train"),
    _spk(11, "en-us+m3", 47, 60, (150, 200), "validation"),
    _spk(12, "en+f2", 52, 50, (150, 200), "validation"),
    _spk(13, "en-us+f4", 57, 55, (150, 200), "test"),
    _spk(14, "en+m6", 38, 50, (150, 200), "test"),
)
SPLITS = ("train", "validation", "test")

#: Corpus v2 voices: 4 accents x 8 voice variants. A speaker is an (accent, variant) combination with its own pitch,
#: pitch range and rate. Held-out combinations form a Latin square: each accent has two test speakers (a female and
#: a male variant) and one validation speaker, each variant is held out for at most two accents, so every accent and
#: every variant is also heard in training, in other combinations.
ACCENTS_V2 = ("en-us", "en", "en-gb-x-rp", "en-gb-scotland")
VARIANTS_V2 = ("f1", "m1", "f2", "m2", "f3", "m3", "f4", "m6")


def _latin_square(accents: tuple[str, ...], variants: tuple[str, ...], seed: int, prefix: str,
                  split_of: Callable[[int, int], str]) -> tuple[Speaker, ...]:
    """One speaker per (accent, variant), with its own pitch (by the variant's sex), pitch range and rate range drawn
    from ``seed``; ``split_of(accent index, variant index)`` places the held-out cells."""
    rng = np.random.default_rng(seed)
    out = []
    for a, accent in enumerate(accents):
        for v, variant in enumerate(variants):
            split = split_of(a, v)
            female = variant.startswith("f")
            pitch = int(rng.integers(50, 66) if female else rng.integers(30, 48))
            low = int(rng.integers(140, 161))
            out.append(Speaker(f"{prefix}{len(out) + 1:02d}", f"{accent}+{variant}", accent, pitch,
                               int(rng.integers(40, 71)), (low, low + 50), split))
    return tuple(out)


def _split_v2(a: int, v: int) -> str:
    cell = (v - 2 * a) % len(VARIANTS_V2)
    return "test" if cell < 2 else "validation" if cell == 2 + a % 2 else "train"


SPEAKERS_V2: tuple[Speaker, ...] = _latin_square(ACCENTS_V2, VARIANTS_V2, 2024, "spk", _split_v2)

#: French voices: eSpeak NG's three French accents x 10 voice variants, held out in the same Latin-square way:
#: per accent three test speakers and one validation speaker (9 test speakers: a sign-flip test over them can reach
#: p = 2/512), every held-out accent and variant also heard in training.
ACCENTS_FR = ("fr", "fr-be", "fr-ch")
VARIANTS_FR = ("f1", "m1", "f2", "m2", "f3", "m3", "f4", "m6", "f5", "m7")


def _split_fr(a: int, v: int) -> str:
    cell = (v - 3 * a) % len(VARIANTS_FR)
    return "test" if cell < 3 else "validation" if cell == 3 else "train"


SPEAKERS_FR: tuple[Speaker, ...] = _latin_square(ACCENTS_FR, VARIANTS_FR, 2025, "fr", _split_fr)
#: Train-split sentence kinds of corpus v2, cycled per speaker (homophones need more examples: 16 pairs x 2
#: spellings x 2 cues x 2 cue positions).
_KIND_CYCLE_V2 = ("command", "homophone", "rich", "homophone", "minimal_pair", "command", "homophone", "rich",
                  "command", "minimal_pair")


def speakers(version: int = CORPUS_VERSION, language: str = "en") -> tuple[Speaker, ...]:
    """The speakers of a corpus version and language."""
    _check_version(version, language)
    return SPEAKERS_FR if language == "fr" else SPEAKERS if version == 1 else SPEAKERS_V2


def _check_version(version: int, language: str = "en") -> None:
    if version not in VERSIONS:
        raise ValueError(f"Unknown corpus version {version!r}; this course builds versions {list(VERSIONS)}.")
    if language not in LANGUAGES:
        raise ValueError(f"Unknown corpus language {language!r}; this course builds {list(LANGUAGES)}.")
    if language == "fr" and version < 2:
        raise ValueError("The French corpus exists from corpus version 2 on: pass version=2.")

#: Share of each sentence kind, cycled in this order for every speaker.
_KIND_CYCLE = ("command", "homophone", "rich", "command", "minimal_pair", "homophone", "rich", "command",
               "minimal_pair", "rich")

#: Manifest columns in order. Lists of word indices are space-separated.
MANIFEST_COLUMNS = (
    "id", "speaker", "voice", "accent", "split", "kind", "text", "duration", "n_words", "n_phones",
    "rate", "action", "object", "location", "intent", "action_words", "object_words", "location_words",
    "homophone_group", "target_word", "target_index", "cue_word", "cue_index", "minimal_set",
)
#: Corpus v2 adds the held-out unit of each sentence (``key``: no validation or test key occurs in training), the
#: cue's side of a homophone (``cue_position``) and the minimal pair a homophone sentence belongs to (``pair_id``:
#: the two spellings in the same frame share it).
MANIFEST_COLUMNS_V2 = MANIFEST_COLUMNS + ("key", "cue_position", "pair_id")


class CorpusError(CourseError, RuntimeError):
    """A corpus directory is missing, incomplete or inconsistent."""


# --------------------------------------------------------------------------
# Records


@dataclass
class Utterance:
    """One corpus utterance, loaded.

    Attributes
    ----------
    id, speaker, split, kind, text : str
    waveform : np.ndarray
        float32 samples in [-1, 1], mono.
    sample_rate : int
        16 000.
    words, phones : list of Interval
        Alignments in seconds; silences are not listed.
    labels : dict
        The utterance's manifest row (intent, homophone target and cue, ...).
    """

    id: str
    speaker: str
    split: str
    kind: str
    text: str
    waveform: np.ndarray
    sample_rate: int
    words: list[Interval]
    phones: list[Interval]
    labels: dict = field(default_factory=dict)

    @property
    def duration(self) -> float:
        return len(self.waveform) / self.sample_rate


def default_cache_dir() -> Path:
    """``$SPEECH_COURSE_CACHE`` or the per-user cache directory for the course."""
    env = os.environ.get("SPEECH_COURSE_CACHE")
    if env:
        return Path(env).expanduser()

    return Path(user_cache_dir("speech-course"))


def default_corpus_dir(name: str = "corpus", version: int = CORPUS_VERSION, language: str = "en") -> Path:
    """Where a default corpus of ``version`` lives: ``<cache>/<name>-v<version>`` (French: ``<name>-fr-v<version>``).

    The directory name carries :data:`CORPUS_VERSION`, so a cache that holds a corpus made by another version of
    the course (an older checkout, a shared home directory) never conflicts with this one: each version builds and
    finds its own. Directories of other versions can be deleted; they are rebuilt when needed.
    """
    _check_version(version, language)
    return default_cache_dir() / f"{name}{'' if language == 'en' else '-' + language}-v{version}"


# --------------------------------------------------------------------------
# Building


def _utterance_plan(size: int) -> list[tuple[str, Speaker, str]]:
    """(utt_id, speaker, kind) for each utterance, balanced over speakers and kinds."""
    plan = []
    for i in range(size):
        spk = SPEAKERS[i % len(SPEAKERS)]
        turn = i // len(SPEAKERS)
        kind = _KIND_CYCLE[turn % len(_KIND_CYCLE)]
        plan.append((f"{spk.id}-{turn:04d}", spk, kind))
    return plan


def _utterance_plan_v2(size: int, seed: int) -> list[tuple[str, Speaker, str, S.Sentence | None]]:
    """(utt_id, speaker, kind, sentence) for each utterance of corpus v2.

    First the held-out splits in a crossed design (every validation sentence read by every validation speaker,
    every test sentence by every test speaker), then training utterances spread evenly over the train speakers and
    the sentence kinds; their sentence is drawn from ``(seed, index)`` when the utterance is made (``None`` here).
    A larger corpus therefore starts with the utterances of a smaller one with the same seed.
    """
    return _crossed_plan(size, SPEAKERS_V2, lambda split: S.held_out_sentences(split, seed),
                         lambda i, n_train: (_KIND_CYCLE_V2[(i // n_train) % len(_KIND_CYCLE_V2)], None),
                         "A version-2 corpus")


def _crossed_plan(size: int, speakers: tuple[Speaker, ...], held_out: Callable[[str], list[S.Sentence]],
                  train_item: Callable[[int, int], tuple[str, S.Sentence | None]],
                  what: str) -> list[tuple[str, Speaker, str, S.Sentence | None]]:
    """(utt_id, speaker, kind, sentence) for ``size`` utterances: every sentence of ``held_out(split)`` read by
    every speaker of that split (test, then validation), then ``train_item(i, number of train speakers)`` (a kind and
    a sentence, or ``None`` to draw one when the utterance is made) for the train speakers in turn."""
    plan: list[tuple[str, Speaker, str, S.Sentence | None]] = []
    turns: dict[str, int] = {}

    def utt_id(spk: Speaker) -> str:
        turns[spk.id] = turns.get(spk.id, -1) + 1
        return f"{spk.id}-{turns[spk.id]:04d}"

    for split in ("test", "validation"):
        for sent in held_out(split):
            for spk in (s for s in speakers if s.split == split):
                plan.append((utt_id(spk), spk, sent.kind, sent))
    if size < len(plan):
        raise ValueError(f"{what} needs at least {len(plan)} utterances (its validation and test splits), got "
                         f"size={size}.")
    train = [s for s in speakers if s.split == "train"]
    for i in range(size - len(plan)):
        spk = train[i % len(train)]
        plan.append((utt_id(spk), spk, *train_item(i, len(train))))
    return plan


def _fmt_list(xs: Iterable[int]) -> str:
    return " ".join(str(x) for x in xs)


def _utterance_plan_fr(size: int, seed: int) -> list[tuple[str, Speaker, str, S.Sentence]]:
    """(utt_id, speaker, kind, sentence) for each utterance of the French corpus: the held-out splits in a crossed
    design as in :func:`_utterance_plan_v2`, then training sentences drawn from ``(seed, index)`` for the train
    speakers in turn (a larger corpus starts with the utterances of a smaller one)."""

    def train_item(i: int, n_train: int) -> tuple[str, S.Sentence]:
        sent = S.french_homophone(np.random.default_rng([seed, 3, 0, i]), "train")
        return sent.kind, sent

    return _crossed_plan(size, SPEAKERS_FR, lambda split: S.french_held_out_sentences(split, seed), train_item,
                         "A French corpus")  # type: ignore[return-value]


def make_utterance(index: int, utt_id: str, speaker: Speaker, kind: str, seed: int, version: int = 1,
                   sentence: S.Sentence | None = None):
    """Synthesise one corpus utterance deterministically from ``(seed, index)``.

    ``sentence``: the sentence to speak (held-out utterances of corpus v2); otherwise one is drawn for ``kind``
    (and, in version 2, the speaker's split).

    Returns
    -------
    waveform : np.ndarray
        float32 at 16 kHz.
    words, phones : list of Interval
    row : dict
        The manifest row.
    """
    rng = np.random.default_rng([seed, index])
    if sentence is not None:
        sent = sentence
    elif version == 1:
        sent = S.GENERATORS[kind](rng)
    else:
        sent = S.GENERATORS_V2[kind](rng, speaker.split)
    rate = int(rng.integers(speaker.rate[0], speaker.rate[1] + 1))
    syn = synthesize(sent.text, speaker.voice, rate, speaker.pitch, speaker.pitch_range,
                     seed=int(rng.integers(2**31 - 1)))
    audio = resample(syn.waveform.astype(np.float64) / 32768.0, syn.sample_rate, SAMPLE_RATE)
    peak = float(np.max(np.abs(audio))) or 1.0
    audio = audio * (float(rng.uniform(0.3, 0.9)) / peak)
    lead, tail = (int(rng.uniform(0.12, 0.35) * SAMPLE_RATE) for _ in range(2))
    audio = np.concatenate([np.zeros(lead), audio, np.zeros(tail)])
    audio = audio + rng.normal(0.0, 2e-4, size=audio.shape)  # a faint noise floor: no digital silence
    audio = np.clip(audio, -1.0, 1.0).astype(np.float32)
    # Quantise the alignment to the 16 kHz sample grid of the file.
    offset = lead / SAMPLE_RATE

    def shift(ivs: list[Interval]) -> list[Interval]:
        return [Interval(round(round((iv.start + offset) * SAMPLE_RATE) / SAMPLE_RATE, 6),
                         round(round((iv.end + offset) * SAMPLE_RATE) / SAMPLE_RATE, 6), iv.label) for iv in ivs]

    words, phones = shift(syn.words), shift(syn.phones)
    lab = sent.labels
    row = {c: "" for c in (MANIFEST_COLUMNS if version == 1 else MANIFEST_COLUMNS_V2)}
    row.update(
        id=utt_id, speaker=speaker.id, voice=speaker.voice, accent=speaker.accent, split=speaker.split,
        kind=kind, text=sent.text, duration=f"{len(audio) / SAMPLE_RATE:.5f}", n_words=len(words),
        n_phones=len(phones), rate=rate,
    )
    for key in ("action", "object", "location", "intent", "homophone_group", "target_word", "cue_word",
                "minimal_set", "key", "cue_position", "pair_id"):
        if key in lab and key in row:
            row[key] = lab[key]
    for key in ("action_words", "object_words", "location_words"):
        if key in lab:
            row[key] = _fmt_list(lab[key])
    for key in ("target_index", "cue_index"):
        if key in lab:
            row[key] = int(lab[key])
    return audio, words, phones, row


def _manifest_bytes(rows: list[dict], version: int = 1) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=MANIFEST_COLUMNS if version == 1 else MANIFEST_COLUMNS_V2,
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _info(size: int, seed: int, manifest: bytes, version: int = 1, language: str = "en") -> dict:
    return {
        "format": "speech-course-corpus",
        "version": version,
        **({"language": language} if language != "en" else {}),
        "size": size,
        "seed": seed,
        "sample_rate": SAMPLE_RATE,
        "frame_seconds": 0.02,
        "speakers": [s.__dict__ | {"rate": list(s.rate)} for s in speakers(version, language)],
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
    }


def _build_block(jobs: list[tuple]) -> list[dict]:
    rows = []
    for index, utt_id, speaker, kind, seed, version, sentence, out in jobs:
        audio, words, phones, row = make_utterance(index, utt_id, speaker, kind, seed, version, sentence)
        write_wav(Path(out) / f"{utt_id}.wav", audio)
        write_textgrid(Path(out) / f"{utt_id}.TextGrid", {"words": words, "phones": phones},
                       len(audio) / SAMPLE_RATE)
        rows.append(row)
    return rows


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_partials(out: Path) -> None:
    for tmp in out.parent.glob(f".{out.name}.partial-*"):
        try:
            pid = int(tmp.name.rsplit("-", 2)[-2])
        except ValueError:
            pid = -1
        if pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(tmp, ignore_errors=True)


def build_corpus(
    out: str | PathLike | None = None,
    size: int | None = None,
    seed: int = 0,
    force: bool = False,
    workers: int | None = None,
    progress: bool = True,
    version: int = CORPUS_VERSION,
    language: str = "en",
) -> Path:
    """Synthesise the corpus into ``out``.

    Parameters
    ----------
    out : path-like, optional
        Target directory, new or empty; default :func:`default_corpus_dir`.
    size : int, optional
        Number of utterances (default :data:`DEFAULT_SIZE`, French :data:`FRENCH_SIZE`): version 1 spreads them
        evenly over its 14 speakers (at least 14); version 2 first reads its held-out sentences with every
        validation and test speaker (864 utterances), then spreads the rest over its 20 train speakers.
    seed : int
        Same seed and size give byte-identical files, in any process.
    force : bool
        Replace an existing corpus built with other parameters.
    workers : int, optional
        Worker processes (default: the number of CPUs, at most 4).
    progress : bool
        Show a progress bar.
    version : int
        Corpus version (:data:`VERSIONS`); default :data:`CORPUS_VERSION`.
    language : {"en", "fr"}
        ``"fr"``: the French corpus (version 2 only): homophone nouns whose gender a determiner or an adjective
        decides, 30 speakers (:data:`SPEAKERS_FR`), its held-out splits first (384 utterances); default size
        :data:`FRENCH_SIZE` when ``size`` is not given.

    Returns
    -------
    Path
        The corpus directory. An existing complete corpus with the same size,
        seed and version is kept as it is.
    """
    _check_version(version, language)
    out = Path(out) if out is not None else default_corpus_dir(version=version, language=language)
    if size is None:
        size = FRENCH_SIZE if language == "fr" else DEFAULT_SIZE
    if version == 1 and size < len(SPEAKERS):
        raise ValueError(f"size must be at least {len(SPEAKERS)} (one utterance per speaker), got {size}.")
    plan = (_utterance_plan_fr(size, seed) if language == "fr" else _utterance_plan(size) if version == 1
            else _utterance_plan_v2(size, seed))  # checks the size
    empty = out.is_dir() and not any(out.iterdir())  # made for the corpus (mkdir, a mounted volume): fill it
    if out.exists() and not empty:
        try:
            info = _read_info(out)
            same = ((info.get("version"), info.get("size"), info.get("seed"), info.get("language", "en"))
                    == (version, size, seed, language))
        except CorpusError:
            same = False
        if same and not force:
            verify_corpus_files(out, version, language)
            return out
        if not force:
            what = f"version-{version}" if language == "en" else f"{language!r} version-{version}"
            raise CorpusError(
                f"{out} already exists and is not a complete {what} corpus with size={size}, seed={seed}. "
                "Pass --force (force=True) to replace it, or choose another --out directory."
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_partials(out)
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        jobs = [(i, p[0], p[1], p[2], seed, version, p[3] if len(p) > 3 else None, str(tmp))
                for i, p in enumerate(plan)]
        rows = _run_jobs(jobs, workers, progress)
        manifest = _manifest_bytes(rows, version)
        (tmp / "manifest.csv").write_bytes(manifest)
        # corpus.json is written last: its presence marks a complete build.
        (tmp / "corpus.json").write_text(json.dumps(_info(size, seed, manifest, version, language), indent=2,
                                                    sort_keys=True) + "\n")
        if empty and out.is_dir() and not any(out.iterdir()):
            # the folder itself stays (it may be a mount point); corpus.json, moved last, marks it complete
            for f in sorted(tmp.iterdir(), key=lambda f: f.name == "corpus.json"):
                f.rename(out / f.name)
            tmp.rmdir()
            return out
        if out.exists():
            trash = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            out.rename(trash)
            shutil.rmtree(trash, ignore_errors=True)
        try:
            tmp.rename(out)
        except OSError:
            # Another process finished the same build first: keep theirs if it is complete.
            verify_corpus_files(out, version, language)
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


#: Utterances synthesised per fresh worker process (see :func:`_run_jobs`).
BLOCK_SIZE = 150


def _run_jobs(jobs: list, workers: int | None, progress: bool) -> list[dict]:
    """Synthesise ``jobs`` in fixed blocks, each in a fresh process.

    eSpeak NG keeps some state between utterances of one process (its pitch
    "flutter" index, for one), so an utterance's samples depend on what the
    process synthesised before. Fixed blocks of :data:`BLOCK_SIZE` utterances,
    each synthesised by a new process, make every file depend only on the
    seed and size, whatever the number of workers.
    """


    workers = max(1, workers or min(4, os.cpu_count() or 1))
    blocks = [jobs[i:i + BLOCK_SIZE] for i in range(0, len(jobs), BLOCK_SIZE)]
    rows: list[dict] = []
    with tqdm(total=len(jobs), desc="Synthesising corpus", unit="utt", disable=not progress,
              file=sys.stderr) as bar:
        with mp.get_context("spawn").Pool(min(workers, len(blocks)), maxtasksperchild=1) as pool:
            for block_rows in pool.imap(_build_block, blocks):
                rows.extend(block_rows)
                bar.update(len(block_rows))
    return rows


# --------------------------------------------------------------------------
# Loading and checking


def _read_info(root: Path) -> dict:
    marker = root / "corpus.json"
    if not root.is_dir():
        raise CorpusError(f"No corpus at {root}. Build it with: speech-course corpus build --out {root}")
    if not marker.is_file():
        raise CorpusError(
            f"{root} is not a complete corpus (corpus.json is missing: the build was interrupted or this is "
            f"another directory). Rebuild it with: speech-course corpus build --out {root} --force"
        )
    try:
        info = json.loads(marker.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CorpusError(f"{marker} is unreadable ({exc}). Rebuild with: speech-course corpus build --out {root} "
                          "--force") from exc
    if info.get("format") != "speech-course-corpus":
        raise CorpusError(f"{marker} does not describe a speech-course corpus.")
    return info


def verify_corpus_files(root: str | PathLike, version: int | None = CORPUS_VERSION,
                        language: str | None = "en") -> dict:
    """Check that a corpus directory is a complete corpus of ``version`` and ``language``; return its
    ``corpus.json``.

    ``version=None`` accepts any version this code knows (:data:`VERSIONS`), ``language=None`` either language.

    Raises
    ------
    CorpusError
        Missing marker, a manifest that does not match its checksum, or
        missing audio/TextGrid files, with the command that fixes it.
    """
    root = Path(root)
    info = _read_info(root)
    found = info.get("version")
    own = found if found in VERSIONS else (version or CORPUS_VERSION)  # rebuild a damaged corpus as what it was
    lang = info.get("language", "en")
    flag = ("" if own == CORPUS_VERSION else f" --version {own}") + ("" if lang == "en" else f" --language {lang}")
    fix = f"Rebuild it with: speech-course corpus build --out {root} --size {info.get('size')}{flag} --force"
    manifest = root / "manifest.csv"
    if not manifest.is_file():
        raise CorpusError(f"{root} has no manifest.csv. {fix}")
    if hashlib.sha256(manifest.read_bytes()).hexdigest() != info.get("manifest_sha256"):
        raise CorpusError(f"{manifest} was modified or truncated (checksum mismatch). {fix}")
    if found not in ((version,) if version is not None else VERSIONS):
        if found in VERSIONS:
            raise CorpusError(f"{root} holds corpus version {found}, not version {version}. Load it as what it is "
                              f"(load_corpus(..., version={found})), or rebuild it as version {version} with: "
                              f"speech-course corpus build --out {root} --version {version} --force")
        raise CorpusError(f"{root} was built by corpus version {found}, which this course does not know (it knows "
                          f"{list(VERSIONS)}). Rebuild it with: speech-course corpus build --out {root} --version "
                          f"{version or CORPUS_VERSION} --force")
    if language is not None and lang != language:
        raise CorpusError(f"{root} holds the {lang!r} corpus, not the {language!r} one. Load it with "
                          f"load_corpus(..., language={lang!r}), or build the {language!r} corpus elsewhere: "
                          f"speech-course corpus build --language {language} --out DIR")
    with open(manifest, newline="", encoding="utf-8") as f:
        ids = [row["id"] for row in csv.DictReader(f)]
    missing = [i for i in ids for ext in (".wav", ".TextGrid") if not (root / f"{i}{ext}").is_file()]
    if missing:
        raise CorpusError(f"{root} is missing {len(missing)} files (e.g. {missing[0]}). {fix}")
    return info


class Corpus:
    """A loaded corpus: the manifest in memory, audio and alignments read on demand.

    Use :func:`load_corpus` to get one.

    Attributes
    ----------
    root : Path
        The corpus directory.
    manifest : pandas.DataFrame
        One row per utterance (see :data:`MANIFEST_COLUMNS`), indexed by id.
    info : dict
        The build parameters from ``corpus.json``.
    """

    def __init__(self, root: str | PathLike, version: int | None = CORPUS_VERSION,
                 language: str | None = "en") -> None:

        self.root = Path(root)
        self.info = verify_corpus_files(self.root, version, language)
        self.manifest = pd.read_csv(self.root / "manifest.csv", dtype=str, keep_default_na=False).set_index(
            "id", drop=False)
        for col in ("duration",):
            self.manifest[col] = self.manifest[col].astype(float)
        for col in ("n_words", "n_phones", "rate"):
            self.manifest[col] = self.manifest[col].astype(int)

    def __len__(self) -> int:
        return len(self.manifest)

    def __repr__(self) -> str:
        counts = self.manifest["split"].value_counts().to_dict()
        return f"Corpus({str(self.root)!r}, {len(self)} utterances, splits={counts})"

    @property
    def language(self) -> str:
        """``"en"`` or ``"fr"`` (:data:`LANGUAGES`)."""
        return self.info.get("language", "en")

    @property
    def speakers(self) -> list[str]:
        return sorted(self.manifest["speaker"].unique())

    def select(self, split: str | None = None, kind: str | None = None, speaker: str | None = None):
        """Manifest rows matching all given filters (a pandas DataFrame)."""
        m = self.manifest
        for col, val in (("split", split), ("kind", kind), ("speaker", speaker)):
            if val is None:
                continue
            allowed = {"split": SPLITS, "kind": S.KINDS, "speaker": self.speakers}[col]
            if val not in allowed:
                raise ValueError(f"Unknown {col} {val!r}; choose one of {list(allowed)}.")
            m = m[m[col] == val]
        return m

    def ids(self, split: str | None = None, kind: str | None = None, speaker: str | None = None) -> list[str]:
        """Utterance ids matching the filters, in manifest order."""
        return list(self.select(split, kind, speaker).index)

    def __getitem__(self, utt_id: str) -> Utterance:
        if utt_id not in self.manifest.index:
            raise KeyError(f"No utterance {utt_id!r} in {self.root}.")
        row = self.manifest.loc[utt_id].to_dict()
        tiers = read_textgrid(self.root / f"{utt_id}.TextGrid")
        wav = load_audio(self.root / f"{utt_id}.wav")
        return Utterance(utt_id, row["speaker"], row["split"], row["kind"], row["text"], wav, SAMPLE_RATE,
                         tiers["words"], tiers["phones"], row)

    def utterances(self, split: str | None = None, kind: str | None = None, speaker: str | None = None,
                   limit: int | None = None) -> Iterator[Utterance]:
        """Iterate over loaded utterances matching the filters."""
        for i, utt_id in enumerate(self.ids(split, kind, speaker)):
            if limit is not None and i >= limit:
                return
            yield self[utt_id]

    def noisy(self, utt_id: str, snr_db: float, noise: str = "babble", seed: int = 0) -> np.ndarray:
        """The waveform of ``utt_id`` with noise added at ``snr_db`` dB: the course's noisy test condition.

        Parameters
        ----------
        utt_id : str
        snr_db : float
            Signal-to-noise ratio in decibels (:func:`course.audio.mix_at_snr`).
        noise : {"babble", "white"}
            ``"babble"``: the sum of four utterances of four other **train** speakers (never held-out sentences or
            voices, so the noise says nothing about the test set), each scaled to the same power; ``"white"``:
            Gaussian white noise.
        seed : int
            With ``utt_id``, decides the noise: the same arguments on the same corpus (version, size, seed) give
            the same samples on every machine.

        Returns
        -------
        np.ndarray
            float32 samples at 16 kHz, as long as the utterance.

        Raises
        ------
        ValueError
            An unknown ``noise``, or a corpus with fewer than four other train speakers (babble).
        """


        if noise not in ("babble", "white"):
            raise ValueError(f"noise must be 'babble' or 'white', got {noise!r}.")
        wave = self[utt_id].waveform
        rng = np.random.default_rng([seed, zlib.crc32(utt_id.encode())])
        if noise == "white":
            return mix_at_snr(wave, rng.normal(size=len(wave)), snr_db)
        train = self.manifest[(self.manifest["split"] == "train")
                              & (self.manifest["speaker"] != self.manifest.loc[utt_id, "speaker"])]
        if train["speaker"].nunique() < 4:
            raise ValueError(f"Babble needs four train speakers other than {utt_id}'s; {self.root} has "
                             f"{train['speaker'].nunique()}.")
        talkers = rng.choice(sorted(train["speaker"].unique()), 4, replace=False)
        babble = np.zeros(len(wave))
        for spk in talkers:
            ids = list(train.index[train["speaker"] == spk])
            other = self[ids[rng.integers(len(ids))]].waveform.astype(np.float64)
            other = np.resize(other, len(wave))  # repeated to the length of the utterance
            babble += other / (np.sqrt(np.mean(other ** 2)) + 1e-12)
        return mix_at_snr(wave, babble, snr_db)

def load_corpus(path: str | PathLike | None = None, build: bool = True, size: int | None = None,
                seed: int = 0, version: int | None = CORPUS_VERSION, language: str | None = "en") -> Corpus:
    """Load a corpus, building the default one on first use.

    Parameters
    ----------
    path : path-like, optional
        Corpus directory; default :func:`default_corpus_dir`.
    build : bool
        If the directory does not exist, build it (with ``size`` and ``seed``)
        instead of raising. An existing but incomplete directory is never
        rebuilt silently: the error says how to rebuild it.
    version : int
        The corpus version to load (and build); default :data:`CORPUS_VERSION`; ``None``: whichever version
        ``path`` holds.
    language : {"en", "fr"} or None
        The corpus language (:data:`LANGUAGES`); ``None``: whichever ``path`` holds. The French corpus
        (:data:`FRENCH_SIZE` utterances by default) is built on first use like the English one.

    Raises
    ------
    CorpusError
        Missing (with ``build=False``), incomplete or corrupted corpus.
    """
    root = Path(path) if path is not None else default_corpus_dir(version=version or CORPUS_VERSION,
                                                                  language=language or "en")
    if not root.exists() and build:
        print(f"Building the course corpus in {root} (first use; takes about half a minute)...", file=sys.stderr)
        build_corpus(root, size=size, seed=seed, version=version or CORPUS_VERSION, language=language or "en")
    return Corpus(root, version, language)


def check_alignments(corpus: Corpus, ids: Iterable[str] | None = None) -> list[str]:
    """Sanity-check alignments; return a list of problems (empty when all is well).

    Checks, per utterance: intervals are non-empty, ordered and do not
    overlap; they lie within the audio; every phone lies inside exactly one
    word and every word contains at least one phone; the words spell the
    text.
    """
    problems: list[str] = []
    for utt_id in ids if ids is not None else corpus.manifest.index:
        row = corpus.manifest.loc[utt_id]
        tiers = read_textgrid(corpus.root / f"{utt_id}.TextGrid")
        dur = float(row["duration"])
        for name, ivs in tiers.items():
            prev_end = 0.0
            for iv in ivs:
                if not iv.end > iv.start:
                    problems.append(f"{utt_id}: empty {name} interval {iv}")
                if iv.start < prev_end - 1e-9:
                    problems.append(f"{utt_id}: {name} interval {iv} overlaps or is out of order")
                if iv.start < 0 or iv.end > dur + 1e-6:
                    problems.append(f"{utt_id}: {name} interval {iv} outside the audio (0, {dur})")
                prev_end = iv.end
        words, phones = tiers["words"], tiers["phones"]
        if " ".join(w.label for w in words) != row["text"]:
            problems.append(f"{utt_id}: words tier does not spell the text {row['text']!r}")
        for p in phones:
            owners = [w for w in words if w.start - 1e-9 <= p.start and p.end <= w.end + 1e-9]
            if len(owners) != 1:
                problems.append(f"{utt_id}: phone {p} lies in {len(owners)} words")
        for w in words:
            if not any(w.start - 1e-9 <= p.start and p.end <= w.end + 1e-9 for p in phones):
                problems.append(f"{utt_id}: word {w} contains no phone")
        if len(words) != int(row["n_words"]) or len(phones) != int(row["n_phones"]):
            problems.append(f"{utt_id}: interval counts differ from the manifest")
    return problems
