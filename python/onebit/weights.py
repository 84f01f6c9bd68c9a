"""Weight sources for the model builders: seeded random, or a state dict.

A source hands out one tensor at a time, by its (HF-style) name, so big
models are generated or converted layer by layer and never held whole.
"""
from __future__ import annotations

import zlib
from typing import Optional

import numpy as np

from .layer import OneBitLayer, random_layer


class RandomWeights:
    """Seeded random weights; each tensor's stream depends only on (seed, name).

    So a tensor is the same whatever the encoding, dtype or build order, and
    the numpy reference can regenerate it later.
    """

    def __init__(self, seed: int = 0):
        self.seed = int(seed)

    def rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng(np.random.SeedSequence([self.seed, zlib.crc32(name.encode())]))

    def dense(self, name: str, shape, kind: str = "normal", scale: float = 1.0) -> np.ndarray:
        """kind: "normal" (N(0, scale²)), "norm_weight" (1 + scale·N(0,1)), "zeros"."""
        if kind == "zeros":
            return np.zeros(shape)
        r = self.rng(name).standard_normal(shape)
        return 1.0 + scale * r if kind == "norm_weight" else scale * r

    def onebit(self, name: str, n: int, k: int, bias: bool = False, layer_norm: bool = True,
               epsilon: float = 1e-5) -> OneBitLayer:
        return random_layer(self.rng(name), name, n, k, bias=bias, layer_norm=layer_norm,
                            epsilon=epsilon)

    def has(self, name: str) -> bool:
        return True


def expect_shape(name: str, array: np.ndarray, shape) -> np.ndarray:
    if tuple(array.shape) != tuple(shape):
        raise ValueError(f"{name}: expected shape {tuple(shape)}, got {tuple(array.shape)}")
    return array


class StateDictWeights:
    """Weights of an FP (or OneBit) checkpoint; 1-bit layers converted by SVID.

    ``state`` maps names to arrays (an npz, a safetensors mapping, a dict).
    A 1-bit layer ``p`` comes from ``p.weight`` [N, K] through SVID, or, when
    the checkpoint is already OneBit's inference format, directly from
    ``p.weight`` (int8/uint8 [N, K/8]), ``p.input_factor`` (g) and
    ``p.weight_scale`` (h). ``p.bias`` is used when present.
    """

    def __init__(self, state, method: str = "nmf", max_iter: int = 200,
                 defaults: Optional["RandomWeights"] = None):
        self.state = state
        self.method = method
        self.max_iter = max_iter
        self.defaults = defaults  # fills tensors the checkpoint lacks, or None: error
        self.errors = {}  # 1-bit layer name -> SVID relative Frobenius error

    def has(self, name: str) -> bool:
        return name in self.state

    def get(self, name: str) -> np.ndarray:
        return np.asarray(self.state[name])

    def dense(self, name: str, shape, kind: str = "normal", scale: float = 1.0) -> np.ndarray:
        if name not in self.state:
            if kind == "zeros":
                return np.zeros(shape)
            if self.defaults is None:
                raise KeyError(f"state dict has no {name!r}")
            return self.defaults.dense(name, shape, kind, scale)
        return expect_shape(name, self.get(name).astype(np.float64), shape)

    def onebit(self, name: str, n: int, k: int, bias: bool = False, layer_norm: bool = True,
               epsilon: float = 1e-5) -> OneBitLayer:
        from .svid import svid, svid_error
        b = None
        if bias:
            b = (expect_shape(f"{name}.bias", self.get(f"{name}.bias").astype(np.float64), (n,))
                 if f"{name}.bias" in self.state else np.zeros(n))
        w = self.get(f"{name}.weight")
        if f"{name}.weight_scale" in self.state and w.dtype in (np.int8, np.uint8):
            g = expect_shape(f"{name}.input_factor",
                             self.get(f"{name}.input_factor").astype(np.float64), (k,))
            h = expect_shape(f"{name}.weight_scale",
                             self.get(f"{name}.weight_scale").astype(np.float64), (n,))
            return OneBitLayer(name, expect_shape(f"{name}.weight", w, (n, -(-k // 8))), k,
                               g, h, b, layer_norm, epsilon)
        w = expect_shape(f"{name}.weight", w.astype(np.float64), (n, k))
        r = svid(w, method=self.method, max_iter=self.max_iter)
        self.errors[name] = svid_error(w, r)
        return OneBitLayer.from_dense(name, r.signs, r.g, r.h, b, layer_norm, epsilon)
