"""Self-supervised objectives beyond HuBERT's first iteration, tried for a better ``tiny-hubert`` (docs/models.md).

``tiny-hubert`` (:func:`speech_course_tools.training.train_hubert`) learns by masked prediction of k-means clusters
of MFCC frames, and at this scale its layers stay below the MFCC frames themselves. Two other objectives of the
literature are implemented here on the same architecture family, data and batches, and measured with the same
layer-wise comparison (:func:`course.layerwise.layerwise_comparison`):

* **data2vec** (Baevski et al. 2022): a student sees the masked input and regresses, at the masked frames, the
  average of the top ``top_k`` layer outputs of a teacher that sees the whole input. Each teacher layer is first
  normalised per channel over time (instance normalisation); the teacher is an exponential moving average of the
  student, its decay rising linearly from ``tau0`` to ``tau1`` over training.
* **wav2vec 2.0's contrastive task** (Baevski et al. 2020): at masked frames the context vector must pick the
  quantised local feature of that frame among distractors from other masked frames of the same utterance, with a
  diversity penalty on the codebook (transformers' ``Wav2Vec2ForPreTraining``). As in the paper the front end
  learns ``grad_mult`` times slower than the rest.

Both train on 3 s crops of the large corpus's training speakers, batches of 8, one CPU thread, and save an
``AutoModel``-loadable encoder (``HubertModel`` or ``Wav2Vec2Model``) with its feature extractor.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from transformers import HubertConfig, HubertModel, Wav2Vec2Config, Wav2Vec2ForPreTraining
from transformers.models.wav2vec2.modeling_wav2vec2 import _sample_negative_indices

from course.corpus import CORPUS_VERSION
from course.frames import num_frames
from speech_course_tools.training import (
    HUBERT_CROP,
    SEED,
    _hubert_batch,
    _load_split,
    _log,
    _optimise,
    _save_half,
    _seed_everything,
    encoder_config,
    large_corpus,
    span_mask,
    wav2vec2_feature_extractor,
)

def _crops(fe, waves: list[np.ndarray], idx: list[int], rng: np.random.Generator, model):  # noqa: ANN001, ANN202
    """A batch of crops (tiny-hubert's cropping) and which of its frames are real (not padding)."""
    blank = {i: np.zeros(num_frames(len(waves[i])), dtype=np.int64) for i in idx}  # no targets: only the frames
    inputs, y = _hubert_batch(fe, waves, blank, idx, rng, model)
    return inputs, y >= 0


def instance_norm(hidden: torch.Tensor) -> torch.Tensor:
    """Normalise each channel of ``(batch, time, channels)`` over time (data2vec's per-layer target norm)."""
    return torch.nn.functional.instance_norm(hidden.transpose(1, 2)).transpose(1, 2)


def data2vec_targets(teacher: HubertModel, inputs, top_k: int) -> torch.Tensor:  # noqa: ANN001
    """The average of the teacher's top ``top_k`` layer outputs, each instance-normalised, on the unmasked input."""
    with torch.no_grad():
        out = teacher(inputs.input_values, attention_mask=inputs.attention_mask, output_hidden_states=True)
        return sum(instance_norm(h) for h in out.hidden_states[-top_k:]) / top_k


@torch.no_grad()
def ema_update(teacher: torch.nn.Module, student: torch.nn.Module, tau: float) -> None:
    """``teacher <- tau * teacher + (1 - tau) * student``, parameter by parameter (same names)."""
    params = dict(student.named_parameters())
    for name, p in teacher.named_parameters():
        p.mul_(tau).add_(params[name].detach(), alpha=1 - tau)


def train_data2vec(out: Path, steps: int = 2400, batch_size: int = 8, seed: int = SEED, layers: int = 8,
                   hidden: int = 192, top_k: int = 4, lr: float = 5e-4, mask_prob: float = 0.65,
                   tau0: float = 0.999, tau1: float = 0.9999, corpus_version: int = CORPUS_VERSION,
                   checkpoint: Path | None = None) -> None:
    """Pretrain a HuBERT-architecture encoder with data2vec's objective (see the module docstring)."""
    _seed_everything(seed, threads=1)
    utts, waves = _load_split(large_corpus(corpus_version), "train")
    model = HubertModel(HubertConfig(**encoder_config(layers, hidden), feat_proj_layer_norm=True))
    teacher = copy.deepcopy(model).eval()
    teacher.requires_grad_(False)
    head = torch.nn.Linear(hidden, hidden)
    model.add_module("_regression_head", head)  # optimised with the model; not saved
    fe = wav2vec2_feature_extractor()
    rng = np.random.default_rng(seed)
    step = [0]

    def loss_of_batch(idx: list[int]) -> torch.Tensor:
        if step[0]:  # the teacher follows the student after each optimiser step
            ema_update(teacher, model, tau1 - (tau1 - tau0) * max(0.0, 1 - step[0] / steps))
        step[0] += 1
        inputs, valid = _crops(fe, waves, idx, rng, model)
        mask = span_mask(valid, mask_prob)
        target = data2vec_targets(teacher, inputs, top_k)
        student = model(inputs.input_values, attention_mask=inputs.attention_mask, mask_time_indices=mask)
        return torch.nn.functional.mse_loss(head(student.last_hidden_state)[mask], target[mask])

    _log(f"data2vec: {layers} layers x {hidden}, top {top_k} teacher layers, {steps} steps")
    _optimise(model, loss_of_batch, len(utts), steps, batch_size, rng, lr=lr, warmup=max(100, steps // 10),
              lengths=np.array([min(len(w), HUBERT_CROP) for w in waves]), checkpoint=checkpoint)
    del model._regression_head
    model.config.architectures = ["HubertModel"]
    _save_half(model, fe, out)


def train_w2v2_contrastive(out: Path, steps: int = 1300, batch_size: int = 8, seed: int = SEED, layers: int = 8,
                           hidden: int = 192, lr: float = 5e-4, mask_prob: float = 0.65, diversity: float = 0.5,
                           grad_mult: float = 0.1, corpus_version: int = CORPUS_VERSION,
                           checkpoint: Path | None = None) -> None:
    """Pretrain a wav2vec 2.0 encoder with its contrastive task (see the module docstring).

    The Gumbel temperature of the quantiser falls from 2 to 0.5 over training. Every 100 steps the codebook's
    perplexity is logged; a run whose perplexity falls below 10 (of 640 codes) has collapsed and is stopped.
    """
    _seed_everything(seed, threads=1)
    utts, waves = _load_split(large_corpus(corpus_version), "train")
    config = Wav2Vec2Config(**encoder_config(layers, hidden), num_codevectors_per_group=320,
                            num_codevector_groups=2, codevector_dim=256, proj_codevector_dim=128, num_negatives=100,
                            contrastive_logits_temperature=0.1, diversity_loss_weight=diversity,
                            feat_quantizer_dropout=0.0)
    model = Wav2Vec2ForPreTraining(config)
    model.wav2vec2.feature_extractor.register_forward_hook(  # same values, gradients scaled by grad_mult
        lambda module, args, output: output * grad_mult + output.detach() * (1 - grad_mult))
    fe = wav2vec2_feature_extractor()
    rng = np.random.default_rng(seed)
    step = [0]

    def loss_of_batch(idx: list[int]) -> torch.Tensor:
        step[0] += 1
        model.set_gumbel_temperature(max(2.0 * 0.25 ** (step[0] / steps), 0.5))
        inputs, valid = _crops(fe, waves, idx, rng, model.wav2vec2)
        mask = span_mask(valid, mask_prob)
        negatives = _sample_negative_indices(tuple(mask.shape), config.num_negatives, mask_time_indices=mask.numpy())
        o = model(inputs.input_values, attention_mask=inputs.attention_mask, mask_time_indices=mask,
                  sampled_negative_indices=torch.from_numpy(negatives))
        if step[0] % 100 == 0:
            perplexity = float(o.codevector_perplexity.detach())
            _log(f"step {step[0]}: codebook perplexity {perplexity:.1f} of 640, contrastive loss "
                 f"{float(o.contrastive_loss.detach()) / float(mask.sum()):.3f} (chance ln 101 = 4.615)")
            if step[0] >= 300 and perplexity < 10:
                raise RuntimeError(f"The codebook collapsed (perplexity {perplexity:.1f} at step {step[0]}).")
        return o.loss / mask.sum()

    _optimise(model, loss_of_batch, len(utts), steps, batch_size, rng, lr=lr, warmup=max(100, steps // 10),
              lengths=np.array([min(len(w), HUBERT_CROP) for w in waves]), checkpoint=checkpoint)
    encoder = model.wav2vec2
    encoder.config.architectures = ["Wav2Vec2Model"]
    _save_half(encoder, fe, out)
