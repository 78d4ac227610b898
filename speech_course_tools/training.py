"""Training and evaluating the shipped models on CPU, reproducibly.

``speech-course models train NAME`` calls :func:`train`; ``speech-course
models evaluate NAME`` calls :func:`evaluate`. Training uses the train
speakers of the large corpus (:data:`course.corpus.LARGE_SIZE` utterances;
its first :data:`course.corpus.DEFAULT_SIZE` utterances are the default corpus),
evaluation uses the held-out **test speakers** of the default corpus, whom no
model has heard.

Recipes (all with fixed seeds, ``torch.set_num_threads(2)``):

* ``tiny-w2v2-ctc``: wav2vec 2.0 (conv front end, 6 pre-LN transformer layers,
  hidden 192) trained from scratch with CTC on phones; speed perturbation
  (0.9–1.1); additive noise at 15–40 dB SNR on 30 % of the batches; batches of
  similar lengths; during the first half an auxiliary frame-level phone loss
  against the corpus alignments (training only, faded out); AdamW, warm-up then
  cosine decay.
* ``tiny-whisper``: Whisper encoder–decoder (4 + 2 layers, d_model 192, 80
  log-mel bins, 5 s window) trained from scratch with cross-entropy on a
  byte-level BPE vocabulary learned from the corpus sentences, plus an
  auxiliary CTC loss on the encoder (training only).
* ``tiny-w2v2-intent``: wav2vec 2.0 sequence classifier whose encoder starts
  from ``tiny-w2v2-ctc`` (front end frozen), fine-tuned on the command sentences.

Weights are stored in float16 (with ``dtype: float32`` in the config, so
``from_pretrained`` returns a float32 model) to keep the three models small;
metrics are measured on the stored weights.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import math
import os
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from sklearn.cluster import MiniBatchKMeans
from tokenizers import Tokenizer, pre_tokenizers
from tokenizers import models as bpe_models
from tokenizers import trainers as bpe_trainers
from transformers import (
    AutoConfig,
    GenerationConfig,
    HubertConfig,
    HubertForCTC,
    HubertModel,
    Wav2Vec2Config,
    Wav2Vec2FeatureExtractor,
    Wav2Vec2ForCTC,
    Wav2Vec2ForSequenceClassification,
    Wav2Vec2PhonemeCTCTokenizer,
    Wav2Vec2Processor,
    WhisperConfig,
    WhisperFeatureExtractor,
    WhisperForConditionalGeneration,
    WhisperProcessor,
    WhisperTokenizer,
)
from transformers.models.wav2vec2.modeling_wav2vec2 import _compute_mask_indices

from course.corpus import (CORPUS_VERSION, FRENCH_LARGE_SIZE, LARGE_SIZE, Corpus, default_cache_dir,
                           default_corpus_dir, load_corpus)
from course.decoding import classify, slot_ranges, transcribe_phones, transcribe_text
from course.features import extract, mfcc_deltas
from course.frames import frame_labels, num_frames
from course.layerwise import card_section
from course.metrics import error_rate
from course.models import SHIPPED_DIR, ModelNotAvailableError, load_model, resolve, shipped_metrics
from course.registry import MODELS
from course.sentences import INTENTS, SLOT_VALUES, SLOTS, intent_name
from course.textgrid import Interval
from speech_course_tools.attempts import card_section as attempts_section

SEED = 0


def large_corpus(version: int = CORPUS_VERSION, language: str = "en") -> Corpus:
    """The training corpus (built into ``<cache>/corpus-large-v<version>``, French ``corpus-large-fr-v<version>``,
    on first use)."""
    size = FRENCH_LARGE_SIZE if language == "fr" else LARGE_SIZE
    return load_corpus(default_corpus_dir("corpus-large", version, language), size=size, seed=0, version=version,
                       language=language)


def eval_corpus(version: int = CORPUS_VERSION, language: str = "en") -> Corpus:
    """The default corpus, whose test speakers (and, from version 2, test sentences) are used for evaluation."""
    return load_corpus(version=version, language=language)  # the language's default size


def _log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _seed_everything(seed: int, threads: int = 2) -> None:
    """Seed torch and NumPy; use ``threads`` CPU threads (``SPEECH_COURSE_THREADS`` overrides it).

    Two trainings side by side on a 2-core machine run faster with one thread each than one after the other with
    two (measured: 2 threads are only 1.2–1.4 times faster than one for these small models).
    """

    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(int(os.environ.get("SPEECH_COURSE_THREADS", threads)))


def _lr_lambda(warmup: int, total: int) -> Callable[[int], float]:
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / max(1, total - warmup))))

    return f


def _add_noise(x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Add white noise at a random 15–40 dB SNR to each row."""
    snr = torch.tensor(rng.uniform(15, 40, size=(x.shape[0], 1)), dtype=x.dtype)
    power = x.pow(2).mean(dim=1, keepdim=True).clamp_min(1e-8)
    noise = torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
    return x + noise * torch.sqrt(power / 10 ** (snr / 10))


def _save_half(model, processor, out: Path) -> None:  # noqa: ANN001
    """Save with float16 weights and a float32 config dtype (loads as float32)."""
    out.mkdir(parents=True, exist_ok=True)
    model.half().save_pretrained(out)
    model.float()
    cfg = json.loads((out / "config.json").read_text())
    cfg["dtype"] = "float32"
    (out / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    processor.save_pretrained(out)


def _batches(n: int, batch_size: int, steps: int, rng: np.random.Generator,
             lengths: np.ndarray | None = None, queue: list[list[int]] | None = None):
    """``steps`` random batches of item indices; every item once per epoch, epochs reshuffled.

    With ``lengths``, each epoch is cut into pools of 32 batches whose items are sorted by length before
    batching (the batches are then shuffled), so a batch pads little (less padded compute per step) while
    every epoch still covers the data once. The last ``n % batch_size`` items of an epoch's order are skipped.
    ``queue``: the batches left of the current epoch, which the generator consumes (a resumed run passes the
    saved one); by default a new list.
    """
    queue = [] if queue is None else queue
    for _ in range(steps):
        if not queue:
            order = rng.permutation(n)
            if lengths is not None:
                pool = 32 * batch_size
                order = np.concatenate([sorted(order[i:i + pool], key=lambda k: lengths[k])
                                        for i in range(0, n, pool)]).astype(int)
            epoch = [list(map(int, order[i:i + batch_size])) for i in range(0, n - batch_size + 1, batch_size)]
            queue.extend(epoch[k] for k in rng.permutation(len(epoch)))
        yield queue.pop()


def _optimise(model, loss_of_batch: Callable[[list[int]], torch.Tensor], n_items: int, steps: int,  # noqa: ANN001
              batch_size: int, rng: np.random.Generator, lr: float, warmup: int, log_every: int = 100,
              lengths: np.ndarray | None = None, checkpoint: Path | None = None, save_every: int = 250) -> None:
    """AdamW with warm-up and cosine decay, gradient clipping at 5, over random batches of item indices.

    With ``checkpoint`` (a file; :func:`train` names one per model, output folder and settings), the whole training
    state (weights, optimiser, schedule, the random generators,
    the batches left of the epoch and the loss's step counter) is saved there every ``save_every`` steps, and a
    run that finds a checkpoint of the same recipe (steps, items, batch size) resumes from it and ends as the
    uninterrupted run would (tests/test_training.py checks it). The file is removed when training ends.
    """
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(warmup, steps))
    recipe = {"steps": steps, "n_items": n_items, "batch_size": batch_size}
    first, queue, seconds_before = 0, [], 0.0
    calls = getattr(loss_of_batch, "calls", None)  # a loss that counts its calls (the auxiliary loss's fade-out)
    if checkpoint is not None and Path(checkpoint).is_file():
        state = torch.load(checkpoint, weights_only=False)
        if state["recipe"] != recipe:
            _log(f"not resuming from {checkpoint}: it holds a run of another recipe ({state['recipe']})")
        else:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])
            sched.load_state_dict(state["sched"])
            rng.bit_generator.state = state["rng"]
            torch.set_rng_state(state["torch_rng"])
            np.random.set_state(state["np_rng"])
            first, queue, seconds_before = state["step"], state["queue"], state.get("seconds", 0.0)
            if calls is not None:
                calls[0] = state["calls"]
            _log(f"resuming at step {first}/{steps} from {checkpoint}")
    model.train()
    start = time.time()
    for step, idx in enumerate(_batches(n_items, batch_size, steps - first, rng, lengths, queue), start=first):
        loss = loss_of_batch(idx)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        if step % log_every == 0 or step == steps - 1:
            _log(f"step {step}/{steps} loss {loss.item():.3f} ({(seconds_before + time.time() - start) / 60:.1f} min)")
        if checkpoint is not None and (step + 1) % save_every == 0 and step + 1 < steps:
            Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(checkpoint).with_suffix(f".{os.getpid()}.partial")
            torch.save({"recipe": recipe, "step": step + 1, "model": model.state_dict(), "opt": opt.state_dict(),
                        "sched": sched.state_dict(), "rng": rng.bit_generator.state, "queue": list(queue),
                        "torch_rng": torch.get_rng_state(), "np_rng": np.random.get_state(),
                        "calls": calls[0] if calls is not None else None,
                        "seconds": seconds_before + time.time() - start}, tmp)
            tmp.replace(checkpoint)
    model.eval()
    if checkpoint is not None:
        Path(checkpoint).unlink(missing_ok=True)


# --------------------------------------------------------------------------
# tiny-w2v2-ctc


def wav2vec2_feature_extractor() -> Wav2Vec2FeatureExtractor:
    """The feature extractor of the shipped wav2vec 2.0 / HuBERT models: 16 kHz, per-utterance normalisation,
    attention masks."""
    return Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                                    return_attention_mask=True)


def _phone_processor(phones: list[str]):  # noqa: ANN202
    vocab = {"<pad>": 0, "<unk>": 1} | {p: i + 2 for i, p in enumerate(phones)}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
        tok = Wav2Vec2PhonemeCTCTokenizer(str(Path(tmp) / "vocab.json"), do_phonemize=False, unk_token="<unk>",
                                          pad_token="<pad>", bos_token=None, eos_token=None,
                                          word_delimiter_token=None)
    fe = wav2vec2_feature_extractor()
    return Wav2Vec2Processor(feature_extractor=fe, tokenizer=tok)


def w2v2_config(vocab_size: int, num_labels: int | None = None):  # noqa: ANN201
    """The architecture of the shipped wav2vec 2.0 models (about 3.3 M parameters)."""

    kw = {} if num_labels is None else {"num_labels": num_labels}
    return Wav2Vec2Config(
        vocab_size=vocab_size, hidden_size=192, num_hidden_layers=6, num_attention_heads=4, intermediate_size=768,
        conv_dim=(128,) * 7, conv_stride=(5, 2, 2, 2, 2, 2, 2), conv_kernel=(10, 3, 3, 3, 3, 2, 2),
        feat_extract_norm="layer", do_stable_layer_norm=True, num_conv_pos_embeddings=64,
        num_conv_pos_embedding_groups=16, hidden_dropout=0.05, activation_dropout=0.05, attention_dropout=0.05,
        feat_proj_dropout=0.05, final_dropout=0.05, layerdrop=0.0, mask_time_prob=0.05, mask_time_length=5,
        ctc_loss_reduction="mean", ctc_zero_infinity=True, pad_token_id=0, classifier_proj_size=128, **kw,
    )


def _load_split(corpus: Corpus, split: str, kind: str | None = None) -> tuple[list, list[np.ndarray]]:
    utts = list(corpus.utterances(split=split, kind=kind))
    return utts, [u.waveform for u in utts]


def _speed_perturb(wave: np.ndarray, factor: float) -> np.ndarray:
    """Play ``wave`` ``factor`` times faster by linear interpolation (pitch and formants shift with it, as when a
    shorter or longer vocal tract says the same thing: a cheap stand-in for unseen voices)."""
    t = np.arange(0, len(wave) - 1, factor)
    return np.interp(t, np.arange(len(wave)), wave).astype(np.float32)


def phone_frame_targets(utts: list, factors: list[float], n_frames: list[int], width: int,
                        vocab: dict[str, int]) -> torch.Tensor:
    """Frame-level phone classes of a padded batch, from the corpus alignments.

    Parameters
    ----------
    utts : list of Utterance
        The batch's utterances.
    factors : list of float
        Speed factor each utterance was played at (its phone times are divided by it).
    n_frames : list of int
        Model frames of each utterance; frames from there up to ``width`` are padding.
    width : int
        Frames of the padded batch.
    vocab : dict
        The phone tokenizer's vocabulary (``<pad>`` 0, ``<unk>`` 1, then the phones).

    Returns
    -------
    torch.Tensor
        ``(len(utts), width)`` long tensor: class ``vocab[phone] - 2`` where a phone owns the frame
        (:func:`course.frames.frame_labels`), ``len(vocab) - 2`` for frames in no phone (silence), ``-100``
        (ignored by cross-entropy) for padding.
    """
    target = torch.full((len(utts), width), -100, dtype=torch.long)
    silence = len(vocab) - 2
    for row, (utt, f, n) in enumerate(zip(utts, factors, n_frames)):
        names = frame_labels([Interval(p.start / f, p.end / f, p.label) for p in utt.phones], n, silence="")
        target[row, :n] = torch.tensor([vocab[x] - 2 if x else silence for x in names], dtype=torch.long)
    return target


def _phone_ctc_loss(model, processor, utts: list, waves: list[np.ndarray],  # noqa: ANN001
                    rng: np.random.Generator, speed: float = 0.0, aux_head: torch.nn.Module | None = None,
                    aux_steps: int = 0) -> Callable[[list[int]], torch.Tensor]:
    """The training loss of both phone recognisers (``tiny-w2v2-ctc``, ``tiny-hubert-ctc``): CTC on the phone
    sequence of a batch of utterances, with white noise added to 30 % of the batches.

    Optional extras (``tiny-w2v2-ctc`` uses both):

    * ``speed > 0``: each utterance is played a random factor in ``[1 - speed, 1 + speed]`` faster.
    * ``aux_head``: an auxiliary frame-level phone classifier on the last layer's hidden states, trained with
      cross-entropy against the corpus' exact alignments (:func:`course.frames.frame_labels`; frames in no phone
      are class ``len(phones)``). Its weight falls linearly from 1 to 0 over the first ``aux_steps`` calls, so the
      end of training is pure CTC. The head is not part of the saved model.
    """
    labels = [processor.tokenizer(" ".join(p.label for p in u.phones)).input_ids for u in utts]
    vocab = processor.tokenizer.get_vocab()
    calls = [0]

    def loss_of_batch(idx: list[int]) -> torch.Tensor:
        factors = [float(rng.uniform(1 - speed, 1 + speed)) if speed else 1.0 for _ in idx]
        batch = [waves[i] if f == 1.0 else _speed_perturb(waves[i], f) for i, f in zip(idx, factors)]
        inputs = processor.feature_extractor(batch, sampling_rate=16000, padding=True,
                                             return_attention_mask=True, return_tensors="pt")
        x = inputs.input_values
        if rng.random() < 0.3:
            x = _add_noise(x, rng) * inputs.attention_mask
        lab = processor.tokenizer.pad({"input_ids": [labels[i] for i in idx]}, return_tensors="pt")
        target = lab.input_ids.masked_fill(lab.attention_mask == 0, -100)
        weight = max(0.0, 1 - calls[0] / aux_steps) if aux_head is not None and aux_steps else 0.0
        calls[0] += 1
        out = model(x, attention_mask=inputs.attention_mask, labels=target, output_hidden_states=weight > 0)
        if weight == 0.0:
            return out.loss
        n_frames = model._get_feat_extract_output_lengths(inputs.attention_mask.sum(-1))
        hidden = out.hidden_states[-1]
        frame_target = phone_frame_targets([utts[i] for i in idx], factors, n_frames.tolist(), hidden.shape[1],
                                           vocab)
        aux = torch.nn.functional.cross_entropy(aux_head(hidden).transpose(1, 2), frame_target, ignore_index=-100)
        return out.loss + weight * aux

    loss_of_batch.calls = calls  # type: ignore[attr-defined]  # restored when a run resumes
    return loss_of_batch


def train_w2v2_ctc(out: Path, steps: int = MODELS["tiny-w2v2-ctc"].hyper["steps"],
                   batch_size: int = MODELS["tiny-w2v2-ctc"].hyper["batch_size"], seed: int = SEED,
                   lr: float = MODELS["tiny-w2v2-ctc"].hyper["lr"],
                   speed: float = 0.1, aux_fraction: float = 0.5, corpus_version: int = CORPUS_VERSION,
                   checkpoint: Path | None = None) -> None:
    """Train ``tiny-w2v2-ctc`` from scratch with CTC on phones.

    ``speed``: speed-perturbation range (see :func:`_phone_ctc_loss`); ``aux_fraction``: the share of the steps
    during which the auxiliary frame-level phone loss is faded out (0: none).
    """

    _seed_everything(seed)
    corpus = large_corpus(corpus_version)
    utts, waves = _load_split(corpus, "train")
    phones = sorted({p.label for u in utts for p in u.phones})
    processor = _phone_processor(phones)
    model = Wav2Vec2ForCTC(w2v2_config(len(phones) + 2))
    model.config.id2label = None
    _log(f"tiny-w2v2-ctc: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters, "
         f"{len(utts)} training utterances, {len(phones)} phones")
    rng = np.random.default_rng(seed)
    hidden = model.config.hidden_size
    aux_steps = int(aux_fraction * steps)
    aux_head = (torch.nn.Sequential(torch.nn.LayerNorm(hidden), torch.nn.Linear(hidden, len(phones) + 1))
                if aux_steps else None)

    loss_of_batch = _phone_ctc_loss(model, processor, utts, waves, rng, speed=speed, aux_head=aux_head,
                                    aux_steps=aux_steps)
    trained = model if aux_head is None else torch.nn.ModuleList([model, aux_head])  # the head is trained, not saved
    _optimise(trained, loss_of_batch, len(utts), steps, batch_size, rng, lr=lr,
              warmup=MODELS["tiny-w2v2-ctc"].hyper["warmup"],
              lengths=np.array([len(w) for w in waves]),
              checkpoint=checkpoint)
    _save_half(model, processor, out)


def train_w2v2_ctc_noalign(out: Path, steps: int = MODELS["tiny-w2v2-ctc-noalign"].hyper["steps"],
                           batch_size: int = MODELS["tiny-w2v2-ctc-noalign"].hyper["batch_size"], seed: int = SEED,
                           lr: float = MODELS["tiny-w2v2-ctc-noalign"].hyper["lr"],
                           speed: float = 0.1, corpus_version: int = CORPUS_VERSION,
                           checkpoint: Path | None = None) -> None:
    """Train ``tiny-w2v2-ctc-noalign``: the recipe of ``tiny-w2v2-ctc`` without its auxiliary frame-level phone loss.

    Pure CTC from the first step, so the model never sees the corpus' phone alignments. It is the control for
    analyses of where phone identity sits in time and in the top layers: ``tiny-w2v2-ctc`` was taught frame-level
    phone labels directly during its first 2 000 steps, which a probe of those layers would partly rediscover.
    """
    train_w2v2_ctc(out, steps=steps, batch_size=batch_size, seed=seed, lr=lr, speed=speed, aux_fraction=0.0,
                   corpus_version=corpus_version, checkpoint=checkpoint)


# --------------------------------------------------------------------------
# tiny-whisper


def _whisper_processor(texts: list[str], vocab_size: int = 1000, seconds: int = 5):  # noqa: ANN202
    bpe = Tokenizer(bpe_models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = bpe_trainers.BpeTrainer(vocab_size=vocab_size, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                  special_tokens=["<|endoftext|>"], show_progress=False)
    bpe.train_from_iterator(sorted(set(texts)), trainer)
    state = json.loads(bpe.to_str())
    merges = [tuple(m.split()) if isinstance(m, str) else tuple(m) for m in state["model"]["merges"]]
    tok = WhisperTokenizer(vocab=state["model"]["vocab"], merges=merges, unk_token="<|endoftext|>",
                           bos_token="<|endoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tok.add_special_tokens({"additional_special_tokens": ["<|startoftranscript|>", "<|notimestamps|>"]})
    fe = WhisperFeatureExtractor(feature_size=80, sampling_rate=16000, hop_length=160, chunk_length=seconds,
                                 n_fft=400)
    return WhisperProcessor(feature_extractor=fe, tokenizer=tok)


def whisper_config(vocab_size: int, sot: int, eos: int, seconds: int = 5):  # noqa: ANN201
    """The architecture of ``tiny-whisper`` (about 3.2 M parameters) for inputs of up to ``seconds``."""

    return WhisperConfig(
        vocab_size=vocab_size, num_mel_bins=80, encoder_layers=4, decoder_layers=2, encoder_attention_heads=4,
        decoder_attention_heads=4, d_model=192, encoder_ffn_dim=768, decoder_ffn_dim=768,
        max_source_positions=50 * seconds, max_target_positions=64, dropout=0.05, attention_dropout=0.0,
        decoder_start_token_id=sot, pad_token_id=eos, bos_token_id=eos, eos_token_id=eos,
        begin_suppress_tokens=None, suppress_tokens=None,
    )


def _whisper_ids(processor, text: str) -> list[int]:  # noqa: ANN001
    return processor.tokenizer(text, add_special_tokens=False).input_ids


def train_whisper(out: Path, steps: int | None = None, batch_size: int = MODELS["tiny-whisper"].hyper["batch_size"],
                  seed: int = SEED, ctc_weight: float = 0.3,
                  corpus_version: int = CORPUS_VERSION, checkpoint: Path | None = None,
                  token_noise: float | None = None, kinds: tuple[str, ...] | None = None,
                  speed_factors: tuple[float, ...] | None = None, spec_augment: bool | None = None,
                  vocab_size: int | None = None, ctc_units: str | None = None, name: str = "tiny-whisper") -> None:
    """Train ``tiny-whisper`` (or, with ``name="tiny-whisper-fr"``, its French sibling) from scratch.

    ``name``: the registry entry whose recipe numbers (learning rate, warm-up, default steps, and for the French
    model vocabulary size and window) and corpus language are used.

    The loss is the decoder's cross-entropy plus ``ctc_weight`` times a CTC loss of a linear head on the encoder
    output over the same tokens (joint CTC-attention training, Kim, Hori & Watanabe 2017): the CTC term makes the
    encoder learn monotonic, frame-local evidence early, which speeds up learning the cross-attention. The CTC head
    is used for training only and is not saved: the shipped model is a plain ``WhisperForConditionalGeneration``.

    ``token_noise``: the share of the teacher-forced decoder inputs replaced by random tokens (default 0 on corpus
    version 1, 0.15 from version 2). A decoder trained on a small grammar learns to predict words from the words
    before them and then writes the training sentences it knows instead of the new ones it hears; measured on corpus
    v2 without it, word error rate 0.28 on held-out sentences, 0.0 on training utterances, and 0.29 for train
    speakers reading held-out rich sentences (docs/models.md). An unreliable history makes it listen.

    ``kinds``: train on these sentence kinds only (default: all), for ablations of the training data.

    ``speed_factors``: each training utterance is also played at these speeds (3-way speed perturbation, Ko et al.
    2015; default ``(1.0,)`` on corpus version 1, ``(0.9, 1.0, 1.1)`` from version 2) and every batch draws one
    version of each utterance at random. ``spec_augment``: mask two bands of mel channels (up to 12 of 80) and two
    stretches of up to 4 % of the frames of each training example (Park et al. 2019; default off on version 1, on
    from version 2). Both keep what is said and change how it sounds, so that a model cannot recite a training
    utterance from the sound of it.

    ``steps``: default 4 000 on corpus version 1, 6 000 from version 2 (measured on v2 with the augmentation above:
    word error rate 0.137 after 4 000 steps with a 400-token vocabulary, 0.087 after 6 000 with 1 000 tokens).

    ``vocab_size``: the size of the byte-level BPE vocabulary learned from the training sentences (default 1000:
    nine words in ten are one token). A 400-token vocabulary (two tokens a word on average) was tried on v2 because
    the encoder's CTC head of a 1 000-token run dropped most content words of held-out rich sentences halfway
    through training; it was no better at the same step (docs/models.md).

    ``ctc_units``: what the encoder's CTC head predicts: ``"tokens"`` (the transcript's BPE tokens; default on
    corpus version 1) or ``"phones"`` (the utterance's phones from the corpus alignments, as the phone recognisers
    do; default from version 2). Phones are shared by every word and heard thousands of times, so the encoder learns
    units that generalise to new word sequences; the decoder still learns the spelling. Measured on v2 with
    everything else equal (6 000 steps): word error rate 0.087 with token units, 0.0145 with phone units, and
    homophone spelling 0.90 vs 0.996 (docs/models.md).
    """

    _seed_everything(seed)
    spec = MODELS[name]
    corpus = large_corpus(corpus_version, spec.language)
    utts, waves = _load_split(corpus, "train")
    if kinds is not None:
        keep = [k for k, u in enumerate(utts) if u.kind in kinds]
        utts, waves = [utts[k] for k in keep], [waves[k] for k in keep]
    if vocab_size is None:
        vocab_size = spec.hyper.get("vocab_size", 1000)
    if steps is None:
        steps = default_steps(name, corpus_version)
    seconds = spec.hyper.get("seconds", 5)
    processor = _whisper_processor([u.text for u in utts], vocab_size, seconds)
    tok = processor.tokenizer
    sot, eos = tok.convert_tokens_to_ids("<|startoftranscript|>"), tok.eos_token_id
    model = WhisperForConditionalGeneration(whisper_config(len(tok), sot, eos, seconds))
    ctc_units = ctc_units or ("tokens" if corpus_version == 1 else "phones")
    if ctc_units not in ("tokens", "phones"):
        raise ValueError(f"ctc_units must be 'tokens' or 'phones', not {ctc_units!r}")
    phone_set = sorted({p.label for u in utts for p in u.phones})
    ctc_targets = ([[phone_set.index(p.label) for p in u.phones] for u in utts] if ctc_units == "phones" else None)
    n_ctc = len(phone_set) if ctc_units == "phones" else len(tok)
    ctc_head = torch.nn.Linear(model.config.d_model, n_ctc + 1)  # + 1: the CTC blank, the last index
    model.add_module("_ctc_head", ctc_head)  # optimised with the model; removed before saving
    model.generation_config = GenerationConfig(decoder_start_token_id=sot, eos_token_id=eos, pad_token_id=eos,
                                               bos_token_id=eos, max_new_tokens=60)
    if speed_factors is None:
        speed_factors = (1.0,) if corpus_version == 1 else (0.9, 1.0, 1.1)
    if spec_augment is None:
        spec_augment = corpus_version != 1
    _log(f"{name}: computing log-mel features at speeds {speed_factors}")
    n_mel_frames = 2 * model.config.max_source_positions
    feats = np.zeros((len(speed_factors), len(waves), 80, n_mel_frames), dtype=np.float32)
    enc_frames = np.zeros((len(speed_factors), len(waves)), dtype=int)  # 20 ms frames that hold speech, not padding
    for s, factor in enumerate(speed_factors):
        for start in range(0, len(waves), 256):  # in chunks: the extractor's temporaries are many times the result
            played = [w if factor == 1.0 else _speed_perturb(w, factor)[:n_mel_frames * 160]
                      for w in waves[start:start + 256]]
            feats[s, start:start + len(played)] = processor.feature_extractor(
                played, sampling_rate=16000, return_tensors="np").input_features
            enc_frames[s, start:start + len(played)] = [min(model.config.max_source_positions, len(w) // 320 + 1)
                                                         for w in played]
    targets = [_whisper_ids(processor, u.text) + [eos] for u in utts]
    _log(f"{name}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters, "
         f"{len(utts)} training utterances, vocabulary {len(tok)}")
    rng = np.random.default_rng(seed)
    if token_noise is None:
        token_noise = 0.0 if corpus_version == 1 else 0.15
    regular = torch.tensor(sorted(set(range(len(tok))) - set(tok.all_special_ids)))

    def loss_of_batch(idx: list[int]) -> torch.Tensor:
        width = max(len(targets[i]) for i in idx)
        labels = torch.full((len(idx), width), -100, dtype=torch.long)
        dec_in = torch.full((len(idx), width), eos, dtype=torch.long)
        for row, i in enumerate(idx):
            t = targets[i]
            labels[row, :len(t)] = torch.tensor(t)
            dec_in[row, :len(t)] = torch.tensor([sot] + t[:-1])
        if token_noise:
            flip = torch.from_numpy(rng.random(dec_in.shape) < token_noise)
            flip[:, 0] = False  # the start-of-transcript token stays
            dec_in[flip] = regular[torch.from_numpy(rng.integers(len(regular), size=int(flip.sum())))]
        speed = rng.integers(len(speed_factors), size=len(idx))
        inputs = torch.from_numpy(feats[speed, idx])
        if spec_augment:
            inputs = _spec_augment(inputs, 2 * enc_frames[speed, idx], rng)
        outputs = model(input_features=inputs, decoder_input_ids=dec_in, labels=labels)
        if not ctc_weight:
            return outputs.loss
        log_probs = ctc_head(outputs.encoder_last_hidden_state).log_softmax(-1).transpose(0, 1)
        units = [torch.tensor(targets[i][:-1] if ctc_targets is None else ctc_targets[i]) for i in idx]  # no eos
        ctc = torch.nn.functional.ctc_loss(
            log_probs, torch.cat(units), torch.tensor(enc_frames[speed, idx]), torch.tensor([len(w) for w in units]),
            blank=n_ctc, zero_infinity=True)
        return outputs.loss + ctc_weight * ctc

    _optimise(model, loss_of_batch, len(utts), steps, batch_size, rng, lr=spec.hyper["lr"],
              warmup=spec.hyper["warmup"], checkpoint=checkpoint)
    del model._ctc_head
    _save_half(model, processor, out)
    model.generation_config.save_pretrained(out)


def train_whisper_fr(out: Path, steps: int = MODELS["tiny-whisper-fr"].hyper["steps"],
                     batch_size: int = MODELS["tiny-whisper-fr"].hyper["batch_size"], seed: int = SEED,
                     corpus_version: int = CORPUS_VERSION, checkpoint: Path | None = None) -> None:
    """Train ``tiny-whisper-fr``: :func:`train_whisper`'s recipe (corpus-v2 defaults) on the French corpus."""
    train_whisper(out, steps=steps, batch_size=batch_size, seed=seed, corpus_version=corpus_version,
                  checkpoint=checkpoint, name="tiny-whisper-fr")


def _spec_augment(feats: torch.Tensor, lengths: np.ndarray, rng: np.random.Generator, bands: int = 2,
                  band_width: int = 12, stretches: int = 2, stretch_share: float = 0.04) -> torch.Tensor:
    """SpecAugment's frequency and time masks (Park et al. 2019) on a batch of log-mel features.

    ``feats`` is ``(batch, mel, frames)``; ``lengths`` the frames of each example that hold speech. Each example
    gets ``bands`` masks of up to ``band_width`` mel channels and ``stretches`` masks of up to ``stretch_share`` of
    its speech frames, set to the example's mean. Returns a new tensor.
    """
    out = feats.clone()
    n_mel = feats.shape[1]
    for row, length in enumerate(lengths):
        fill = out[row, :, :length].mean()
        for _ in range(bands):
            width = int(rng.integers(band_width + 1))
            start = int(rng.integers(n_mel - width + 1))
            out[row, start:start + width, :length] = fill
        for _ in range(stretches):
            width = int(rng.integers(int(stretch_share * length) + 1))
            start = int(rng.integers(max(1, length - width + 1)))
            out[row, :, start:start + width] = fill
    return out


# --------------------------------------------------------------------------
# tiny-w2v2-intent


def slot_classes() -> list[tuple[str, str]]:
    """The per-slot intent model's outputs in order: ``(slot, value)`` for every value of every slot."""
    return [(slot, value) for slot in SLOTS for value in SLOT_VALUES[slot]]


def slot_loss(logits: torch.Tensor, targets: torch.Tensor, ranges: dict[str, range]) -> torch.Tensor:
    """The per-slot intent loss: the sum over slots of the cross-entropy of that slot's logits.

    ``targets`` holds, per utterance and slot (in the order of ``ranges``), the index of the true class among all
    logits (as ``config.label2id`` numbers them).
    """
    return sum(torch.nn.functional.cross_entropy(logits[:, r.start:r.stop], targets[:, k] - r.start)
               for k, r in enumerate(ranges.values()))


def swap_word(wave: np.ndarray, word: Interval, donor: np.ndarray, donor_word: Interval,
              sample_rate: int = 16000) -> np.ndarray:
    """``wave`` with the samples of ``word`` replaced by those of ``donor_word`` in ``donor`` (lengths may differ).

    With exact alignments this makes a new utterance that says another word in the same place ("please fetch my
    socks" from "please fetch my juice" and a "socks" of the same speaker): counterfactual data for a classifier
    that should listen to the word rather than guess it from the words around it.
    """
    a, b = (int(round(t * sample_rate)) for t in (word.start, word.end))
    c, d = (int(round(t * sample_rate)) for t in (donor_word.start, donor_word.end))
    return np.concatenate([wave[:a], donor[c:d], wave[b:]]).astype(wave.dtype)


def balanced_items(groups: list) -> np.ndarray:
    """Indices of ``groups`` (one group key per item), each item repeated so that every group has about as many
    entries as the largest: the items of a group of ``n`` are repeated ``round(largest / n)`` times, in order."""
    counts = Counter(groups)
    top = max(counts.values())
    return np.array([k for k, g in enumerate(groups) for _ in range(round(top / counts[g]))], dtype=int)


def train_intent(out: Path, steps: int = MODELS["tiny-w2v2-intent"].hyper["steps"],
                 batch_size: int = MODELS["tiny-w2v2-intent"].hyper["batch_size"], seed: int = SEED,
                 init_from: str | Path = MODELS["tiny-w2v2-intent"].starts_from, corpus_version: int = CORPUS_VERSION,
                 checkpoint: Path | None = None, balance: bool | None = None, swap_objects: float | None = None
                 ) -> None:
    """Fine-tune ``tiny-w2v2-intent`` from the encoder of ``tiny-w2v2-ctc`` (or ``init_from``).

    On corpus version 1 the model has one output per intent (action, object and location combined). From version 2
    it has **one softmax per slot** (action, object, location) over a shared pooled representation: the logits of
    a ``Wav2Vec2ForSequenceClassification`` are the concatenation of the slots' logits (``config.slots`` lists the
    values of each slot in order, ``config.id2label`` names them ``"slot=value"``) and the loss is the sum of the
    three cross-entropies. Held-out commands combine the slots in ways training never has, which a single softmax
    over combined intents could not even name.

    ``balance`` (default: from corpus version 2 on) repeats the commands of each (action, object) pair in an epoch
    so that every pair is seen about as often as the most frequent one. The grammar has one command per (action,
    object, location), so objects that go with many rooms (heat, lights: over 200 training commands each) drown
    those with none (juice: 19); measured without it on corpus v2, the held-out commands' object accuracy was 0.85,
    all of the errors on the rare objects (shoes read as socks, juice as shoes).

    ``swap_objects`` (default 0.5 from corpus version 2 on, else 0): the share of training commands whose object
    word is replaced, using the exact word alignments, by another object of the same action spoken by the same
    speaker in another command (:func:`swap_word`), and relabelled. Balanced, the held-out object accuracy was still
    0.875, with every error on two commands: "bring me the juice" read as shoes and "please fetch my shoes" as
    juice by all eight test speakers. The model had learned which object goes with which phrase (each rare object
    comes with few phrases in training) instead of listening to the object word; swapping words makes every phrase
    occur with every object of its action.
    """

    _seed_everything(seed)
    corpus = large_corpus(corpus_version)
    utts, waves = _load_split(corpus, "train", kind="command")
    per_slot = corpus_version >= 2
    names = ([f"{slot}={value}" for slot, value in slot_classes()] if per_slot
             else [intent_name(*i) for i in INTENTS])
    label2id = {n: i for i, n in enumerate(names)}
    config = w2v2_config(vocab_size=32, num_labels=len(names))  # no CTC head: the vocabulary is unused
    config.id2label = dict(enumerate(names))
    config.label2id = label2id
    if per_slot:
        config.slots = [[slot, list(SLOT_VALUES[slot])] for slot in SLOTS]
    model = Wav2Vec2ForSequenceClassification(config)
    ctc, _ = load_model(init_from)
    missing = model.wav2vec2.load_state_dict(ctc.wav2vec2.state_dict(), strict=False)
    assert not missing.missing_keys, missing.missing_keys
    model.freeze_feature_encoder()  # the CTC model's convolutional front end is kept as it is (faster, as usual)
    fe = wav2vec2_feature_extractor()
    if per_slot:
        y = torch.tensor([[label2id[f"{slot}={u.labels[slot]}"] for slot in SLOTS] for u in utts])
        ranges = slot_ranges(config)
    else:
        y = torch.tensor([label2id[u.labels["intent"]] for u in utts])
    if balance is None:
        balance = corpus_version >= 2
    pairs = [(u.labels["action"], u.labels["object"]) for u in utts]
    items = balanced_items(pairs) if balance else np.arange(len(utts))
    if swap_objects is None:
        swap_objects = 0.5 if per_slot else 0.0
    object_word = [u.words[int(str(u.labels["object_words"]).split()[0])] for u in utts]
    donors: dict[tuple[str, str], list[int]] = {}  # (speaker, action) -> commands whose object word can be lent
    for k, u in enumerate(utts):
        donors.setdefault((u.speaker, u.labels["action"]), []).append(k)
    _log(f"tiny-w2v2-intent: {len(utts)} training commands ({len(items)} an epoch), {len(names)} outputs, "
         f"object words swapped in {swap_objects:.0%}")
    rng = np.random.default_rng(seed)

    def example(i: int) -> tuple[np.ndarray, torch.Tensor]:
        """Command ``i``, or with probability ``swap_objects`` the same command with another object word."""
        others = [k for k in donors[utts[i].speaker, utts[i].labels["action"]]
                  if utts[k].labels["object"] != utts[i].labels["object"]]
        if not others or rng.random() >= swap_objects:
            return waves[i], y[i]
        k = others[int(rng.integers(len(others)))]
        target = y[i].clone()
        target[SLOTS.index("object")] = y[k][SLOTS.index("object")]
        return swap_word(waves[i], object_word[i], waves[k], object_word[k]), target

    def loss_of_batch(idx: list[int]) -> torch.Tensor:
        idx = items[idx].tolist()
        if per_slot:
            batch, targets = zip(*(example(i) for i in idx))
        else:
            batch, targets = [waves[i] for i in idx], y[idx]
        inputs = fe(list(batch), sampling_rate=16000, padding=True, return_attention_mask=True, return_tensors="pt")
        x = inputs.input_values
        if rng.random() < 0.5:
            x = _add_noise(x, rng) * inputs.attention_mask
        if not per_slot:
            return model(x, attention_mask=inputs.attention_mask, labels=targets).loss
        return slot_loss(model(x, attention_mask=inputs.attention_mask).logits, torch.stack(targets), ranges)

    _optimise(model, loss_of_batch, len(items), steps, batch_size, rng, lr=MODELS["tiny-w2v2-intent"].hyper["lr"],
              warmup=MODELS["tiny-w2v2-intent"].hyper["warmup"], log_every=100,
              lengths=np.array([len(waves[i]) for i in items]),
              checkpoint=checkpoint)
    _save_half(model, fe, out)


# --------------------------------------------------------------------------
# tiny-hubert (self-supervised) and tiny-hubert-ctc


def encoder_config(layers: int = 8, hidden: int = 192) -> dict:
    """tiny-hubert's encoder at another depth or width: post-LN layers of ``hidden`` units (4 heads, a feed-forward
    of 4 x ``hidden``) over the wav2vec 2.0 front end of the shipped models; settings for ``HubertConfig`` or
    ``Wav2Vec2Config``."""
    return dict(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=4, intermediate_size=4 * hidden,
                conv_dim=(128,) * 7, conv_stride=(5, 2, 2, 2, 2, 2, 2), conv_kernel=(10, 3, 3, 3, 3, 2, 2),
                feat_extract_norm="layer", do_stable_layer_norm=False, num_conv_pos_embeddings=64,
                num_conv_pos_embedding_groups=16, hidden_dropout=0.05, activation_dropout=0.05,
                attention_dropout=0.05, feat_proj_dropout=0.05, final_dropout=0.05, layerdrop=0.0,
                mask_time_prob=0.05, mask_time_length=5, pad_token_id=0)


def hubert_config(vocab_size: int = 32):  # noqa: ANN201
    """The architecture of ``tiny-hubert``: 8 post-LN layers, hidden 192, the wav2vec 2.0 front end of the others.

    Post-LN (``do_stable_layer_norm=False``) as in HuBERT-base and wav2vec2-base, the models Pasad et al. studied.
    """
    return HubertConfig(**encoder_config(8, 192), vocab_size=vocab_size, feat_proj_layer_norm=True,
                        ctc_loss_reduction="mean", ctc_zero_infinity=True)


#: HuBERT's first iteration: k-means with this many clusters over MFCC (+ deltas) frames.
HUBERT_CLUSTERS = MODELS["tiny-hubert"].hyper["clusters"]
#: Masking for the pretraining task (transformers' convention: about half of the frames end up masked).
HUBERT_MASK_PROB, HUBERT_MASK_LENGTH = MODELS["tiny-hubert"].hyper["mask_prob"], 10
#: Longest training crop in samples (3 s); HuBERT crops long utterances the same way.
HUBERT_CROP = 48000


def span_mask(valid: torch.Tensor, prob: float = HUBERT_MASK_PROB, length: int = HUBERT_MASK_LENGTH) -> torch.Tensor:
    """transformers' span masking of ``(batch, frames)`` (about ``prob`` of the frames end up masked, in spans of
    ``length``), restricted to the real frames ``valid``: the masks of every masked-prediction objective here."""
    mask = _compute_mask_indices(tuple(valid.shape), prob, length, attention_mask=valid.long(), min_masks=2)
    return torch.from_numpy(mask) & valid


def fit_cluster_targets(features: list[np.ndarray], n_clusters: int = HUBERT_CLUSTERS, max_frames: int = 150_000,
                        seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit k-means on standardised frames; return (centroids, mean, std) in the standardised space."""

    X = np.concatenate(features)
    rng = np.random.default_rng(seed)
    if len(X) > max_frames:
        X = X[rng.choice(len(X), max_frames, replace=False)]
    mean, std = X.mean(0), X.std(0) + 1e-8
    km = MiniBatchKMeans(n_clusters=n_clusters, batch_size=10_000, n_init=3, max_iter=100, random_state=seed)
    km.fit((X - mean) / std)
    return km.cluster_centers_.astype(np.float32), mean.astype(np.float32), std.astype(np.float32)


def assign_clusters(features: np.ndarray, centroids: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Nearest centroid (squared Euclidean) of every standardised frame."""
    X = (features - mean) / std
    d = (X ** 2).sum(1, keepdims=True) - 2 * X @ centroids.T + (centroids ** 2).sum(1)
    return d.argmin(1)


class HubertPretrainingHead(torch.nn.Module):
    """HuBERT's prediction head: project, then cosine similarity with one embedding per cluster over a temperature."""

    def __init__(self, hidden_size: int, n_clusters: int, dim: int = 128, temperature: float = 0.1) -> None:
        super().__init__()
        self.proj = torch.nn.Linear(hidden_size, dim)
        self.codes = torch.nn.Parameter(torch.randn(n_clusters, dim))
        self.temperature = temperature

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        z = torch.nn.functional.normalize(self.proj(hidden), dim=-1)
        return z @ torch.nn.functional.normalize(self.codes, dim=-1).T / self.temperature


def _hubert_batch(fe, waves: list[np.ndarray], labels: list[np.ndarray], idx: list[int],  # noqa: ANN001
                  rng: np.random.Generator, model, crop: int = HUBERT_CROP):  # noqa: ANN001, ANN202
    """Crop (on the frame grid), pad, normalise; frame-level targets padded with -100."""

    chunks, targets = [], []
    for i in idx:
        w, lab = waves[i], labels[i]
        start = 0
        if len(w) > crop:
            start = 320 * int(rng.integers(0, (len(w) - crop) // 320 + 1))
        piece = w[start:start + crop]
        chunks.append(piece)
        targets.append(lab[start // 320:start // 320 + num_frames(len(piece))])
    inputs = fe(chunks, sampling_rate=16000, padding=True, return_attention_mask=True, return_tensors="pt")
    n_frames = int(model._get_feat_extract_output_lengths(torch.tensor(inputs.input_values.shape[1])))
    y = torch.full((len(idx), n_frames), -100, dtype=torch.long)
    for row, t in enumerate(targets):
        n = min(len(t), int(model._get_feat_extract_output_lengths(torch.tensor(len(chunks[row])))))
        y[row, :n] = torch.from_numpy(t[:n].astype(np.int64))
    return inputs, y


def layer_features(model, processor, waves: list[np.ndarray], layer: int, chunk: int = 256) -> list[np.ndarray]:  # noqa: ANN001
    """One layer's hidden states (n_frames, dim) for every waveform: the input of HuBERT's second-iteration k-means.

    :func:`course.features.extract` on chunks of ``chunk`` waveforms, keeping only ``layer``, so memory holds one
    chunk's hidden states of every layer at a time.
    """

    out = []
    for start in range(0, len(waves), chunk):
        reps = extract(model, processor, waves[start:start + chunk], progress=False)
        out += [r.hidden_states[layer].copy() for r in reps]
    return out


def hubert_stages(steps: int, restarts: int, restart_steps: int,
                  recipe_steps: int = MODELS["tiny-hubert"].hyper["steps"]) -> list[int]:
    """Steps of each stage of ``tiny-hubert``'s pretraining: the first run, then ``restarts`` restarts.

    Parameters
    ----------
    steps : int
        The total. The first stage takes what the restarts leave, if that is at least one restart's worth.
    restarts, restart_steps : int
        How many restarts, and the steps of each.
    recipe_steps : int
        The recipe's total. A total too small for full restarts (a quick re-run with ``--steps 6``) shrinks every
        stage in the recipe's proportions, each keeping at least one step.

    Returns
    -------
    list of int
        The steps of the first stage, then of each restart; they add up to ``steps``.
    """
    if restarts < 0 or steps < restarts + 1 or (restarts and restart_steps < 1):
        raise ValueError(f"{steps} steps cannot make a first stage and {restarts} restarts of at least one step each "
                         f"(restart_steps={restart_steps}).")
    later = [restart_steps] * restarts
    if steps - sum(later) < restart_steps:
        later = [max(1, round(restart_steps * steps / recipe_steps))] * restarts
    if steps - sum(later) < 1:
        later = [1] * restarts
    return [steps - sum(later)] + later


def _target_frames(waves: list[np.ndarray], source: str | Path | None, layer: int) -> list[np.ndarray]:
    """The frames whose k-means clusters are the targets: MFCC + deltas (``source`` None), or layer ``layer`` of the
    trained model at ``source`` (HuBERT's second iteration)."""
    if source is None:
        return [mfcc_deltas(w) for w in waves]
    model, fe = load_model(source)
    return layer_features(model, fe, waves, layer)


def _saved_stage(folder: str | Path):  # noqa: ANN202
    """A saved ``tiny-hubert`` stage: its model, its k-means ``(centroids, mean, std)``, the source of its targets
    ``(model or None for MFCCs, layer)`` and its prediction head's state."""
    model, _ = load_model(folder)
    with np.load(Path(folder) / "hubert_targets.npz") as saved:
        kmeans = saved["centroids"], saved["mean"], saved["std"]
        source = (str(saved["source_model"]) or None, int(saved["source_layer"])) if "source_model" in saved else \
            (None, 0)  # saved before the source was recorded: MFCC targets
    return model, kmeans, source, torch.load(Path(folder) / "pretraining_head.pt")


def train_hubert(out: Path, steps: int = MODELS["tiny-hubert"].hyper["steps"],
                 batch_size: int = MODELS["tiny-hubert"].hyper["batch_size"], seed: int = SEED,
                 targets_from: str | Path | None = None, target_layer: int = 4,
                 corpus_version: int = CORPUS_VERSION, checkpoint: Path | None = None,
                 clusters: int = HUBERT_CLUSTERS, mask_prob: float = HUBERT_MASK_PROB,
                 from_scratch: bool = False, continue_from: str | Path | None = None,
                 lr: float = MODELS["tiny-hubert"].hyper["lr"],
                 warmup: int = MODELS["tiny-hubert"].hyper["warmup"],
                 restarts: int = MODELS["tiny-hubert"].hyper["restarts"],
                 restart_steps: int = MODELS["tiny-hubert"].hyper["restart_steps"],
                 restart_lr: float = MODELS["tiny-hubert"].hyper["restart_lr"],
                 restart_warmup: int = MODELS["tiny-hubert"].hyper["restart_warmup"]) -> None:
    """Pretrain ``tiny-hubert`` without labels: masked prediction of k-means clusters of MFCC frames.

    HuBERT's first iteration (Hsu et al. 2021): k-means (:data:`HUBERT_CLUSTERS` clusters) over standardised
    MFCC + delta frames of the training speakers gives every 20 ms frame a cluster id; spans of frames are masked
    after the feature projection (the model's learned mask embedding replaces them) and the transformer must
    predict the cluster ids of the masked frames from the context. The loss is the cross-entropy over masked
    frames only. The k-means model (with the source of its frames) and the prediction head are saved beside the
    weights (``hubert_targets.npz``, ``pretraining_head.pt``) so the task can be re-scored.

    The ``steps`` are split by :func:`hubert_stages`: a first stage (learning rate ``lr`` after ``warmup`` steps,
    cosine decay), then ``restarts`` stages that continue it with the same targets and head under a fresh warm-up
    (``restart_warmup``) and cosine decay from ``restart_lr``: restarts of the learning rate as in SGDR (Loshchilov &
    Hutter 2017), here with a fresh optimiser, reseeded with ``seed`` (each restart draws the first stage's first
    batches again). Each stage is saved into ``out`` (float16 weights) and the next one loads it from there. Each has
    its own ``checkpoint`` (the restarts': the file's name with ``-restart1``, ``-restart2``), and a ``-stages.json``
    beside it records the stages done and their seconds, so a stopped run resumes at the stage it stopped in.

    With ``targets_from`` (a trained ``tiny-hubert``), the first stage is a second iteration: the k-means runs on
    that model's layer ``target_layer`` instead of MFCCs, and training starts from its weights (a warm start to fit
    the CPU budget) unless ``from_scratch`` (as HuBERT trains each iteration). With ``continue_from`` (a trained
    ``tiny-hubert`` folder), the first stage continues that model with its own targets and head. ``clusters`` and
    ``mask_prob`` override the registry's settings. Variations tried and measured: docs/models.md.
    """

    _seed_everything(seed, threads=1)  # measured: 0.90 s/step on 1 thread vs 0.77 s on 2 — keep the other core free
    corpus = large_corpus(corpus_version)
    _, waves = _load_split(corpus, "train")
    stages = hubert_stages(steps, restarts, restart_steps)
    if restarts:
        _log(f"tiny-hubert: {steps} steps in {len(stages)} stages: {' + '.join(map(str, stages))}")
    checkpoints = [None if checkpoint is None else Path(checkpoint) if not k else
                   Path(checkpoint).with_name(f"{Path(checkpoint).stem}-restart{k}.pt") for k in range(len(stages))]
    log = None if checkpoint is None else _stages_log(Path(checkpoint))
    done = json.loads(log.read_text()) if log is not None and log.is_file() else {"done": -1, "seconds": 0.0}
    begin = done["done"] + 1  # the stages before it are saved in out: each stage loads the one before
    if begin:
        _log(f"tiny-hubert: stages 1 to {begin} are done (in {out}); resuming at stage {begin + 1}")
    labels = None
    for k in range(begin, len(stages)):
        started, earlier = time.time(), _seconds_in(checkpoints[k])
        if k == 0 and continue_from is None:  # a new task: k-means of MFCC frames or of a model's layer
            frames = _target_frames(waves, targets_from, target_layer)
            source = (None if targets_from is None else str(targets_from), target_layer)
            model = HubertModel(hubert_config()) if targets_from is None else load_model(targets_from)[0]
            if targets_from is not None and from_scratch:
                _seed_everything(seed, threads=1)
                model = HubertModel(hubert_config())
            _log(f"tiny-hubert: k-means targets ({clusters} clusters) on "
                 + ("MFCC frames" if targets_from is None else f"layer {target_layer} of {targets_from}")
                 + ("" if targets_from is None else ", from scratch" if from_scratch else ", warm start"))
            kmeans = fit_cluster_targets(frames, n_clusters=clusters, seed=seed)
            labels, head_state = [assign_clusters(f, *kmeans) for f in frames], None
            del frames
        else:  # continue a saved stage: continue_from, or the stage before (saved in out) for a restart
            if k:
                _seed_everything(seed, threads=1)
                lr, warmup = restart_lr, restart_warmup
            _log(f"tiny-hubert: continuing the pretraining of {continue_from if not k else out} with its own targets "
                 "and head")
            model, kmeans, source, head_state = _saved_stage(continue_from if not k else out)
            if labels is None:
                labels = [assign_clusters(f, *kmeans) for f in _target_frames(waves, *source)]
        _hubert_stage(out, waves, labels, kmeans, source, model, head_state, steps=stages[k], batch_size=batch_size,
                      seed=seed, checkpoint=checkpoints[k], mask_prob=mask_prob, lr=lr, warmup=warmup)
        done = {"done": k, "seconds": done["seconds"] + earlier + time.time() - started}
        if log is not None and k < len(stages) - 1:
            log.write_text(json.dumps(done))
    if log is not None:
        log.unlink(missing_ok=True)


def _stages_log(checkpoint: Path) -> Path:
    """Where :func:`train_hubert` records the stages a run has finished (and their seconds), beside its checkpoint."""
    return checkpoint.with_name(f"{checkpoint.stem}-stages.json")


def _hubert_stage(out: Path, waves: list[np.ndarray], labels: list[np.ndarray],
                  kmeans: tuple[np.ndarray, np.ndarray, np.ndarray], source: tuple[str | None, int],
                  model: HubertModel, head_state: dict | None, *, steps: int, batch_size: int, seed: int,
                  checkpoint: Path | None, mask_prob: float, lr: float, warmup: int) -> None:
    """One stage of :func:`train_hubert`: optimise the masked prediction of ``labels`` (one array of cluster ids per
    waveform) and save the model, its head and its k-means ``(centroids, mean, std)`` with their ``source`` into
    ``out``; ``head_state`` is the head to continue (None: a new head)."""
    model.config.architectures = ["HubertModel"]
    head = HubertPretrainingHead(model.config.hidden_size, len(kmeans[0]))
    if head_state is not None:
        head.load_state_dict(head_state)
    model.add_module("_pretraining_head", head)  # optimised with the model; saved separately
    fe = wav2vec2_feature_extractor()
    _log(f"tiny-hubert: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")
    rng = np.random.default_rng(seed)

    def loss_of_batch(idx: list[int]) -> torch.Tensor:
        inputs, y = _hubert_batch(fe, waves, labels, idx, rng, model)
        mask = span_mask(y >= 0, prob=mask_prob)
        hidden = model(inputs.input_values, attention_mask=inputs.attention_mask, mask_time_indices=mask)
        logits = head(hidden.last_hidden_state)
        return torch.nn.functional.cross_entropy(logits[mask], y[mask])

    _optimise(model, loss_of_batch, len(waves), steps, batch_size, rng, lr=lr, warmup=warmup,
              lengths=np.array([min(len(w), HUBERT_CROP) for w in waves]),
              checkpoint=checkpoint)
    del model._pretraining_head
    out = Path(out)
    _save_half(model, fe, out)
    torch.save(head.state_dict(), out / "pretraining_head.pt")
    np.savez(out / "hubert_targets.npz", centroids=kmeans[0], mean=kmeans[1], std=kmeans[2],
             source_model=source[0] or "", source_layer=source[1])


@torch.no_grad()
def masked_prediction_accuracy(path: Path, waves: list[np.ndarray], seed: int = SEED) -> float:
    """Accuracy of ``tiny-hubert``'s pretraining task (cluster id of masked frames) on ``waves``."""

    model, kmeans, source, head_state = _saved_stage(path)
    fe = wav2vec2_feature_extractor()  # the processor every stage saves beside its weights
    head = HubertPretrainingHead(model.config.hidden_size, len(kmeans[0]))
    head.load_state_dict(head_state)
    labels = [assign_clusters(f, *kmeans) for f in _target_frames(waves, *source)]  # the targets it was trained on
    rng = np.random.default_rng(seed)
    np.random.seed(seed)
    hits = total = 0
    for i in range(0, len(waves), 16):
        idx = list(range(i, min(i + 16, len(waves))))
        inputs, y = _hubert_batch(fe, waves, labels, idx, rng, model, crop=10 ** 9)
        mask = span_mask(y >= 0)
        hidden = model(inputs.input_values, attention_mask=inputs.attention_mask, mask_time_indices=mask)
        pred = head(hidden.last_hidden_state).argmax(-1)
        hits += int((pred[mask] == y[mask]).sum())
        total += int(mask.sum())
    return hits / total


def train_hubert_ctc(out: Path, steps: int = MODELS["tiny-hubert-ctc"].hyper["steps"],
                     batch_size: int = MODELS["tiny-hubert-ctc"].hyper["batch_size"], seed: int = SEED,
                     init_from: str | Path = MODELS["tiny-hubert-ctc"].starts_from,
                     corpus_version: int = CORPUS_VERSION,
                     checkpoint: Path | None = None) -> None:
    """Fine-tune ``tiny-hubert`` (or ``init_from``) with CTC on phones into ``tiny-hubert-ctc``.

    As in HuBERT's fine-tuning recipe the convolutional front end stays frozen; the phone vocabulary and
    processor are those of ``tiny-w2v2-ctc``'s recipe, so the two phone recognisers are directly comparable.
    """

    _seed_everything(seed, threads=1)  # as in train_hubert
    corpus = large_corpus(corpus_version)
    utts, waves = _load_split(corpus, "train")
    phones = sorted({p.label for u in utts for p in u.phones})
    processor = _phone_processor(phones)
    config = hubert_config(vocab_size=len(phones) + 2)
    model = HubertForCTC(config)
    ssl, _ = load_model(init_from)
    missing = model.hubert.load_state_dict(ssl.state_dict(), strict=False)
    assert not missing.missing_keys, missing.missing_keys
    model.freeze_feature_encoder()
    _log(f"tiny-hubert-ctc: fine-tuning {init_from} on {len(utts)} utterances, {len(phones)} phones")
    rng = np.random.default_rng(seed)

    loss_of_batch = _phone_ctc_loss(model, processor, utts, waves, rng)
    _optimise(model, loss_of_batch, len(utts), steps, batch_size, rng, lr=MODELS["tiny-hubert-ctc"].hyper["lr"],
              warmup=MODELS["tiny-hubert-ctc"].hyper["warmup"],
              lengths=np.array([len(w) for w in waves]),
              checkpoint=checkpoint)
    _save_half(model, processor, out)


# --------------------------------------------------------------------------
# Entry points

def unmet_targets(name: str, metrics: dict) -> list[str]:
    """The targets of ``name`` that ``metrics`` misses (or lacks), as readable strings."""
    missed = []
    targets = dict(MODELS[name].targets)
    if MODELS[name].task == "intent" and "action_accuracy" in metrics:  # the per-slot model (corpus v2)
        targets |= {f"{slot}_accuracy": (">=", 0.98) for slot in SLOTS}
    for key, (op, bound) in targets.items():
        value = metrics.get(key)
        ok = value is not None and (value <= bound if op == "<=" else value >= bound)
        if not ok:
            missed.append(f"{key} = {value} (target {op} {bound})")
    return missed


def trainer(name: str) -> Callable:
    """The function that trains model ``name`` (its registry entry's ``trainer``)."""
    module, function = MODELS[name].trainer.split(":")
    return getattr(importlib.import_module(module), function)


def default_steps(name: str, corpus_version: int = CORPUS_VERSION) -> int:
    """The number of training steps of a model's recipe on a corpus version (its registry entry's ``hyper``)."""
    return MODELS[name].steps(corpus_version)


def checkpoint_seconds(checkpoint: Path) -> float:
    """Training seconds recorded in a resumable checkpoint (0 if there is none, or it predates the record), with those
    of a staged run's finished stages and of its restart checkpoints beside it (:func:`train_hubert`)."""
    checkpoint = Path(checkpoint)
    restarts = sorted(checkpoint.parent.glob(f"{checkpoint.stem}-restart*.pt"))
    stages = _stages_log(checkpoint)
    return (_seconds_in(checkpoint) + sum(map(_seconds_in, restarts))
            + (json.loads(stages.read_text())["seconds"] if stages.is_file() else 0.0))


def _seconds_in(checkpoint: Path | None) -> float:
    """Training seconds recorded in one checkpoint file (0 if there is none, or it predates the record)."""
    if checkpoint is None or not Path(checkpoint).is_file():
        return 0.0
    return float(torch.load(checkpoint, weights_only=False).get("seconds", 0.0))


def checkpoint_path(name: str, out: Path, settings: dict) -> Path:
    """Where :func:`train` keeps the resumable state of a run: in the cache, one file per model, output folder and
    settings (every trainer argument that is not None, defaults included), so a run with other settings never resumes
    another's."""

    bound = inspect.signature(trainer(name)).bind(out, **{k: v for k, v in settings.items() if k != "checkpoint"})
    bound.apply_defaults()
    # arguments left at None (the recipe's own default) are left out, so adding an option renames no checkpoint
    recipe = {k: str(v) for k, v in bound.arguments.items() if k != "checkpoint" and v is not None}
    recipe["out"] = str(Path(out).resolve())
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    return default_cache_dir() / "training" / f"{name}-{digest}.pt"


def train(name: str, out: Path | None = None, steps: int | None = None, corpus_version: int = CORPUS_VERSION,
          **options) -> dict:
    """Retrain a shipped model, save it (default: into the package) and evaluate it.

    ``options`` go to the model's trainer (for example ``init_from``). Returns the metrics, which are also written
    into the model card.
    """
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}; trainable: {', '.join(MODELS)}.")
    out = Path(out) if out is not None else SHIPPED_DIR / name
    start = time.time()
    steps = default_steps(name, corpus_version) if steps is None else steps
    kwargs = dict(options, corpus_version=corpus_version, steps=steps)
    params = inspect.signature(trainer(name)).parameters
    unknown = sorted(set(options) - set(params) | ({"checkpoint"} & set(options)))
    if unknown:
        raise ValueError(f"{name} has no setting {', '.join(unknown)}; its settings: "
                         f"{', '.join(p for p in params if p not in ('out', 'checkpoint'))}.")
    kwargs["checkpoint"] = checkpoint_path(name, out, kwargs)
    earlier = checkpoint_seconds(kwargs["checkpoint"])  # a resumed run counts the time spent before it stopped
    trainer(name)(out, **kwargs)
    minutes = (earlier + time.time() - start) / 60
    metrics = evaluate(name, out, corpus_version)
    metrics["training_minutes"] = round(minutes, 1)
    metrics["training_steps"] = steps
    metrics["corpus_version"] = corpus_version
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    write_model_card(name, out, metrics)
    _log(f"{name}: {metrics}")
    return metrics


def retrain_chains(workers: int = 2, minutes: dict[str, float] | None = None) -> list[list[str]]:
    """The shipped models in ``workers`` chains to retrain side by side (``tools/retrain``).

    A fine-tuned model (its registry entry's ``starts_from``) comes after the model it starts from, in the same
    chain, so it starts from the retrained one. Each family (a model and everything fine-tuned from it) stays in one
    chain, and the families are spread over the chains longest first, each onto the chain with the least work so
    far (``minutes``: each model's training time; default: the ``training_minutes`` its shipped ``metrics.json``
    recorded, 60 for a model without one).

    Returns
    -------
    list of list of str
        Non-empty chains, each in training order.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}.")
    if minutes is None:
        minutes = {}
        for name in MODELS:
            try:
                minutes[name] = shipped_metrics(name).get("training_minutes", 60.0)
            except ModelNotAvailableError:  # not trained yet: counted as 60 below
                pass

    def family(root: str) -> list[str]:
        return [root] + [m for child, spec in MODELS.items() if spec.starts_from == root for m in family(child)]

    def work(members: list[str]) -> float:
        return sum(minutes.get(m, 60.0) for m in members)

    families = [family(name) for name, spec in MODELS.items() if spec.starts_from not in MODELS]
    chains: list[list[str]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    for members in sorted(families, key=work, reverse=True):  # stable: ties keep the registry's order
        k = loads.index(min(loads))
        chains[k] += members
        loads[k] += work(members)
    return [chain for chain in chains if chain]


def rewrite_cards(folders: list[Path]) -> None:
    """Rewrite the model card of every shipped model folder (for example after a new layer-wise record)."""
    for out in folders:
        write_model_card(out.name, out, json.loads((out / "metrics.json").read_text()))
        print(f"recorded in {out / 'README.md'}")


def write_model_card(name: str, out: Path, metrics: dict) -> None:
    """Write ``README.md`` beside the weights: architecture, data, recipe, time and metrics."""

    config = AutoConfig.from_pretrained(out)
    spec = MODELS[name]
    intro, usage = spec.intro, spec.usage
    version = metrics.get("corpus_version", 1)
    flag = "" if version == CORPUS_VERSION else f" --corpus-version {version}"
    if getattr(config, "slots", None):  # the per-slot intent model (corpus v2)
        usage = ("logits = model(**processor(waveform, sampling_rate=16000, return_tensors='pt')).logits[0]\n"
                 "start = 0\n"
                 "for slot, values in model.config.slots:  # action, object, location\n"
                 "    print(slot, values[int(logits[start:start + len(values)].argmax())])\n"
                 "    start += len(values)")
    n_params = metrics.get("parameters")
    arch = {k: getattr(config, k) for k in ("model_type", "hidden_size", "d_model", "num_hidden_layers",
                                            "encoder_layers", "decoder_layers", "num_attention_heads",
                                            "intermediate_size", "do_stable_layer_norm", "num_mel_bins",
                                            "vocab_size", "num_labels") if hasattr(config, k)}
    if spec.task != "intent":
        arch.pop("num_labels", None)
    model_cls, proc_cls = spec.classes
    rows = "\n".join(f"| {k} | {v} |" for k, v in sorted(metrics.items()))
    missed = unmet_targets(name, metrics)
    status = ("**Below target**: " + "; ".join(missed) + ". This checkpoint is preliminary; retrain it with "
              f"`speech-course models train {name}{flag}`." if missed else
              "Meets all its targets." if spec.targets else "This model has no target; measured values:")
    layerwise = ""
    if (out / "layerwise.json").is_file():
        layerwise = "\n## Layer-wise analysis\n\n" + card_section(json.loads((out / "layerwise.json").read_text()))
        layerwise += attempts_section(name)
    text = f"""# {name}

{intro}

Trained by the course *Interpretability Techniques for Speech Models* on its synthetic eSpeak NG corpus, on a
2-core CPU. Reproduce with `speech-course models train {name}{flag}`; re-measure with
`speech-course models evaluate {name}{flag}`.

## Use

```python
from transformers import {model_cls}, {proc_cls}
model = {model_cls}.from_pretrained("path/to/{name}")
processor = {proc_cls}.from_pretrained("path/to/{name}")
{usage}
```

Input: 16 kHz mono audio. In the course: `course.models.load_model("{name}")` (eval mode, eager attention), and
`load_model("{name}", random_init=True)` for the randomly initialised control.

## Architecture

{", ".join(f"{k}={v}" for k, v in arch.items())}; {n_params} M parameters. Weights are stored in float16 and
load as float32.

## Training

{spec.recipe_text()} Measured training time: {metrics.get("training_minutes")} minutes on a 2-core CPU.

## Data

{_data_section(metrics.get("corpus_version", 1), spec.language)}

## Metrics ({"held-out test speakers and sentences" if metrics.get("corpus_version", 1) >= 2 else
               "held-out test speakers"})

{status}

| metric | value |
| --- | --- |
{rows}

{"`*_speaker_min` / `*_speaker_max`: the lowest and highest value over the test speakers." if any(
    k.endswith("_speaker_min") for k in metrics) else ""}
{_cue_section(metrics)}
{layerwise}
## Limitations

The voices are synthetic and robotic, and the sentences come from a small grammar: the model is a teaching tool for
interpretability methods, not a speech recogniser. It generalises narrowly (other eSpeak voice families, natural
speech and unseen words are out of domain). Findings on it illustrate methods; check them on real models
(`facebook/wav2vec2-base-960h`, `openai/whisper-tiny`) before drawing conclusions about speech models in general.
"""
    (out / "README.md").write_text(text)


def _data_section(version: int, language: str = "en") -> str:
    """The model card's description of its training and evaluation data."""
    if language == "fr":
        return (f"Training: the 18 train speakers of the large French course corpus (`speech-course corpus build "
                f"--language fr --size {FRENCH_LARGE_SIZE}`; eSpeak NG's accents fr, fr-be and fr-ch x 10 voice "
                "variants, each speaker with its own pitch and rate), 3 616 sentences such as \"hier la députée "
                "parlait encore\" or \"soudain leur député prudent votait souvent\": a noun whose two genders sound "
                "the same, spelled by agreement with a determiner before it or an adjective after it. Evaluation: "
                "the 9 **held-out test speakers** reading the 32 **held-out test sentences** (16 minimal pairs in "
                "frames no training sentence has), every speaker every sentence. See docs/corpus.md.")
    if version == 1:
        return (f"Training: the train speakers (10 eSpeak voices: en-us, en, en-gb-x-rp with variants, pitch and rate) "
                f"of the large course corpus (`speech-course corpus build --size {LARGE_SIZE}`), about 4 300 "
                "utterances of commands, homophone sentences, phonetically rich sentences and minimal pairs. "
                "Evaluation: the two **held-out test speakers** (spk13 `en-us+f4`, spk14 `en+m6`) of the default "
                "corpus, whose voice variants occur in no training data.")
    return (f"Training: the 20 train speakers of the large version-2 course corpus (`speech-course corpus build "
            f"--version 2 --size {LARGE_SIZE}`; 4 eSpeak accents x 8 voice variants, each speaker with its own "
            "pitch and rate), 5 136 utterances of commands, homophone minimal pairs, phonetically rich sentences and "
            "minimal-pair words. Evaluation: the 8 **held-out test speakers** (an accent-variant combination that no "
            "training speaker has; two per accent) reading the 72 **held-out test sentences** (word sequences that "
            "occur in no training utterance), every speaker every sentence. See docs/corpus.md.")


def _cue_section(metrics: dict) -> str:
    """The design check of the homophones, for a transcriber evaluated on corpus v2."""
    if "homophone_accuracy_cue_silence" not in metrics:
        return ""
    return (f"\n## Does the cue decide the spelling?\n\nIn the test homophone sentences the two spellings differ "
            f"only in the cue word. With the cue word's span replaced by silence, homophone accuracy goes from "
            f"{metrics['homophone_accuracy']} to {metrics['homophone_accuracy_cue_silence']}; replaced by white noise "
            f"of the same loudness, to {metrics['homophone_accuracy_cue_noise']}. Chance is at most 0.5 (the "
            "accuracy also counts a transcript with neither spelling as wrong), so a value near or below 0.5 means "
            "the model spells the homophone from the cue, as the corpus intends.\n")


def _spread(name: str, values: dict[str, float]) -> dict:
    """Lowest and highest per-speaker value of a metric (``<name>_speaker_min`` / ``_max``)."""
    v = list(values.values())
    return {f"{name}_speaker_min": round(min(v), 4), f"{name}_speaker_max": round(max(v), 4)}


def replace_word(wave: np.ndarray, word: Interval, how: str = "silence", seed: int = SEED) -> np.ndarray:
    """A copy of ``wave`` with ``word``'s span replaced by silence (a faint noise floor) or by white noise.

    The noise has the RMS of the speech it replaces, so the word's loudness and duration stay while its content
    goes. Used to check that the homophone cue, and nothing else, decides a transcriber's spelling.
    """
    if how not in ("silence", "noise"):
        raise ValueError(f"how must be 'silence' or 'noise', got {how!r}.")
    out = wave.copy()
    a, b = int(round(word.start * 16000)), int(round(word.end * 16000))
    rng = np.random.default_rng(seed)
    level = 2e-4 if how == "silence" else float(np.sqrt(np.mean(wave[a:b] ** 2)))
    out[a:b] = rng.normal(0.0, level, size=b - a).astype(wave.dtype)
    return out


def evaluate(name: str, path: Path | None = None, corpus_version: int = CORPUS_VERSION) -> dict:
    """Recompute a model's metrics on the held-out test speakers (and, from corpus v2, test sentences).

    Besides the overall metric, the lowest and highest value over the test speakers (phone and word error rates,
    homophone accuracy, each slot's accuracy; not the masked-prediction accuracy of ``tiny-hubert`` nor the v1
    intent model). For ``tiny-whisper`` on corpus v2 also the design check of the homophones: the accuracy when the
    cue word is replaced by silence or noise.
    """
    if name not in MODELS:
        raise ValueError(f"Unknown model {name!r}; shipped: {', '.join(MODELS)}.")
    task = MODELS[name].task
    model, processor = load_model(path or name)
    corpus = eval_corpus(corpus_version, MODELS[name].language)
    by_speaker: dict[str, list[int]] = {}
    if task == "phones":
        utts, waves = _load_split(corpus, "test")
        hyps = transcribe_phones(model, processor, waves)
        refs = [[p.label for p in u.phones] for u in utts]
        metrics = {"phone_error_rate": round(error_rate(refs, hyps), 4)}
        for k, u in enumerate(utts):
            by_speaker.setdefault(u.speaker, []).append(k)
        metrics |= _spread("phone_error_rate", {spk: error_rate([refs[k] for k in ks], [hyps[k] for k in ks])
                                                for spk, ks in by_speaker.items()})
    elif task == "text":
        utts, waves = _load_split(corpus, "test")
        hyps = transcribe_text(model, processor, waves)
        refs = [u.text.split() for u in utts]
        homs = [k for k, u in enumerate(utts) if u.kind == "homophone"]
        metrics = {"word_error_rate": round(error_rate(refs, [h.split() for h in hyps]), 4),
                   "homophone_accuracy": round(float(np.mean([_homophone_correct(utts[k], hyps[k]) for k in homs])), 4),
                   "homophone_sentences": len(homs)}
        for k in range(len(utts)):
            by_speaker.setdefault(utts[k].speaker, []).append(k)
        metrics |= _spread("word_error_rate", {spk: error_rate([refs[k] for k in ks], [hyps[k].split() for k in ks])
                                               for spk, ks in by_speaker.items()})
        hom_set = set(homs)
        metrics |= _spread("homophone_accuracy", {
            spk: float(np.mean([_homophone_correct(utts[k], hyps[k]) for k in ks if k in hom_set]))
            for spk, ks in by_speaker.items() if hom_set & set(ks)})
        if corpus_version >= 2:
            for how in ("silence", "noise"):
                ablated = [replace_word(waves[k], utts[k].words[int(utts[k].labels["cue_index"])], how) for k in homs]
                out = transcribe_text(model, processor, ablated)
                metrics[f"homophone_accuracy_cue_{how}"] = round(float(np.mean(
                    [_homophone_correct(utts[k], h) for k, h in zip(homs, out)])), 4)
    elif task == "masked-prediction":
        utts, waves = _load_split(corpus, "test")
        metrics = {"masked_prediction_accuracy": round(masked_prediction_accuracy(Path(resolve(path or name)),
                                                                                  waves), 4)}
    elif task == "intent":
        utts, waves = _load_split(corpus, "test", kind="command")
        preds = classify(model, processor, waves)
        if not utts:
            raise ValueError(f"{corpus.root} has no test commands to evaluate {name} on.")
        if isinstance(preds[0], dict):
            hits = {slot: [p[slot] == u.labels[slot] for u, p in zip(utts, preds)] for slot in SLOTS}
            metrics = {f"{slot}_accuracy": round(float(np.mean(h)), 4) for slot, h in hits.items()}
            metrics["intent_accuracy"] = round(float(np.mean([all(p[slot] == u.labels[slot] for slot in SLOTS)
                                                              for u, p in zip(utts, preds)])), 4)
            for k, u in enumerate(utts):
                by_speaker.setdefault(u.speaker, []).append(k)
            for slot, h in hits.items():
                metrics |= _spread(f"{slot}_accuracy", {spk: float(np.mean([h[k] for k in ks]))
                                                        for spk, ks in by_speaker.items()})
        else:
            metrics = {"intent_accuracy": round(float(np.mean([p == u.labels["intent"]
                                                               for u, p in zip(utts, preds)])), 4)}
    else:
        raise ValueError(f"{name}: no evaluation for task {task!r}; evaluate knows phones, text, intent and "
                         "masked-prediction.")
    metrics["test_utterances"] = len(utts)
    metrics["test_speakers"] = len({u.speaker for u in utts})
    metrics["parameters"] = round(sum(p.numel() for p in model.parameters()) / 1e6, 2)
    return metrics


def _homophone_correct(utt, hyp: str) -> bool:  # noqa: ANN001
    """The transcript contains the target spelling and not the other spelling of the homophone."""
    words = hyp.split()
    target = utt.labels["target_word"]
    other = [w for w in utt.labels["homophone_group"].split("/") if w != target]
    return target in words and not any(o in words for o in other)
