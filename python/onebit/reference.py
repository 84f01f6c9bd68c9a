"""Numpy reference math for 1-bit layers and the decoder blocks around them.

Everything computes in float64 unless told otherwise: these are the values
the ONNX encodings and the compiler are compared against.
"""
from __future__ import annotations

import numpy as np

from .packing import ONEBIT_PACKING, SignPacking, unpack_signs

DEFAULT_EPS = 1e-5


def layer_norm(x, epsilon=DEFAULT_EPS, weight=None, bias=None, axis=-1):
    """LayerNorm over ``axis`` (biased variance, eps inside the sqrt)."""
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=axis, keepdims=True)
    d = x - mean
    var = (d * d).mean(axis=axis, keepdims=True)
    y = d / np.sqrt(var + epsilon)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def rms_norm(x, weight=None, epsilon=1e-6):
    """LLaMA RMSNorm: x / sqrt(mean(x²) + eps) · weight."""
    x = np.asarray(x, np.float64)
    y = x / np.sqrt((x * x).mean(axis=-1, keepdims=True) + epsilon)
    return y if weight is None else y * weight


def onebit_linear(x, s, g=None, h=None, bias=None, layer_norm_eps=DEFAULT_EPS,
                  use_layer_norm=True):
    """OneBit linear: LN_noaffine(((x ⊙ g) · Sᵀ) ⊙ h) + bias.

    x [..., K]; s ±1 [N, K]; g [K]; h [N]; bias [N]. ``use_layer_norm=False``
    drops the LayerNorm (``layer_norm_eps`` is then unused).
    """
    x = np.asarray(x, np.float64)
    s = np.asarray(s, np.float64)
    if g is not None:
        x = x * np.asarray(g, np.float64)
    y = x @ s.T
    if h is not None:
        y = y * np.asarray(h, np.float64)
    if use_layer_norm:
        y = layer_norm(y, layer_norm_eps)
    if bias is not None:
        y = y + np.asarray(bias, np.float64)
    return y


def onebit_linear_packed(x, signs, k, g=None, h=None, bias=None,
                         layer_norm_eps=DEFAULT_EPS, use_layer_norm=True,
                         packing: SignPacking = ONEBIT_PACKING):
    """onebit_linear with S given packed (OneBit byte layout by default)."""
    s = unpack_signs(signs, k, packing)
    return onebit_linear(x, s, g, h, bias, layer_norm_eps, use_layer_norm)


def merged_weight(s, g, h, dtype=np.float32):
    """Encoding 3's W'[k, n] = round_dtype(g_k · s_nk · h_n), as [K, N].

    The product is formed in float64 (exact for fp16/fp32 g, h) and rounded
    once, to nearest-even, to ``dtype``; see docs/onnx-convention.md.
    """
    g64 = np.asarray(g, dtype).astype(np.float64)
    h64 = np.asarray(h, dtype).astype(np.float64)
    s64 = np.asarray(s, np.float64)
    return np.ascontiguousarray((g64[:, None] * s64.T * h64[None, :]).astype(dtype))


# --- activations --------------------------------------------------------------

def relu(x):
    return np.maximum(x, 0)


def sigmoid(x):
    x = np.asarray(x, np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic


def silu(x):
    return np.asarray(x, np.float64) * sigmoid(x)


def swiglu(gate, up):
    return silu(gate) * up


def softmax(x, axis=-1):
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --- rotary embeddings and attention -------------------------------------------

def rotary_tables(seq_len, head_dim, base=10000.0):
    """cos, sin [T, head_dim] as HF LLaMA builds them (halves duplicated)."""
    inv = 1.0 / base ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    freqs = np.outer(np.arange(seq_len, dtype=np.float64), inv)
    emb = np.concatenate([freqs, freqs], axis=-1)
    return np.cos(emb), np.sin(emb)


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def apply_rotary(x, cos, sin):
    """x [..., T, hd] with cos/sin [T, hd]."""
    return x * cos + rotate_half(x) * sin


def causal_mask(seq_len, value=-np.inf):
    """[T, T] additive mask: 0 on and below the diagonal, ``value`` above."""
    m = np.zeros((seq_len, seq_len))
    m[np.triu_indices(seq_len, 1)] = value
    return m


def attention(q, k, v, mask=None):
    """Scaled dot-product attention; q, k, v [B, H, T, hd]."""
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores + mask
    return softmax(scores) @ v


def split_heads(x, heads):
    """[B, T, D] -> [B, H, T, D/H]."""
    b, t, d = x.shape
    return x.reshape(b, t, heads, d // heads).transpose(0, 2, 1, 3)


def merge_heads(x):
    """[B, H, T, hd] -> [B, T, H·hd]."""
    b, h, t, hd = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, t, h * hd)


def relative_error(a, b):
    """‖a − b‖_F / ‖b‖_F."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))
