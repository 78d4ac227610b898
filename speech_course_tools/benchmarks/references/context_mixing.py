"""Attention rollout, Value Zeroing and attention norms, written out the way the papers describe them.

* Attention rollout (Abnar & Zuidema 2020, "Quantifying attention flow in
  transformers", ACL): ``Â_l = (1 - r) A_l + r I`` (heads averaged, rows
  renormalised), and the rollout after layer ``L`` is the **direct product**
  ``Â_L Â_{L-1} ... Â_1`` (:func:`numpy.linalg.multi_dot`), not a running
  recursion.
* Value Zeroing (Mohebbi, Zuidema, Chrupała & Alishahi 2023, "Quantifying
  context mixing in transformers", EACL): for every layer and every source word,
  one forward pass of that layer on its input ``hidden_states[l - 1]`` with the
  value vectors of the word's frames set to zero in every head; the layer
  (pre-LN: norm, multi-head attention, residual, norm, feed-forward, residual,
  and the encoder's final norm after the last layer) is written out by hand from
  its weights, not run through the ``transformers`` module. Score
  ``d_n = 1 - cos(x~_n, x_n)`` for every output frame, average over the target
  word's frames, normalise each row to sum 1. This is the per-word, per-layer
  loop of the reference approach.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch


# --------------------------------------------------------------------------
# Attention rollout


def rollout_direct(attentions: np.ndarray, residual: float = 0.5, upto: int | None = None) -> np.ndarray:
    """The rollout after ``upto`` layers (default all) as one direct matrix product.

    Parameters
    ----------
    attentions : array, shape (n_layers, n_heads, n, n) or (n_layers, n, n)
        Attention weights, first layer first, rows are queries.
    residual : float
        Weight of the identity.
    upto : int, optional
        Number of layers to roll out (1 .. n_layers).

    Returns
    -------
    np.ndarray, shape (n, n)
    """
    a = np.asarray(attentions, dtype=np.float64)
    if a.ndim == 4:
        a = a.mean(axis=1)
    layers = a.shape[0] if upto is None else int(upto)
    eye = np.eye(a.shape[-1])
    mixed = [(1.0 - residual) * a[layer] + residual * eye for layer in range(layers)]
    mixed = [m / m.sum(axis=1, keepdims=True) for m in mixed]
    ordered = mixed[::-1]  # the last layer on the left
    return ordered[0] if len(ordered) == 1 else np.linalg.multi_dot(ordered)


def rollout_all(attentions: np.ndarray, residual: float = 0.5) -> np.ndarray:
    """Every prefix rollout ``R_1 .. R_L``, each by its own direct product, shape (n_layers, n, n)."""
    n_layers = np.shape(attentions)[0]
    return np.stack([rollout_direct(attentions, residual, upto) for upto in range(1, n_layers + 1)])


# --------------------------------------------------------------------------
# Value Zeroing


class PreLNLayer:
    """The weights of one pre-LN Transformer encoder layer, and its forward pass written out.

    Supported: ``Wav2Vec2EncoderLayerStableLayerNorm`` (wav2vec 2.0 / HuBERT with
    ``do_stable_layer_norm=True``) and ``WhisperEncoderLayer``.

    Parameters
    ----------
    layer : torch.nn.Module
        The encoder layer.
    final_norm : torch.nn.Module, optional
        The encoder's final layer norm, applied after the layer (the last layer of a pre-LN encoder).
    """

    def __init__(self, layer: torch.nn.Module, final_norm: torch.nn.Module | None = None) -> None:
        if hasattr(layer, "feed_forward"):  # wav2vec 2.0 / HuBERT, stable layer norm
            self.norm1, attn, self.norm2 = layer.layer_norm, layer.attention, layer.final_layer_norm
            ff = layer.feed_forward
            self.fc1, self.act, self.fc2 = ff.intermediate_dense, ff.intermediate_act_fn, ff.output_dense
        elif hasattr(layer, "self_attn_layer_norm"):  # Whisper encoder
            self.norm1, attn, self.norm2 = layer.self_attn_layer_norm, layer.self_attn, layer.final_layer_norm
            self.fc1, self.act, self.fc2 = layer.fc1, layer.activation_fn, layer.fc2
        else:
            raise TypeError(f"{type(layer).__name__} is not a supported pre-LN encoder layer.")
        self.q, self.k, self.v, self.out = attn.q_proj, attn.k_proj, attn.v_proj, attn.out_proj
        self.heads = int(attn.num_heads)
        self.final_norm = final_norm

    @torch.no_grad()
    def forward(self, x: torch.Tensor, zero: tuple[int, int] | None = None) -> torch.Tensor:
        """The layer's output for one sequence ``x`` (n, dim), the values of frames ``zero[0]:zero[1]`` zeroed."""
        n, dim = x.shape
        hd = dim // self.heads
        h = self.norm1(x)
        q = self.q(h).reshape(n, self.heads, hd).transpose(0, 1)  # (heads, n, hd)
        k = self.k(h).reshape(n, self.heads, hd).transpose(0, 1)
        v = self.v(h)
        if zero is not None:
            v = v.clone()
            v[zero[0]:zero[1]] = 0.0  # every head: the heads sit side by side along the last axis
        v = v.reshape(n, self.heads, hd).transpose(0, 1)
        weights = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(hd), dim=-1)
        mixed = (weights @ v).transpose(0, 1).reshape(n, dim)
        y = x + self.out(mixed)
        y = y + self.fc2(self.act(self.fc1(self.norm2(y))))
        return self.final_norm(y) if self.final_norm is not None else y


def cosine_distances(a: torch.Tensor, b: torch.Tensor) -> np.ndarray:
    """``1 - cos(a_n, b_n)`` per row, in float64."""
    x, y = a.double().numpy(), b.double().numpy()
    dots = np.einsum("nd,nd->n", x, y)
    return 1.0 - dots / (np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1))


def value_zeroing_layer(layer: PreLNLayer, x: torch.Tensor, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Value Zeroing of one layer, word by word: matrix (target words, source words), rows summing to 1."""
    original = layer.forward(x)
    scores = np.zeros((len(spans), len(spans)))
    for j, source in enumerate(spans):
        d = cosine_distances(layer.forward(x, zero=source), original)
        for i, (a, b) in enumerate(spans):
            scores[i, j] = d[a:b].mean()
    return scores / scores.sum(axis=1, keepdims=True)


def value_zeroing_model(model: torch.nn.Module, hidden_states: torch.Tensor,
                        spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Value Zeroing of every encoder layer of a pre-LN wav2vec 2.0-family or Whisper model.

    Parameters
    ----------
    model : torch.nn.Module
        In eval mode.
    hidden_states : tensor, shape (n_layers + 1, n, dim)
        One utterance's hidden states; layer ``l`` reads entry ``l - 1``.
    spans : sequence of (int, int)
        Half-open frame spans of the words.

    Returns
    -------
    np.ndarray, shape (n_layers, n_words, n_words)
    """
    if getattr(model.config, "model_type", "") == "whisper":
        encoder = model.get_encoder()
    else:
        encoder = model.base_model.encoder
    layers = list(encoder.layers)
    out = []
    for index, module in enumerate(layers, start=1):
        final = encoder.layer_norm if index == len(layers) else None
        out.append(value_zeroing_layer(PreLNLayer(module, final), hidden_states[index - 1], spans))
    return np.stack(out)


# --------------------------------------------------------------------------
# Attention norms


@torch.no_grad()
def attention_norms_loop(attention: torch.nn.Module, weights: torch.Tensor, inputs: torch.Tensor) -> np.ndarray:
    """Kobayashi, Kuribayashi, Yokoi & Inui (2020), "Attention is not only a weight: analyzing transformers with
    vector norms" (EMNLP), section 3, written out per head and per target position.

    For head ``h`` the transformed vector of source ``j`` is ``f^h(x_j) = (x_j W_V^h + b_V^h) W_O^h``, with
    ``W_V^h`` the value weights of head ``h`` (its block of columns) and ``W_O^h`` the block of rows of the output
    projection that multiplies head ``h``'s output. The multi-head output at ``i`` is
    ``sum_j sum_h alpha^h_ij f^h(x_j) + b_O``; the measure is ``||sum_h alpha^h_ij f^h(x_j)||``. Loops over heads and
    targets, each weight matrix read from the module's parameters (``torch.nn.Linear`` stores ``W^T``).
    """
    heads = attention.num_heads
    x = inputs.double()
    wv, bv = attention.v_proj.weight.double(), attention.v_proj.bias
    bv = torch.zeros(wv.shape[0], dtype=torch.float64) if bv is None else bv.double()
    wo = attention.out_proj.weight.double()  # (dim_out, heads * head_dim)
    d = wv.shape[0] // heads
    transformed = []
    for h in range(heads):
        cols = slice(h * d, (h + 1) * d)
        v_h = x @ wv[cols].T + bv[cols]  # (n, d): head h's values
        transformed.append(v_h @ wo[:, cols].T)  # (n, dim_out): f^h(x_j) for every j
    n = x.shape[0]
    out = np.zeros((n, n))
    for i in range(n):
        total = sum(weights[h, i].double()[:, None] * transformed[h] for h in range(heads))  # (n, dim_out)
        out[i] = torch.linalg.vector_norm(total, dim=1).numpy()
    return out
