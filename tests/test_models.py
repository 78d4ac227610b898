"""Shipped models: plain-transformers loading, targets on held-out speakers, the loading API, extraction."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from course.audio import AudioError
from course.features import extract, log_mel, mfcc
from course.frames import num_frames
from course.registry import MODELS
from course.models import (FRONT_END, SHIPPED, SHIPPED_DIR, ModelNotAvailableError, load_model, random_twin, resolve,
                           shipped_metrics)
from course.metrics import edit_distance, error_rate
from course.decoding import classify, transcribe_phones, transcribe_text
from speech_course_tools.training import _homophone_correct, unmet_targets


def _expect_failure_if_recorded_below_target(request, name: str) -> None:
    """A checkpoint whose own metrics.json records a missed target is an expected failure (tiny-whisper, at present).

    A checkpoint that records its targets as met must meet them here, measured afresh.
    """
    missed = unmet_targets(name, shipped_metrics(name))
    if missed:
        request.applymarker(pytest.mark.xfail(reason=f"{name} is preliminary: {'; '.join(missed)}", strict=False))

PLAIN_CLASSES = {
    "tiny-w2v2-ctc": ("AutoModelForCTC", "AutoProcessor"),
    "tiny-whisper": ("AutoModelForSpeechSeq2Seq", "AutoProcessor"),
    "tiny-whisper-fr": ("AutoModelForSpeechSeq2Seq", "AutoProcessor"),
    "tiny-w2v2-intent": ("AutoModelForAudioClassification", "AutoFeatureExtractor"),
    "tiny-hubert": ("AutoModel", "AutoFeatureExtractor"),
    "tiny-hubert-ctc": ("AutoModelForCTC", "AutoProcessor"),
    "tiny-w2v2-ctc-noalign": ("AutoModelForCTC", "AutoProcessor"),
}


@pytest.fixture(scope="module")
def test_utts(default_corpus):
    return list(default_corpus.utterances(split="test"))


@pytest.mark.parametrize("name", sorted(SHIPPED))
@pytest.mark.slow
def test_loads_with_plain_transformers_without_course(name):
    model_cls, proc_cls = PLAIN_CLASSES[name]
    code = (f"import sys, torch, transformers as T; sys.modules['course'] = None\n"
            f"m = T.{model_cls}.from_pretrained({str(SHIPPED_DIR / name)!r})\n"
            f"p = T.{proc_cls}.from_pretrained({str(SHIPPED_DIR / name)!r})\n"
            "assert next(m.parameters()).dtype == torch.float32\n"
            "print(type(m).__name__, type(p).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]


def test_models_fit_the_size_budget():
    size = lambda names: sum(f.stat().st_size for name in names for f in (SHIPPED_DIR / name).iterdir())  # noqa: E731
    task_models = size(["tiny-w2v2-ctc", "tiny-whisper", "tiny-w2v2-intent"])
    assert task_models <= 25 * 1024 * 1024, f"{task_models / 1e6:.1f} MB"  # the three task models' budget
    # 45 MiB for the six English models; 52 MiB since tiny-whisper-fr (6.5 MB) joined them
    assert size(SHIPPED) <= 52 * 1024 * 1024, f"{size(SHIPPED) / 1e6:.1f} MB"
    for name in SHIPPED:
        assert (SHIPPED_DIR / name / "README.md").is_file(), f"{name} has no model card"


def test_phone_recogniser_meets_target(test_utts, request):
    _expect_failure_if_recorded_below_target(request, "tiny-w2v2-ctc")
    model, processor = load_model("tiny-w2v2-ctc")
    utts = test_utts[::2]
    hyps = transcribe_phones(model, processor, [u.waveform for u in utts])
    per = error_rate([[p.label for p in u.phones] for u in utts], hyps)
    assert per <= 0.05, f"phone error rate {per:.3f} on held-out speakers"
    assert set(p for h in hyps for p in h) <= set(processor.tokenizer.get_vocab()), "decoded outside the symbol set"


def test_transcriber_meets_targets(test_utts, request):
    _expect_failure_if_recorded_below_target(request, "tiny-whisper")
    model, processor = load_model("tiny-whisper")
    homs = [u for u in test_utts if u.kind == "homophone"]
    others = [u for u in test_utts if u.kind != "homophone"][::4]
    hyps = transcribe_text(model, processor, [u.waveform for u in homs + others])
    wer = error_rate([u.text.split() for u in homs + others], [h.split() for h in hyps])
    acc = np.mean([_homophone_correct(u, h) for u, h in zip(homs, hyps)])
    assert wer <= 0.05, f"WER {wer:.3f}"
    assert acc >= 0.95, f"homophone accuracy {acc:.3f}"


def test_french_transcriber_meets_targets_and_spells_from_the_cue(french_corpus, request):
    """Re-measured on all 288 held-out French utterances (9 test speakers x 32 held-out sentences): word error rate
    and nouns spelled right meet the targets, and with the cue word silenced the spelling falls to a coin toss at
    most (the noun's own audio does not tell the gender)."""
    from speech_course_tools.training import replace_word

    _expect_failure_if_recorded_below_target(request, "tiny-whisper-fr")
    model, processor = load_model("tiny-whisper-fr")
    utts = list(french_corpus.utterances(split="test"))
    assert len(utts) == 288 and len({u.speaker for u in utts}) == 9
    hyps = transcribe_text(model, processor, [u.waveform for u in utts])
    wer = error_rate([u.text.split() for u in utts], [h.split() for h in hyps])
    acc = np.mean([_homophone_correct(u, h) for u, h in zip(utts, hyps)])
    assert wer <= 0.05, f"WER {wer:.3f}"
    assert acc >= 0.95, f"nouns spelled right {acc:.3f}"
    silenced = transcribe_text(model, processor, [replace_word(u.waveform, u.words[int(u.labels["cue_index"])])
                                                  for u in utts])
    assert np.mean([_homophone_correct(u, h) for u, h in zip(utts, silenced)]) <= 0.6


def test_intent_classifier_meets_target(test_utts, request):
    _expect_failure_if_recorded_below_target(request, "tiny-w2v2-intent")
    model, processor = load_model("tiny-w2v2-intent")
    cmds = [u for u in test_utts if u.kind == "command"]
    preds = classify(model, processor, [u.waveform for u in cmds])
    assert all(isinstance(p, dict) for p in preds), "the shipped intent model has one output per slot"
    for slot in ("action", "object", "location"):
        acc = np.mean([p[slot] == u.labels[slot] for u, p in zip(cmds, preds)])
        assert acc >= 0.98, f"{slot} accuracy {acc:.3f} on held-out speakers and commands"


def test_batched_decoding_ignores_padding(test_utts):
    """Padded frames must not be decoded (a batch of unequal lengths gives the same phones as one at a time)."""
    model, processor = load_model("tiny-w2v2-ctc")
    waves = [test_utts[i].waveform for i in (0, 3, 7, 9)]
    assert len({len(w) for w in waves}) > 1
    assert transcribe_phones(model, processor, waves, batch_size=4) == transcribe_phones(model, processor, waves,
                                                                                         batch_size=1)


def test_unmet_targets():
    assert unmet_targets("tiny-w2v2-ctc", {"phone_error_rate": 0.04}) == []
    assert unmet_targets("tiny-w2v2-ctc", {"phone_error_rate": 0.06}) == ["phone_error_rate = 0.06 (target <= 0.05)"]
    assert len(unmet_targets("tiny-whisper", {"word_error_rate": 0.01})) == 1  # homophone accuracy missing
    assert unmet_targets("tiny-w2v2-intent", {"intent_accuracy": 0.99}) == []


def test_homophone_scoring():
    class U:
        labels = {"target_word": "write", "homophone_group": "write/right"}

    assert _homophone_correct(U, "she will write a letter")
    assert not _homophone_correct(U, "she will right a letter")
    assert not _homophone_correct(U, "she will a letter")


def test_edit_distance_and_error_rate():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], ["a"]) == 1
    assert error_rate([["a", "b", "c", "d"]], [["a", "x", "c"]]) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        error_rate([["a"]], [])


# --------------------------------------------------------------------------
# Loading API


def test_random_twin_is_the_control():
    trained, _ = load_model("tiny-w2v2-ctc")
    rand_a, _ = load_model("tiny-w2v2-ctc", random_init=True, seed=1)
    rand_b, _ = load_model("tiny-w2v2-ctc", random_init=True, seed=1)
    rand_c = random_twin(trained, seed=2)
    for (n, p), q, r, s in zip(trained.named_parameters(), rand_a.parameters(), rand_b.parameters(),
                               rand_c.parameters()):
        assert torch.equal(q, r), f"same seed should give the same twin ({n})"
    differs = [not torch.equal(p, q) for p, q in zip(trained.parameters(), rand_a.parameters())]
    assert np.mean(differs) > 0.9
    assert not all(torch.equal(q, s) for q, s in zip(rand_a.parameters(), rand_c.parameters()))
    assert type(rand_a) is type(trained) and not rand_a.training
    assert rand_a.config._attn_implementation == "eager"


@pytest.mark.parametrize("name", ["tiny-w2v2-ctc", "tiny-hubert", "tiny-whisper"])
def test_front_end_twin_keeps_the_trained_convolutions_and_nothing_else(name):
    trained, _ = load_model(name)
    twin = random_twin(trained, seed=3, keep_front_end=True)
    fully_random = random_twin(trained, seed=3)
    kept = same = 0
    for (n, p), q, r in zip(trained.named_parameters(), twin.parameters(), fully_random.parameters()):
        front = any(f in n for f in FRONT_END)
        if front:
            kept += 1
            assert torch.equal(p, q), f"{n} is part of the front end and must be the trained weight"
        else:
            same += torch.equal(p, q) and p.numel() > 1 and not torch.all(p == p.flatten()[0])
            assert torch.equal(q, r), f"{n} must be the fully random twin's weight (same seed)"
    assert kept >= 2 and same == 0, (kept, same)
    assert any("conv" in n for n, _ in trained.named_parameters() if any(f in n for f in FRONT_END))


def test_front_end_twin_refuses_a_model_without_a_front_end():
    class Plain(torch.nn.Module):
        def __init__(self, config=None):
            super().__init__()
            self.config = config or type("C", (), {})()
            self.linear = torch.nn.Linear(2, 2)

    with pytest.raises(ValueError, match="no convolutional front end"):
        random_twin(Plain(), keep_front_end=True)


def test_unknown_and_offline_names_give_clear_errors(monkeypatch, tmp_path):
    with pytest.raises(ModelNotAvailableError, match="Unknown model 'tiny-w2v2'.*tiny-w2v2-ctc"):
        load_model("tiny-w2v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotAvailableError, match="facebook/wav2vec2-base-960h.*Use a shipped model instead"):
        load_model("facebook/wav2vec2-base-960h")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotAvailableError, match="no config.json"):
        load_model(tmp_path / "empty")
    assert resolve(SHIPPED_DIR / "tiny-whisper") == SHIPPED_DIR / "tiny-whisper"


def test_local_directory_loads_like_a_hub_model(tmp_path):
    model, processor = load_model("tiny-w2v2-ctc")
    model.save_pretrained(tmp_path / "copy")
    processor.save_pretrained(tmp_path / "copy")
    again, _ = load_model(tmp_path / "copy")
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), again.parameters()))


# --------------------------------------------------------------------------
# Extraction


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_padding_invariance_and_frame_alignment(name, test_utts, french_corpus):
    model, processor = load_model(name)
    if MODELS[name].language == "fr":
        test_utts = list(french_corpus.utterances(split="test", limit=10))
    utts = [test_utts[0], test_utts[5], test_utts[9]]  # different lengths
    whisper = model.config.model_type == "whisper"
    batched = extract(model, processor, utts, batch_size=3, attentions=True, progress=False)
    single = extract(model, processor, utts, batch_size=1, attentions=True, progress=False)
    for b, s, u in zip(batched, single, utts):
        assert b.utt_id == u.id
        np.testing.assert_allclose(b.hidden_states, s.hidden_states, atol=1e-4, rtol=1e-4)
        np.testing.assert_allclose(b.attentions, s.attentions, atol=1e-4)  # float32 round-off of sharp softmaxes reaches ~2e-5
        n_layers = model.config.encoder_layers if whisper else model.config.num_hidden_layers
        assert b.hidden_states.shape[0] == n_layers + 1
        assert b.attentions.shape[:2] == (n_layers, model.config.encoder_attention_heads if whisper
                                          else model.config.num_attention_heads)
        expected = num_frames(len(u.waveform)) if not whisper else -(-len(u.waveform) // 320)
        assert b.n_frames == expected
        rows = b.attentions.sum(-1)
        if whisper:  # the encoder attends over its whole padded window: cropped rows lose mass
            assert (rows <= 1 + 1e-4).all() and (rows > 0).all()
        else:
            np.testing.assert_allclose(rows, 1.0, atol=1e-4)


def test_extraction_differs_for_the_random_twin(test_utts):
    trained, proc = load_model("tiny-w2v2-ctc")
    rand, _ = load_model("tiny-w2v2-ctc", random_init=True)
    a = extract(trained, proc, test_utts[:1], progress=False)[0]
    b = extract(rand, proc, test_utts[:1], progress=False)[0]
    assert a.hidden_states.shape == b.hidden_states.shape
    assert not np.allclose(a.hidden_states[-1], b.hidden_states[-1], atol=1e-2)


def test_extraction_bad_input():
    model, processor = load_model("tiny-w2v2-ctc")
    with pytest.raises(AudioError, match="empty"):
        extract(model, processor, [np.zeros(0, np.float32)], progress=False)
    with pytest.raises(AudioError, match="mono"):
        extract(model, processor, [np.zeros((2, 16000), np.float32)], progress=False)

    class Utt:
        id, waveform, sample_rate = "x", np.zeros(44100, np.float32), 44100

    with pytest.raises(AudioError, match="44100 Hz"):
        extract(model, processor, [Utt()], progress=False)


def test_acoustic_baselines_share_the_model_frame_grid(test_utts):
    wav = test_utts[0].waveform
    m = mfcc(wav)
    assert m.shape == (num_frames(len(wav)), 13)
    assert log_mel(wav).shape == (num_frames(len(wav)), 80)
    assert np.isfinite(m).all()
    with pytest.raises(AudioError):
        mfcc(wav, sample_rate=8000)


def test_shipped_metrics_reads_the_card_numbers_and_names_unknown_models():
    metrics = shipped_metrics("tiny-w2v2-ctc")
    assert 0.0 <= metrics["phone_error_rate"] < 0.05, metrics
    with pytest.raises(ModelNotAvailableError, match="not a shipped model"):
        shipped_metrics("tiny-nonexistent")


def _readme_metric_sentences() -> list[tuple[str, str]]:
    """The README's statements about the shipped models' metrics, each written from the model's metrics.json."""
    m = {name: shipped_metrics(name) for name in SHIPPED}
    slots = {m["tiny-w2v2-intent"][f"{s}_accuracy"] for s in ("action", "object", "location")}
    slot_text = f"{100 * slots.pop():.0f} % on every slot" if len(slots) == 1 else "slots differ"
    return [
        ("tiny-w2v2-ctc", f"`tiny-w2v2-ctc` phone error rate {100 * m['tiny-w2v2-ctc']['phone_error_rate']:.1f} %"),
        ("tiny-w2v2-intent", f"`tiny-w2v2-intent` {slot_text} (action, object, location)"),
        ("tiny-whisper", f"`tiny-whisper` word error rate {100 * m['tiny-whisper']['word_error_rate']:.2f} % with "
                         f"{100 * m['tiny-whisper']['homophone_accuracy']:.1f} % of the homophones spelled right"),
        ("tiny-whisper-fr", f"`tiny-whisper-fr` word error rate "
                            f"{100 * m['tiny-whisper-fr']['word_error_rate']:.2f} % with "
                            f"{100 * m['tiny-whisper-fr']['homophone_accuracy']:.1f} % of the nouns spelled right "
                            f"({100 * m['tiny-whisper-fr']['homophone_accuracy_cue_silence']:.1f} % with the cue "
                            "silenced)"),
        ("tiny-hubert", f"{m['tiny-hubert']['training_minutes']:.0f} minutes on one CPU core"),
        ("tiny-hubert-ctc", f"for phones (PER {100 * m['tiny-hubert-ctc']['phone_error_rate']:.1f} %)"),
        ("tiny-w2v2-ctc-noalign", f"never saw an alignment (PER "
                                  f"{100 * m['tiny-w2v2-ctc-noalign']['phone_error_rate']:.1f} %)"),
    ]


def test_readme_model_metrics_follow_the_shipped_metrics():
    """A retrained model changes its metrics.json; the README's numbers about it must change with it."""
    from pathlib import Path

    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    stale = [f"{name}: expected {sentence!r}" for name, sentence in _readme_metric_sentences()
             if sentence not in readme]
    assert not stale, "README.md states metrics its shipped models no longer have:\n" + "\n".join(stale)
    assert {name for name, _ in _readme_metric_sentences()} == set(SHIPPED), "every shipped model has its sentence"


def test_readme_metric_check_fails_on_a_changed_metric(monkeypatch):
    """The check above can fail: with one metric changed, its sentence no longer matches the README."""
    from pathlib import Path

    import course.models as M

    real = M.shipped_metrics
    monkeypatch.setattr(sys.modules[__name__], "shipped_metrics",
                        lambda name: real(name) | ({"phone_error_rate": 0.02} if name == "tiny-w2v2-ctc" else {}))
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    missing = [s for _, s in _readme_metric_sentences() if s not in readme]
    assert missing == ["`tiny-w2v2-ctc` phone error rate 2.0 %"]


def test_readme_reading_of_the_layerwise_record_follows_the_record():
    """The README's reading of the recorded comparison (where the self-supervised model's probe peaks, that it beats
    MFCCs there but not on ABX, that its fall is within the interval, that fine-tuning rewrote mainly the top layers)
    and its count of the other recipes tried are recomputed from the record and the attempts' records."""
    from pathlib import Path

    from course import layerwise as L
    from speech_course_tools.attempts import load_records

    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text().split())
    table = L.recorded("tiny-hubert")
    ssl = table[table.subject == "tiny-hubert"].set_index("layer")
    best, abx = ssl.loc[ssl.probe.idxmax()], ssl.loc[ssl.abx_within.idxmin()]
    peak = ("the small self-supervised model's phone probe peaks in a middle-upper layer (layer 6 of 8), where it "
            "beats MFCCs")
    assert peak in readme
    assert int(best.name) == 6 and len(ssl) == 9 and best.vs_mfcc_lo > 0 and L.probe_shape(ssl.probe) == "peak", \
        (peak, ssl.probe.round(3).tolist(), best.vs_mfcc_lo)
    fall = ("its fall towards the last layer lies within the speakers' interval, and its ABX error is no better than "
            "MFCCs'")
    assert fall in readme
    assert best.probe_lo <= ssl.probe.iloc[-1] and abx.abx_vs_mfcc_lo < 0 < abx.abx_vs_mfcc_hi, \
        (fall, best.probe_lo, ssl.probe.iloc[-1], abx.abx_vs_mfcc_lo, abx.abx_vs_mfcc_hi)
    assert "fine-tuning rewrites mainly the top layers" in readme
    assert "fine-tuning changed mainly the top layers." in table.attrs["finding"], table.attrs["finding"]
    runs = [name for r in load_records("tiny-hubert") for name in r["runs"]]
    tried = f"Its card lists the {len(runs)} other self-supervised recipes tried on corpus version 2"
    assert tried in readme, tried


def test_model_card_recipes_quote_the_current_metrics():
    """Recipe prose that quotes a shipped model's own result must quote its metrics.json."""
    from course.registry import MODELS

    whisper, intent = shipped_metrics("tiny-whisper"), shipped_metrics("tiny-w2v2-intent")
    quoted = {"tiny-whisper": f"from 0.087 to {whisper['word_error_rate']}",
              "tiny-w2v2-intent": f"with them, {intent['object_accuracy']}."}
    for name, text in quoted.items():
        assert text in MODELS[name].recipe_text(), f"the {name} card's recipe no longer quotes its metrics: expected {text!r}"
        assert text in (SHIPPED_DIR / name / "README.md").read_text().replace("\n", " "), f"{name} card is stale"


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_model_card_is_what_the_tooling_writes_from_its_records(tmp_path, name):
    """A card is generated (registry, metrics.json, layerwise.json, docs/records/): a stale one fails here."""
    import json
    import shutil

    from speech_course_tools.training import write_model_card

    out = tmp_path / name
    out.mkdir()
    for f in ("config.json", "metrics.json", "layerwise.json"):
        if (SHIPPED_DIR / name / f).is_file():
            shutil.copy(SHIPPED_DIR / name / f, out / f)
    write_model_card(name, out, json.loads((out / "metrics.json").read_text()))
    assert (out / "README.md").read_text() == (SHIPPED_DIR / name / "README.md").read_text(), (
        f"course/shipped/{name}/README.md is stale: rewrite it with `speech-course models cards {name}`")


def test_a_model_too_large_for_the_memory_left_is_refused_before_its_weights_are_read(monkeypatch):
    import warnings

    import transformers as T

    import course.models as models
    from course.models import HEADROOM, LargeModelWarning, ModelTooLargeError, check_memory

    config = T.AutoConfig.from_pretrained(models.resolve("tiny-w2v2-ctc"))
    cls = models._model_class(config)
    size = check_memory(cls, config, "tiny-w2v2-ctc", available=10**12)
    assert size == 4 * sum(p.numel() for p in models.load_model("tiny-w2v2-ctc")[0].parameters())
    with pytest.raises(ModelTooLargeError, match=r"M parameters \(0\.0 GB as float32\).*Choose a smaller model"):
        check_memory(cls, config, "tiny-w2v2-ctc", available=size - 1)
    with pytest.warns(LargeModelWarning, match="needs 0.0 GB for its weights"):
        check_memory(cls, config, "tiny-w2v2-ctc", available=int(HEADROOM * size) - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_memory(cls, config, "tiny-w2v2-ctc", available=int(HEADROOM * size) + 1)  # room for all of it
    monkeypatch.setattr(models, "available_memory", lambda: size // 2)
    monkeypatch.setattr(cls, "from_pretrained", lambda *a, **k: pytest.fail("weights read"))
    with pytest.raises(ModelTooLargeError, match="'tiny-w2v2-ctc' has"):
        models.load_model("tiny-w2v2-ctc")


def test_available_memory_is_read_from_the_machine():
    from course.models import available_memory

    left = available_memory()
    assert left is None or 0 < left < 1 << 50
