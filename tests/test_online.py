"""The online path: Hugging Face datasets (local copies here) and forced alignment."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest

from course.online import (AlignmentError, OfflineError, forced_align, hub_offline_reason, load_hf_speech,
                           save_hf_dataset)


def _boundary_errors(ref, hyp):
    assert [w.label for w in ref] == [w.label for w in hyp]
    return np.array([abs(a.start - b.start) for a, b in zip(ref, hyp)] + [abs(a.end - b.end) for a, b in zip(ref, hyp)])


def test_forced_alignment_agrees_with_ground_truth(small_corpus):
    errors = []
    for utt in small_corpus.utterances(split="test", limit=6):
        words, phones = forced_align(utt.waveform, utt.text)
        errors.append(_boundary_errors(utt.words, words))
        assert phones and all(p.label.isupper() for p in phones), "ARPAbet phones expected"
        assert all(0 <= p.start < p.end <= utt.duration + 1e-6 for p in phones)
    errors = np.concatenate(errors)
    assert np.median(errors) < 0.03, f"median word-boundary error {np.median(errors):.3f} s"
    assert np.mean(errors < 0.05) > 0.8


def test_forced_alignment_bad_input(small_corpus):
    utt = next(small_corpus.utterances(limit=1))
    with pytest.raises(AlignmentError, match="empty"):
        forced_align(utt.waveform, "  ")
    with pytest.raises(AlignmentError, match="No pronunciation for \\['zxqwv'\\]"):
        forced_align(utt.waveform, utt.text + " zxqwv")
    from course.audio import AudioError

    with pytest.raises(AudioError, match="resample"):
        forced_align(utt.waveform, utt.text, sample_rate=8000)


def test_hub_id_offline_gives_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_offline_reason() == "HF_HUB_OFFLINE is set"
    with pytest.raises(OfflineError, match="course corpus instead"):
        load_hf_speech("hf-internal-testing/librispeech_asr_dummy", limit=2)


def test_saved_dataset_round_trip(small_corpus, tmp_path):
    utts = list(small_corpus.utterances(split="validation", limit=3))
    save_hf_dataset(utts, tmp_path / "ds")
    loaded = load_hf_speech(tmp_path / "ds", split="validation")
    assert [u.id for u in loaded] == [u.id for u in utts]
    for a, b in zip(utts, loaded):
        np.testing.assert_allclose(a.waveform, b.waveform, atol=1 / 32767)
        assert b.text == a.text and b.speaker == a.speaker
        assert np.median(_boundary_errors(a.words, b.words)) < 0.05


def test_audiofolder_with_other_rate_and_punctuation(small_corpus, tmp_path):
    import soundfile as sf

    from course.audio import resample

    folder = tmp_path / "af"
    folder.mkdir()
    utt = next(small_corpus.utterances(split="test", limit=1))
    sf.write(folder / "a.wav", resample(utt.waveform, 16000, 22050), 22050)  # another rate: resampled on load
    with open(folder / "metadata.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["file_name", "text"])
        w.writerow(["a.wav", utt.text.upper() + "."])
    (loaded,) = load_hf_speech(folder)
    assert loaded.sample_rate == 16000 and abs(loaded.duration - utt.duration) < 0.01
    assert loaded.text == utt.text
    with pytest.raises(FileNotFoundError, match="metadata.csv"):
        empty = tmp_path / "empty"
        empty.mkdir()
        load_hf_speech(empty)
