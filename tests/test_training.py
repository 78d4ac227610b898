"""The pieces of the training recipes that are not exercised by loading the shipped models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import Wav2Vec2ForCTC

from course.frames import frame_labels
from course.textgrid import Interval
from speech_course_tools.training import (_phone_ctc_loss, _phone_processor, _spec_augment, _speed_perturb,
                                         balanced_items, phone_frame_targets, swap_word, w2v2_config)


def _peak_hz(x: np.ndarray, sr: int = 16000) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / sr)[spectrum.argmax()])


@pytest.mark.parametrize("factor", [0.9, 1.0, 1.1])
def test_speed_perturbation_scales_duration_and_frequency(factor):
    t = np.arange(16000) / 16000
    wave = np.sin(2 * np.pi * 200 * t).astype(np.float32)
    out = _speed_perturb(wave, factor)
    assert out.dtype == np.float32
    assert abs(len(out) - len(wave) / factor) <= 1
    assert abs(_peak_hz(out) - 200 * factor) < 3  # faster playback raises the pitch by the same factor


class _Utt:
    def __init__(self, phones):
        self.phones = phones


def test_spec_augment_masks_bands_and_stretches_of_speech_only_and_leaves_its_input_alone():
    feats = torch.randn(3, 80, 500)
    lengths = np.array([200, 500, 40])
    before = feats.clone()
    out = _spec_augment(feats, lengths, np.random.default_rng(0), bands=2, band_width=12, stretches=2,
                        stretch_share=0.04)
    assert torch.equal(feats, before), "the input must not be changed in place"
    changed = out != feats
    for row, length in enumerate(lengths):
        assert not changed[row, :, length:].any(), "padding after the speech must stay as it was"
        values = out[row][changed[row]]
        assert torch.allclose(values, feats[row, :, :length].mean().expand_as(values)), "masks hold the mean"
        channels = changed[row, :, :length].all(dim=1).sum()  # whole masked bands of mel channels
        assert channels <= 2 * 12
        frames = changed[row, :, :length].all(dim=0).sum()  # whole masked stretches of frames
        assert frames <= 2 * int(0.04 * length)
    assert changed.any(), "with these settings some masks must be drawn"
    assert torch.equal(_spec_augment(feats, lengths, np.random.default_rng(0), bands=0, stretches=0), feats)


def test_swap_word_puts_the_donor_word_in_place_of_the_word_and_keeps_the_rest():
    wave = np.arange(16000, dtype=np.float32)  # one second, sample k has the value k
    donor = -np.arange(16000, dtype=np.float32)
    out = swap_word(wave, Interval(0.25, 0.5, "juice"), donor, Interval(0.1, 0.2, "shoes"))
    assert out.dtype == wave.dtype and len(out) == 16000 - 4000 + 1600
    assert np.array_equal(out[:4000], wave[:4000]) and np.array_equal(out[-8000:], wave[8000:])
    assert np.array_equal(out[4000:5600], donor[1600:3200]), "the donor's word, sample for sample"
    assert np.array_equal(wave, np.arange(16000, dtype=np.float32)), "the input is not changed"


def test_balanced_items_repeat_the_rare_groups_up_to_the_largest():
    groups = ["heat"] * 12 + ["juice"] * 3 + ["shoes"] * 5 + ["lamp"] * 12
    items = balanced_items(groups)
    per_group = {g: sum(groups[i] == g for i in items) for g in set(groups)}
    assert per_group == {"heat": 12, "lamp": 12, "juice": 12, "shoes": 10}  # 5 items x round(12 / 5) = 2
    assert sorted(set(items)) == list(range(len(groups))), "every item stays in, none is invented"
    assert list(balanced_items(["a", "b", "a", "b"])) == [0, 1, 2, 3], "balanced groups are left alone"


def test_phone_frame_targets_follow_the_alignment_at_each_speed():
    vocab = {"<pad>": 0, "<unk>": 1, "a": 2, "b": 3}
    utt = _Utt([Interval(0.10, 0.30, "a"), Interval(0.30, 0.50, "b")])
    target = phone_frame_targets([utt, utt], [1.0, 1.25], [30, 24], 32, vocab)
    assert target.shape == (2, 32) and target.dtype == torch.long
    silence = 2
    expected = [{"a": 0, "b": 1, "": silence}[x] for x in frame_labels(utt.phones, 30)]
    assert target[0, :30].tolist() == expected
    assert target[0, 5:15].tolist() == [0] * 10 and target[0, 15:25].tolist() == [1] * 10
    # at 1.25 times the speed the phones last 0.16 s and start at 0.08 s
    assert target[1, 4:12].tolist() == [0] * 8 and target[1, 12:20].tolist() == [1] * 8
    assert target[1, :4].tolist() == [silence] * 4
    assert (target[0, 30:] == -100).all() and (target[1, 24:] == -100).all()  # padding is ignored


def test_auxiliary_phone_loss_fades_out_into_pure_ctc(small_corpus):
    utts = list(small_corpus.utterances(split="train"))[:2]
    waves = [u.waveform for u in utts]
    processor = _phone_processor(sorted({p.label for u in utts for p in u.phones}))
    torch.manual_seed(0)
    model = Wav2Vec2ForCTC(w2v2_config(len(processor.tokenizer.get_vocab()))).eval()  # eval: no masking/dropout
    head = torch.nn.Linear(model.config.hidden_size, len(processor.tokenizer.get_vocab()) - 1)
    plain = _phone_ctc_loss(model, processor, utts, waves, np.random.default_rng(1), speed=0.1)
    aux = _phone_ctc_loss(model, processor, utts, waves, np.random.default_rng(1), speed=0.1, aux_head=head,
                          aux_steps=2)
    with torch.no_grad():
        losses = [(plain([0, 1]).item(), aux([0, 1]).item()) for _ in range(3)]
    # weight 1, then 0.5: the frame-level cross-entropy (about log 60 for an untrained head) is added
    assert losses[0][1] > losses[0][0] + 1.0
    assert losses[0][1] - losses[0][0] > losses[1][1] - losses[1][0] > 0.5
    assert losses[2][1] == pytest.approx(losses[2][0], abs=1e-6)  # faded out: pure CTC, same batches and noise


def test_per_slot_intent_model_scores_and_names_each_slot_separately(tmp_path):
    """Corpus v2's intent model: one softmax per slot in one classification head (config.slots)."""
    from transformers import Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification

    from course.sentences import SLOT_VALUES, SLOTS
    from course.decoding import classify, slot_ranges
    from speech_course_tools.training import slot_classes, slot_loss, w2v2_config

    names = [f"{slot}={value}" for slot, value in slot_classes()]
    config = w2v2_config(vocab_size=32, num_labels=len(names))
    config.slots = [[slot, list(SLOT_VALUES[slot])] for slot in SLOTS]
    ranges = slot_ranges(config)
    assert [len(r) for r in ranges.values()] == [len(SLOT_VALUES[s]) for s in SLOTS]
    assert sum(len(r) for r in ranges.values()) == len(names)
    # the loss is the sum of each slot's own cross-entropy, and only the true class of each slot lowers it
    logits = torch.zeros(1, len(names))
    target = torch.tensor([[r.start + 1 for r in ranges.values()]])
    flat = slot_loss(logits, target, ranges)
    assert float(flat) == pytest.approx(sum(np.log(len(r)) for r in ranges.values()), rel=1e-5)
    for k, r in enumerate(ranges.values()):
        better = logits.clone()
        better[0, r.start + 1] = 5.0
        assert float(slot_loss(better, target, ranges)) < float(flat)
        worse = logits.clone()
        worse[0, r.start] = 5.0
        assert float(slot_loss(worse, target, ranges)) > float(flat)
    # decoding after a save and a reload: the head's bias favours one known value per slot
    torch.manual_seed(0)
    model = Wav2Vec2ForSequenceClassification(config).eval()
    wanted = {"action": "bring", "object": "socks", "location": "kitchen"}
    with torch.no_grad():
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        for slot, r in ranges.items():
            model.classifier.bias[r.start + SLOT_VALUES[slot].index(wanted[slot])] = 10.0
    model.save_pretrained(tmp_path)
    reloaded = Wav2Vec2ForSequenceClassification.from_pretrained(tmp_path).eval()
    fe = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, return_attention_mask=True)
    preds = classify(reloaded, fe, [np.random.default_rng(i).normal(0, 0.1, 16000).astype(np.float32)
                                    for i in range(3)])
    assert preds == [wanted] * 3


def test_replacing_the_cue_word_keeps_the_rest_of_the_waveform():
    from course.textgrid import Interval
    from speech_course_tools.training import replace_word

    wave = np.random.default_rng(0).normal(0, 0.1, 32000).astype(np.float32)
    word = Interval(0.5, 0.75, "dark")
    for how in ("silence", "noise"):
        out = replace_word(wave, word, how)
        a, b = 8000, 12000
        assert np.array_equal(out[:a], wave[:a]) and np.array_equal(out[b:], wave[b:])
        assert not np.array_equal(out[a:b], wave[a:b])
        rms = float(np.sqrt(np.mean(out[a:b] ** 2)))
        assert rms < 1e-3 if how == "silence" else rms == pytest.approx(0.1, rel=0.1)
    with pytest.raises(ValueError, match="silence"):
        replace_word(wave, word, "pink")


def _toy_training(checkpoint, die_at: int | None = None):
    """A small model trained by _optimise with every source of randomness the real recipes use."""
    from speech_course_tools.training import _optimise

    torch.manual_seed(0)
    np.random.seed(0)
    rng = np.random.default_rng(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.3), torch.nn.Linear(8, 1))
    X = torch.from_numpy(np.random.default_rng(1).normal(size=(40, 4)).astype(np.float32))
    calls = [0]

    def loss_of_batch(idx):
        if die_at is not None and calls[0] == die_at:
            raise KeyboardInterrupt
        calls[0] += 1
        noise = torch.from_numpy(rng.normal(0, 0.1, size=(len(idx), 4)).astype(np.float32))
        jitter = float(np.random.uniform()) * calls[0] / 10  # the global NumPy generator and the call counter
        return ((model(X[idx] + noise) - jitter) ** 2).mean()

    loss_of_batch.calls = calls
    _optimise(model, loss_of_batch, len(X), 23, 6, rng, lr=1e-2, warmup=3, log_every=1000,
              lengths=np.arange(40), checkpoint=checkpoint, save_every=5)
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_an_interrupted_training_resumes_from_its_checkpoint_and_ends_as_an_uninterrupted_one(tmp_path):
    straight = _toy_training(None)
    ckpt = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        _toy_training(ckpt, die_at=17)
    assert ckpt.is_file(), "the checkpoint of step 15 should be kept"
    from speech_course_tools.training import checkpoint_seconds

    assert checkpoint_seconds(ckpt) > 0, "the checkpoint records the training time spent so far"
    assert checkpoint_seconds(tmp_path / "none.pt") == 0.0
    resumed = _toy_training(ckpt)
    assert torch.equal(straight, resumed)
    assert not ckpt.exists(), "a finished training removes its checkpoint"


def test_each_training_setting_gets_its_own_checkpoint_and_unknown_settings_are_refused(tmp_path, monkeypatch):
    from speech_course_tools.training import checkpoint_path, default_steps, train

    monkeypatch.setenv("SPEECH_COURSE_CACHE", str(tmp_path))
    v2 = {"corpus_version": 2, "steps": default_steps("tiny-whisper", 2)}  # train() always names the steps
    base = checkpoint_path("tiny-whisper", tmp_path / "a", v2)
    assert base.parent == tmp_path / "training"
    # an option left at None (the recipe's default) is not part of the name: adding one renames no checkpoint
    assert base == checkpoint_path("tiny-whisper", tmp_path / "a", {**v2, "ctc_units": None})
    others = [checkpoint_path("tiny-whisper", tmp_path / "a", {**v2, "token_noise": 0.3}),
              checkpoint_path("tiny-whisper", tmp_path / "a", {**v2, "ctc_units": "phones"}),
              checkpoint_path("tiny-whisper", tmp_path / "a", {**v2, "steps": 4000}),
              checkpoint_path("tiny-whisper", tmp_path / "b", v2),
              checkpoint_path("tiny-whisper", tmp_path / "a", {**v2, "corpus_version": 1}),
              checkpoint_path("tiny-w2v2-ctc", tmp_path / "a", v2)]
    assert len({base, *others}) == 7
    assert (default_steps("tiny-whisper", 1), default_steps("tiny-whisper", 2)) == (4000, 6000)
    assert default_steps("tiny-w2v2-ctc", 2) == 4000
    with pytest.raises(ValueError, match="tiny-whisper has no setting init_from"):
        train("tiny-whisper", out=tmp_path / "c", init_from="tiny-w2v2-ctc")


# --------------------------------------------------------------------------
# The model registry: a new model is one entry


TOY_RUNS: list[int] = []


def toy_trainer(out, steps: int = 0, batch_size: int = 0, corpus_version: int = 2, checkpoint=None) -> None:
    """A trainer in miniature: records the steps it was given and saves an untrained two-layer wav2vec 2.0."""
    from speech_course_tools.training import w2v2_config

    TOY_RUNS.append(steps)
    config = w2v2_config(5)
    config.num_hidden_layers = 2
    Wav2Vec2ForCTC(config).save_pretrained(out)


def test_a_new_model_is_one_registry_entry(tmp_path, monkeypatch):
    import speech_course_tools.training as training
    from course import registry

    spec = registry.ModelSpec(
        name="toy-ctc", summary="a toy phone recogniser", task="phones", classes=("Wav2Vec2ForCTC", "AutoProcessor"),
        intro="A toy model for the registry's test.", usage="print(model)", trainer=f"{__name__}:toy_trainer",
        hyper={"steps": 3, "batch_size": 2, "lr": 1.5e-3, "warmup": 1},
        recipe="{steps} steps of {batch_size} utterances; lr {lr}, {warmup} warm-up step.",
        targets={"phone_error_rate": ("<=", 0.5)})
    monkeypatch.setitem(registry.MODELS, "toy-ctc", spec)
    monkeypatch.setattr(training, "evaluate", lambda name, out, version: {"phone_error_rate": 0.25, "parameters": 0.5})
    TOY_RUNS.clear()
    metrics = training.train("toy-ctc", out=tmp_path / "toy")
    assert TOY_RUNS == [3], "train() takes the steps from the entry's recipe"
    assert metrics["training_steps"] == 3 and metrics["phone_error_rate"] == 0.25
    card = (tmp_path / "toy" / "README.md").read_text()
    assert "# toy-ctc" in card and "A toy model for the registry's test." in card
    assert "3 steps of 2 utterances; lr 1.5e-3, 1 warm-up step." in card, "the recipe's numbers come from hyper"
    assert "Meets all its targets." in card and "from transformers import Wav2Vec2ForCTC, AutoProcessor" in card
    assert training.unmet_targets("toy-ctc", {"phone_error_rate": 0.6}) == ["phone_error_rate = 0.6 (target <= 0.5)"]
    with pytest.raises(ValueError, match="task"):
        registry.ModelSpec(**{**spec.__dict__, "task": "speaker-id"})


def test_the_registry_describes_every_shipped_model_and_its_trainer_uses_its_numbers():
    import inspect

    import speech_course_tools.training as training
    from course.models import SHIPPED
    from course.registry import MODELS

    assert list(SHIPPED) == list(MODELS)
    for name, spec in MODELS.items():
        params = inspect.signature(training.trainer(name)).parameters
        if not isinstance(spec.hyper["steps"], dict):
            assert params["steps"].default == spec.hyper["steps"], name
        assert params["batch_size"].default == spec.hyper["batch_size"], name
        if spec.starts_from:
            assert params["init_from"].default == spec.starts_from, name
        assert "{" not in spec.recipe_text(), f"{name}: a placeholder of the recipe has no value in hyper"


def test_retraining_chains_keep_each_family_together_parents_first_and_balance_the_work(monkeypatch):
    """``tools/retrain`` trains the chains of ``retrain_chains`` side by side; a fine-tuned model must come after the
    model it starts from, in the same chain (it starts from the retrained one)."""
    from course.registry import MODELS
    from speech_course_tools.training import retrain_chains

    minutes = {name: 10.0 for name in MODELS} | {"tiny-whisper": 100.0}
    chains = retrain_chains(2, minutes=minutes)
    assert sorted(m for chain in chains for m in chain) == sorted(MODELS), "every model exactly once"
    for chain in chains:
        for name in chain:
            parent = MODELS[name].starts_from
            if parent:
                assert parent in chain and chain.index(parent) < chain.index(name), (name, chain)
    assert ["tiny-whisper"] in chains, "the longest family gets a chain of its own while the rest fit beside it"
    assert len(retrain_chains(1, minutes=minutes)) == 1
    with pytest.raises(ValueError, match="at least 1"):
        retrain_chains(0)


def test_the_retrain_script_starts_each_fine_tuned_model_from_the_retrained_one(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from course.registry import MODELS

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, DRY_RUN="1", PYTHON=sys.executable, OUT=str(tmp_path / "out"))
    done = subprocess.run([str(root / "tools" / "retrain")], capture_output=True, text=True, env=env, check=True)
    commands = [line for line in done.stdout.splitlines() if " models train " in line]
    assert len(commands) == len(MODELS)
    for name, spec in MODELS.items():
        (line,) = [c for c in commands if f" train {name} " in c]
        if spec.starts_from:
            assert line.endswith(f"--init-from {tmp_path / 'out' / spec.starts_from}"), line
        else:
            assert "--init-from" not in line, line
    assert not (tmp_path / "out").exists(), "a dry run writes nothing"


class _FewUtterances:
    """A corpus stand-in whose training split is a handful of the default corpus's utterances."""

    def __init__(self, corpus, n: int = 6) -> None:
        self.corpus, self.n = corpus, n

    def utterances(self, split=None, kind=None, limit=None):
        return self.corpus.utterances(split=split, kind=kind, limit=self.n)


@pytest.mark.slow
def test_hubert_variations_continue_a_model_or_start_a_new_one(tmp_path, monkeypatch, default_corpus):
    import speech_course_tools.training as training
    from course.models import SHIPPED_DIR, load_model

    monkeypatch.setattr(training, "large_corpus", lambda version=2: _FewUtterances(default_corpus))
    shipped = SHIPPED_DIR / "tiny-hubert"
    training.train_hubert(tmp_path / "longer", steps=2, batch_size=2, continue_from=shipped, lr=1e-4, warmup=1,
                          restarts=0)
    before, after = np.load(shipped / "hubert_targets.npz"), np.load(tmp_path / "longer" / "hubert_targets.npz")
    assert np.array_equal(before["centroids"], after["centroids"]), "continued pretraining keeps its targets"
    old, _ = load_model(shipped)
    new, _ = load_model(tmp_path / "longer")
    w_old, w_new = old.encoder.layers[0].attention.q_proj.weight, new.encoder.layers[0].attention.q_proj.weight
    assert 0 < float((w_old - w_new).abs().max()) < 0.05, "two small steps from the shipped weights"
    training.train_hubert(tmp_path / "iter2", steps=1, batch_size=2, targets_from=shipped, target_layer=2,
                          clusters=4, from_scratch=True, restarts=0)
    assert np.load(tmp_path / "iter2" / "hubert_targets.npz")["centroids"].shape == (4, 192)
    head = torch.load(tmp_path / "iter2" / "pretraining_head.pt")
    assert head["codes"].shape[0] == 4
    fresh, _ = load_model(tmp_path / "iter2")
    assert float((fresh.encoder.layers[0].attention.q_proj.weight - w_old).abs().max()) > 0.05, "a new model"


def test_hubert_stages_split_the_steps_as_the_recipe_does_and_shrink_with_a_short_run():
    from speech_course_tools.training import hubert_stages

    assert hubert_stages(6500, 2, 1500, recipe_steps=6500) == [3500, 1500, 1500]
    assert hubert_stages(3500, 0, 1500, recipe_steps=6500) == [3500]
    assert hubert_stages(5000, 1, 1500, recipe_steps=6500) == [3500, 1500], "the recipe with one restart fewer"
    assert hubert_stages(8000, 3, 1500, recipe_steps=6500) == [3500, 1500, 1500, 1500]
    assert hubert_stages(6, 2, 1500, recipe_steps=6500) == [4, 1, 1]
    assert hubert_stages(3, 2, 1500, recipe_steps=6500) == [1, 1, 1]
    # no jump where the restarts stop fitting whole: the first stage never gets fewer steps than a restart
    assert hubert_stages(3000, 2, 1500, recipe_steps=6500) == [1616, 692, 692]
    assert hubert_stages(3100, 2, 1500, recipe_steps=6500) == [1670, 715, 715]
    for bad in ((2, 2, 1500), (100, 2, 0), (100, -1, 10)):
        with pytest.raises(ValueError, match="cannot make a first stage"):
            hubert_stages(*bad)


@pytest.mark.slow
def test_hubert_restarts_continue_the_first_stage_keep_its_targets_and_resume_where_a_run_stopped(
        tmp_path, monkeypatch, default_corpus):
    import json

    import speech_course_tools.training as training
    from course.models import load_model

    monkeypatch.setattr(training, "large_corpus", lambda version=2: _FewUtterances(default_corpus))
    seen = []
    stage = training._hubert_stage

    def spy(out, waves, labels, kmeans, source, model, head_state, **settings):
        seen.append(dict(settings, labels=labels, source=source))
        stage(out, waves, labels, kmeans, source, model, head_state, **settings)
        seen[-1]["centroids"] = np.load(out / "hubert_targets.npz")["centroids"].copy()
        seen[-1]["w"] = load_model(out)[0].encoder.layers[0].attention.q_proj.weight.detach().clone()

    monkeypatch.setattr(training, "_hubert_stage", spy)
    shipped = training.SHIPPED_DIR / "tiny-hubert"
    settings = dict(steps=3, batch_size=2, clusters=4, restarts=2, restart_steps=1500, restart_lr=1e-4,
                    restart_warmup=1, checkpoint=tmp_path / "ck.pt")
    training.train_hubert(tmp_path / "staged", **settings)
    assert [(s["steps"], s["lr"], s["warmup"]) for s in seen] == [(1, 1e-3, 400), (1, 1e-4, 1), (1, 1e-4, 1)]
    assert [s["checkpoint"].name for s in seen] == ["ck.pt", "ck-restart1.pt", "ck-restart2.pt"]
    assert all(np.array_equal(seen[0]["centroids"], s["centroids"]) for s in seen), "restarts keep the k-means"
    assert all(s["labels"] is seen[0]["labels"] for s in seen), "restarts predict the first stage's targets"
    assert all(0 < float((a["w"] - b["w"]).abs().max()) < 0.05 for a, b in zip(seen, seen[1:])), \
        "each restart takes small steps from the stage before"
    assert not (tmp_path / "ck-stages.json").exists(), "a finished run leaves no record of stages behind"

    seen.clear()  # a run that stopped after its first restart: only the second runs again, with the restart settings
    (tmp_path / "ck-stages.json").write_text(json.dumps({"done": 1, "seconds": 30.0}))
    assert training.checkpoint_seconds(tmp_path / "ck.pt") == 30.0, "train() counts the stages done before"
    training.train_hubert(tmp_path / "staged", **settings)
    assert [(s["checkpoint"].name, s["steps"], s["lr"], s["warmup"]) for s in seen] == [("ck-restart2.pt", 1, 1e-4, 1)]
    assert seen[0]["source"] == (None, 4), "the resumed restart rebuilds the MFCC targets the k-means was fitted on"

    seen.clear()  # a second iteration with a restart: the restart predicts the same layer targets, not MFCC clusters
    training.train_hubert(tmp_path / "iter2", steps=2, batch_size=2, targets_from=shipped, target_layer=2, clusters=4,
                          restarts=1, restart_steps=1, restart_lr=1e-4, restart_warmup=1)
    assert [s["source"] for s in seen] == [(str(shipped), 2)] * 2
    assert np.load(tmp_path / "iter2" / "hubert_targets.npz")["centroids"].shape == (4, 192)
