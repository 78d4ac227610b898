"""The self-supervised objectives tried beside tiny-hubert's (speech_course_tools.pretraining), on tiny models."""

from __future__ import annotations

import numpy as np
import torch
from transformers import HubertConfig, HubertModel

from speech_course_tools import pretraining as P


def _tiny_encoder() -> HubertModel:
    torch.manual_seed(0)
    config = HubertConfig(**P.encoder_config(layers=2, hidden=16) | {"num_attention_heads": 2,
                                                                   "conv_dim": (8,) * 7})
    return HubertModel(config).eval()


def test_the_teacher_moves_towards_the_student_by_one_minus_tau():
    teacher, student = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    before = teacher.weight.detach().clone()
    P.ema_update(teacher, student, tau=0.9)
    assert torch.allclose(teacher.weight, 0.9 * before + 0.1 * student.weight)
    P.ema_update(teacher, student, tau=0.0)
    assert torch.equal(teacher.bias, student.bias)


def test_instance_norm_standardises_each_channel_over_time():
    torch.manual_seed(0)
    x = torch.randn(2, 50, 3) * torch.tensor([1.0, 5.0, 0.5]) + torch.tensor([3.0, -2.0, 0.5])
    y = P.instance_norm(x)
    assert torch.allclose(y.mean(1), torch.zeros(2, 3), atol=1e-5)
    assert torch.allclose(y.var(1, unbiased=False), torch.ones(2, 3), atol=1e-3)


def test_data2vec_targets_average_the_normalised_top_layers_of_the_teacher():
    model = _tiny_encoder()
    fe = P.wav2vec2_feature_extractor()
    waves = [np.random.default_rng(i).normal(0, 0.1, 8000).astype(np.float32) for i in range(2)]
    inputs = fe(waves, sampling_rate=16000, padding=True, return_attention_mask=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(inputs.input_values, attention_mask=inputs.attention_mask, output_hidden_states=True)
    expected = (P.instance_norm(hidden.hidden_states[-1]) + P.instance_norm(hidden.hidden_states[-2])) / 2
    assert torch.allclose(P.data2vec_targets(model, inputs, top_k=2), expected, atol=1e-6)
    assert torch.allclose(P.data2vec_targets(model, inputs, top_k=1), P.instance_norm(hidden.last_hidden_state),
                          atol=1e-6)


def test_masks_cover_about_the_asked_share_of_real_frames_and_never_padding():
    valid = torch.zeros(4, 150, dtype=torch.bool)
    valid[:, :120] = True
    valid[3, 60:] = False
    np.random.seed(0)
    mask = P.span_mask(valid, prob=0.65)
    assert not (mask & ~valid).any()
    share = mask[:3].float().mean(1) * 150 / 120
    assert ((share > 0.35) & (share < 0.85)).all(), share


def test_crops_follow_tiny_huberts_batches():
    model = _tiny_encoder()
    waves = [np.zeros(n, dtype=np.float32) for n in (16000, 64000, 8000)]
    inputs, valid = P._crops(P.wav2vec2_feature_extractor(), waves, [1, 2], np.random.default_rng(0), model)
    assert inputs.input_values.shape == (2, P.HUBERT_CROP)  # the long one cropped to 3 s, the short one padded
    assert valid[0].all() and valid[1].sum() < valid.shape[1] / 2
