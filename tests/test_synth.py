import numpy as np
import pytest

from course.synth import NATIVE_RATE, SynthesisError, _split_merged, normalise_text, phonemes, synthesize
from course.sentences import HOMOPHONE_TEMPLATES, MINIMAL_SETS


def test_alignment_of_a_known_sentence():
    s = synthesize("turn on the lights in the kitchen", "en-us+f3", rate=170)
    assert [w.label for w in s.words] == "turn on the lights in the kitchen".split()
    # "on the" and "in the" are spoken as one unit by eSpeak: they must still be split into two words
    on, the = s.words[1], s.words[2]
    assert on.end <= the.start and on.end > on.start
    assert [p.label for p in s.phones][:3] == ["t", "ɜː", "n"]
    assert s.waveform.dtype == np.int16 and s.sample_rate == NATIVE_RATE
    assert s.phones[-1].end <= len(s.waveform) / NATIVE_RATE


def test_same_seed_gives_same_samples_in_fresh_processes():
    import subprocess
    import sys

    code = ("import hashlib; from course.synth import synthesize; "
            "print(hashlib.sha256(synthesize('say bat again', 'en+m3', seed=5).waveform.tobytes()).hexdigest())")
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)}
    assert len(runs) == 1


def test_rate_changes_duration():
    slow = synthesize("say bat again", "en+m3", rate=140)
    fast = synthesize("say bat again", "en+m3", rate=240)
    assert len(fast.waveform) < 0.8 * len(slow.waveform)


def test_merged_word_split_uses_alignment_not_counts():
    # "for a" is spoken f ɚ ɹ ə (a linking r): the isolated words give f ɔːɹ | ɐ
    assert _split_merged([["f", "ɔːɹ"], ["ɐ"]], ["f", "ɚ", "ɹ", "ə"]) == [0, 0, 0, 1]
    assert _split_merged([["eɪ"], ["w", "aɪ", "l"]], ["w", "aɪ", "l"]) is None


@pytest.mark.parametrize("text, match", [
    ("", "empty"), ("   ", "empty"), ("turn 2 left", "'2'"), ("hello, world", "','"),
])
def test_bad_text(text, match):
    with pytest.raises(ValueError, match=match):
        synthesize(text)


def test_unknown_voice_and_bad_rate():
    with pytest.raises(ValueError, match="Unknown eSpeak NG voice 'xx-nowhere'"):
        synthesize("hello", voice="xx-nowhere")
    with pytest.raises(ValueError, match="outside eSpeak's range"):
        synthesize("hello", rate=20)


def test_normalise_text():
    assert normalise_text("  Turn  ON the Lights ") == "turn on the lights"


@pytest.mark.parametrize("voice", ["en-us", "en", "en-gb-x-rp"])
def test_homophone_spellings_sound_the_same(voice):
    for group in HOMOPHONE_TEMPLATES:
        a, b = group.split("/")
        assert phonemes(a, voice) == phonemes(b, voice), f"{group} differ for {voice}"


def test_minimal_sets_differ_in_one_phone():
    for name, words in MINIMAL_SETS.items():
        prons = {w: phonemes(w, "en-us") for w in words}
        assert len({tuple(p) for p in prons.values()}) == len(words), f"{name} has duplicate pronunciations"
        for w, p in prons.items():
            closest = min(sum(x != y for x, y in zip(p, q)) + abs(len(p) - len(q))
                          for v, q in prons.items() if v != w)
            assert closest == 1, f"{w!r} in {name!r} is not one phone away from another member"
