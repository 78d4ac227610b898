"""Offline speech synthesis with exact phone and word alignments (eSpeak NG).

eSpeak NG is a formant synthesiser: it sounds robotic, but it reports the
exact sample at which every phone and word starts. That gives the course a
speech corpus whose alignments are *ground truth* rather than the guess of a
forced aligner. The library is loaded from the ``espeakng-loader`` wheel, so
no system package is needed.

The engine is a process-wide C library with global state and is not
thread-safe; use processes, not threads, to parallelise synthesis.

Example
-------
>>> from course.synth import synthesize
>>> utt = synthesize("she will write a letter", voice="en-us+f3")
>>> [w.label for w in utt.words]
['she', 'will', 'write', 'a', 'letter']
"""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from course.errors import CourseError
from course.textgrid import Interval

#: Native sample rate of eSpeak NG's voices.
NATIVE_RATE = 22050

# Constants from speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS = 0x0001
_INIT_PHONEME_IPA = 0x0002
_INIT_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EV_WORD, _EV_END, _EV_PHONEME = 1, 5, 7
_PARAM_RATE, _PARAM_PITCH, _PARAM_RANGE = 1, 3, 4

#: Stress marks, and the "-" that eSpeak NG's French voices append to some unstressed vowels ("la" -> l a-): not
#: phones. (No English phone of the corpus carries either once removed.)
_STRESS_MARKS = str.maketrans("", "", "ˈˌ-")
#: Letters of the corpus languages: English, and French with its accented letters.
_LETTERS = "a-zàâçéèêëîïôûùüÿœæ"
_WORD_RE = re.compile(rf"[{_LETTERS}]+(?:'[{_LETTERS}]+)?")
_ALLOWED_TEXT = re.compile(rf"^[{_LETTERS}' ]+$")


class SynthesisError(CourseError, RuntimeError):
    """eSpeak NG could not synthesise or align an utterance."""


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class _RawEvent:
    kind: int
    text_position: int
    sample: int
    phone: str


class _Engine:
    """A thin wrapper around the eSpeak NG shared library (one per process)."""

    def __init__(self) -> None:
        import espeakng_loader  # by design: eSpeak NG loads with the first synthesis (course.doctor checks it)

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS,
            0,
            espeakng_loader.get_data_path().encode(),
            _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA | _INIT_DONT_EXIT,
        )
        if rate != NATIVE_RATE:
            raise SynthesisError(f"eSpeak NG failed to initialise (returned {rate}).")
        self.lib = lib
        self._audio: list[np.ndarray] = []
        self._events: list[_RawEvent] = []
        # Keep a reference: ctypes callbacks are freed when garbage collected.
        self._callback = _CALLBACK(self._on_chunk)
        lib.espeak_SetSynthCallback(self._callback)
        self._voice: str | None = None

    def _on_chunk(self, wav, n_samples, events) -> int:  # noqa: ANN001 - ctypes signature
        if n_samples > 0:
            self._audio.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        i = 0
        while events[i].type != 0:
            ev = events[i]
            phone = ev.id.string.decode("utf-8", "replace") if ev.type == _EV_PHONEME else ""
            self._events.append(_RawEvent(ev.type, ev.text_position, ev.sample, phone))
            i += 1
        return 0

    def set_voice(self, voice: str) -> None:
        if voice == self._voice:
            return
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(
                f"Unknown eSpeak NG voice {voice!r}. Use a language such as 'en-us' or 'en', optionally with a "
                f"variant ('en-us+f3', 'en+m2'); see course.synth.ENGLISH_VOICES for tested choices."
            )
        self._voice = voice

    def synth(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int, seed: int):
        self.set_voice(voice)
        self.lib.espeak_SetParameter(_PARAM_RATE, int(rate), 0)
        self.lib.espeak_SetParameter(_PARAM_PITCH, int(pitch), 0)
        self.lib.espeak_SetParameter(_PARAM_RANGE, int(pitch_range), 0)
        self.lib.espeak_ng_SetRandSeed(ctypes.c_long(seed))
        self._audio, self._events = [], []
        data = text.encode("utf-8")
        err = self.lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        if err != 0:
            raise SynthesisError(f"eSpeak NG failed to synthesise {text!r} (error {err}).")
        audio = np.concatenate(self._audio) if self._audio else np.zeros(0, np.int16)
        return audio, list(self._events)

    def phonemes(self, word: str, voice: str) -> list[str]:
        """The phones eSpeak NG uses for ``word`` spoken alone (stress marks removed)."""
        self.set_voice(voice)
        buf = ctypes.create_string_buffer(word.encode("utf-8"))
        ptr = ctypes.c_void_p(ctypes.addressof(buf))
        out = self.lib.espeak_TextToPhonemes(ctypes.byref(ptr), _CHARS_UTF8, _INIT_PHONEME_IPA | (ord("_") << 8))
        text = (out or b"").decode("utf-8").translate(_STRESS_MARKS)
        return [p for p in re.split(r"[_ ]+", text) if p]


@lru_cache(maxsize=1)
def _engine() -> _Engine:
    return _Engine()


#: English voices the corpus uses; add a variant such as "+f3" or "+m2". eSpeak
#: has more (en-029, en-gb-scotland, en-us-nyc) whose phone sets differ.
ENGLISH_VOICES = ("en-us", "en", "en-gb-x-rp")


@dataclass
class Synthesis:
    """A synthesised utterance with ground-truth alignments.

    Attributes
    ----------
    waveform : np.ndarray
        int16 samples at :data:`NATIVE_RATE` Hz.
    sample_rate : int
        Always :data:`NATIVE_RATE`.
    words, phones : list of Interval
        Word and phone intervals in seconds from the start of ``waveform``;
        gaps between intervals are silence.
    """

    waveform: np.ndarray
    sample_rate: int
    words: list[Interval]
    phones: list[Interval]


def normalise_text(text: str) -> str:
    """Lower-case ``text`` and collapse white space; reject what eSpeak would misalign.

    Raises
    ------
    ValueError
        If the text is empty or contains characters other than letters,
        apostrophes and spaces (digits and punctuation change how eSpeak
        splits words, so they are spelled out or removed first).
    """
    clean = " ".join(str(text).lower().split())
    if not clean:
        raise ValueError("Cannot synthesise empty text: give at least one word.")
    if not _ALLOWED_TEXT.match(clean):
        bad = sorted(set(re.sub(rf"[{_LETTERS}' ]", "", clean)))
        raise ValueError(
            f"Text {text!r} contains {''.join(bad)!r}: use letters, apostrophes and spaces only "
            "(spell numbers out, drop punctuation)."
        )
    return clean


def phonemes(word: str, voice: str = "en-us") -> list[str]:
    """Return eSpeak NG's phones (IPA, no stress marks) for one word spoken alone.

    A caveat, measured with the eSpeak NG of espeakng-loader 0.2.4: after a few dozen look-ups that switch between
    voices, with no synthesis in between, the next :func:`synthesize` in the same process loses its first phoneme
    event (its first word starts late and lacks its first phone); the synthesis after that is right again. The
    corpus build is not affected (it looks up phones only in the voice it is synthesising, between syntheses), but
    code that looks up many words in several voices should do it in a process of its own.
    """
    return _engine().phonemes(normalise_text(word), voice)


def synthesize(
    text: str,
    voice: str = "en-us",
    rate: int = 175,
    pitch: int = 50,
    pitch_range: int = 50,
    seed: int = 0,
) -> Synthesis:
    """Synthesise ``text`` and return audio with exact word and phone intervals.

    Parameters
    ----------
    text : str
        Words made of letters and apostrophes, separated by spaces.
    voice : str
        eSpeak NG voice name with optional variant, e.g. ``"en-us+f3"``.
    rate : int
        Speaking rate in words per minute (80–450).
    pitch, pitch_range : int
        Base pitch and pitch range, 0–100.
    seed : int
        Seed of eSpeak's random generator. The same arguments and seed give
        the same samples in a fresh process; later calls in one process also
        depend on what it synthesised before (eSpeak keeps its pitch-flutter
        state), which is why :func:`course.corpus.build_corpus` synthesises
        fixed blocks of utterances in fresh processes.

    Returns
    -------
    Synthesis
        int16 audio at 22 050 Hz with word and phone intervals (seconds).
    """
    clean = normalise_text(text)
    if not 80 <= rate <= 450:
        raise ValueError(f"rate={rate} words per minute is outside eSpeak's range 80–450.")
    engine = _engine()
    audio, events = engine.synth(clean, voice, rate, pitch, pitch_range, seed)
    if audio.size == 0:
        raise SynthesisError(f"eSpeak NG produced no audio for {text!r}.")
    words, phones = _align(clean, voice, events, len(audio), engine)
    return Synthesis(audio, NATIVE_RATE, words, phones)


def _align(text: str, voice: str, events: list[_RawEvent], n_samples: int, engine: _Engine):
    """Turn eSpeak's event stream into word and phone intervals (seconds)."""
    timed = [e for e in events if e.kind in (_EV_WORD, _EV_END, _EV_PHONEME)]
    # A phone lasts until the next phoneme event (a pause arrives as a phoneme
    # with an empty name and only ends the previous phone) or until a later
    # word or end event. Two phonemes at one sample make the first zero-length.
    groups: dict[int, list[tuple[int, int, str]]] = {}
    order: list[int] = []
    for i, ev in enumerate(timed):
        if ev.kind != _EV_PHONEME:
            continue
        label = ev.phone.translate(_STRESS_MARKS).strip()
        if not label:
            continue
        end = next((e.sample for e in timed[i + 1:] if e.kind == _EV_PHONEME or e.sample > ev.sample), n_samples)
        if ev.text_position not in groups:
            groups[ev.text_position] = []
            order.append(ev.text_position)
        groups[ev.text_position].append((ev.sample, min(end, n_samples), label))

    # eSpeak sometimes speaks two words as one ("on the", "in the"): assign each
    # text word to the event group that starts at or before it, then split a
    # shared group by aligning it with the words' phones in isolation.
    tokens = [(m.start() + 1, m.group()) for m in _WORD_RE.finditer(text)]
    starts = sorted(order)
    owners: dict[int, list[str]] = {}
    for pos, word in tokens:
        owner = max((s for s in starts if s <= pos), default=None)
        if owner is None:
            raise SynthesisError(f"eSpeak NG did not speak the word {word!r} of {text!r}.")
        owners.setdefault(owner, []).append(word)

    words: list[Interval] = []
    phones: list[Interval] = []
    for pos in starts:
        segs = groups[pos]
        members = owners.get(pos, [])
        if not members:
            raise SynthesisError(f"Phones at character {pos} of {text!r} belong to no word.")
        if len(members) == 1:
            split = [segs]
        else:
            owner_of = _split_merged([engine.phonemes(w, voice) for w in members], [lab for _, _, lab in segs])
            if owner_of is None:
                raise SynthesisError(
                    f"Cannot split the phones of {' '.join(members)!r} in {text!r} between its words; "
                    "rephrase the sentence."
                )
            split = [[seg for seg, o in zip(segs, owner_of) if o == k] for k in range(len(members))]
        for word, part in zip(members, split):
            kept = [(s, e, lab) for s, e, lab in part if e > s]  # drop zero-length phones
            if not kept:
                raise SynthesisError(f"The word {word!r} of {text!r} has no audible phone.")
            words.append(Interval(kept[0][0] / NATIVE_RATE, kept[-1][1] / NATIVE_RATE, word))
            phones.extend(Interval(s / NATIVE_RATE, e / NATIVE_RATE, lab) for s, e, lab in kept)
    if [w.label for w in words] != [t for _, t in tokens]:
        raise SynthesisError(f"Word alignment of {text!r} does not match its text.")
    return words, phones


def _split_merged(isolated: list[list[str]], spoken: list[str]) -> list[int] | None:
    """Assign each spoken phone of a merged word group to one of its words.

    eSpeak may speak "for a" as one unit with a linking /ɹ/ (f ɚ ɹ ə), so the
    phones of the words said alone ([f ɔːɹ], [ɐ]) need not match one to one.
    A minimum edit-distance alignment between the concatenated isolated
    phones and the spoken ones decides the owner of each spoken phone; an
    inserted phone belongs to the word of the phone before it. Returns None
    when some word would get no phone.
    """
    ref = [p for phones in isolated for p in phones]
    ref_word = [k for k, phones in enumerate(isolated) for _ in phones]
    n, m = len(ref), len(spoken)
    cost = np.zeros((n + 1, m + 1), dtype=int)
    cost[:, 0] = np.arange(n + 1)
    cost[0, :] = np.arange(m + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(cost[i - 1, j] + 1, cost[i, j - 1] + 1,
                             cost[i - 1, j - 1] + (ref[i - 1] != spoken[j - 1]))
    owner: list[int | None] = [None] * m
    i, j = n, m
    while j > 0:
        if i > 0 and cost[i, j] == cost[i - 1, j - 1] + (ref[i - 1] != spoken[j - 1]):
            owner[j - 1] = ref_word[i - 1]
            i, j = i - 1, j - 1
        elif i > 0 and cost[i, j] == cost[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1  # an inserted phone: its owner is filled in below
    last = 0
    for j in range(m):
        if owner[j] is None:
            owner[j] = last
        last = owner[j]
    if owner != sorted(owner) or set(owner) != set(range(len(isolated))):
        return None
    return owner  # type: ignore[return-value]
