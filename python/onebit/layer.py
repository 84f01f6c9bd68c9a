"""One OneBit linear layer's parameters, independent of how it is encoded."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from . import reference
from .packing import ONEBIT_PACKING, pack_signs, packed_width, unpack_signs


@dataclass
class OneBitLayer:
    """y = LN(((x ⊙ g) · Sᵀ) ⊙ h) + bias with S stored in OneBit byte packing.

    ``signs`` uint8 [N, ceil(K/8)] (bit 1 = −1, LSB = lowest k, pad bits 0),
    ``g`` [K], ``h`` [N], ``bias`` [N] or None. Floats may be any precision;
    encoders round them to the activation dtype.
    """

    name: str
    signs: np.ndarray
    in_features: int
    g: np.ndarray
    h: np.ndarray
    bias: Optional[np.ndarray] = None
    layer_norm: bool = True
    epsilon: float = 1e-5

    def __post_init__(self):
        self.signs = np.asarray(self.signs)
        if self.signs.dtype == np.int8:
            self.signs = self.signs.view(np.uint8)
        if self.signs.dtype != np.uint8 or self.signs.ndim != 2:
            raise ValueError(f"{self.name}: signs must be uint8/int8 [N, K8], got "
                             f"{self.signs.dtype} {self.signs.shape}")
        k8 = packed_width(self.in_features, 8)
        if self.signs.shape[1] != k8:
            raise ValueError(f"{self.name}: signs have {self.signs.shape[1]} bytes per row, "
                             f"K={self.in_features} needs {k8}")
        if self.in_features % 8:
            # writers keep pad bits 0 (readers ignore them anyway)
            self.signs = self.signs.copy()
            self.signs[:, -1] &= np.uint8((1 << (self.in_features % 8)) - 1)
        if np.shape(self.g) != (self.in_features,) or np.shape(self.h) != (self.out_features,):
            raise ValueError(f"{self.name}: g must be [{self.in_features}] and h "
                             f"[{self.out_features}], got {np.shape(self.g)} {np.shape(self.h)}")
        if self.bias is not None and np.shape(self.bias) != (self.out_features,):
            raise ValueError(f"{self.name}: bias must be [{self.out_features}]")

    @classmethod
    def from_dense(cls, name, s, g, h, bias=None, layer_norm=True, epsilon=1e-5):
        """From a ±1 (or any real: < 0 is −1) matrix S [N, K]."""
        s = np.asarray(s)
        return cls(name, pack_signs(s, ONEBIT_PACKING), s.shape[1], g, h, bias,
                   layer_norm, epsilon)

    @property
    def out_features(self) -> int:
        return int(self.signs.shape[0])

    @property
    def N(self) -> int:  # noqa: N802 - math notation
        return self.out_features

    @property
    def K(self) -> int:  # noqa: N802
        return int(self.in_features)

    def dense_signs(self, dtype=np.int8) -> np.ndarray:
        """S [N, K] with values ±1."""
        return unpack_signs(self.signs, self.in_features, ONEBIT_PACKING, dtype)

    def params(self, dtype):
        """(g, h, bias) rounded to ``dtype``, as every encoding stores them."""
        dtype = np.dtype(dtype)
        b = None if self.bias is None else np.asarray(self.bias).astype(dtype)
        return np.asarray(self.g).astype(dtype), np.asarray(self.h).astype(dtype), b

    def merged(self, dtype) -> np.ndarray:
        """Encoding 3's W' [K, N] in ``dtype`` (see reference.merged_weight)."""
        g, h, _ = self.params(dtype)
        return reference.merged_weight(self.dense_signs(), g, h, dtype)

    def forward(self, x, dtype=np.float32, encoding: str = "packed"):
        """float64 reference output for parameters as stored in ``dtype``."""
        g, h, b = self.params(dtype)
        x = np.asarray(x, np.float64)
        if encoding == "merged":
            y = x @ self.merged(dtype).astype(np.float64)
            if self.layer_norm:
                y = reference.layer_norm(y, self.epsilon)
            return y if b is None else y + b.astype(np.float64)
        return reference.onebit_linear(x, self.dense_signs(), g.astype(np.float64),
                                       h.astype(np.float64),
                                       None if b is None else b.astype(np.float64),
                                       self.epsilon, self.layer_norm)

    @property
    def nbytes_packed(self) -> int:
        """Bytes of signs + g + h (+ bias) at fp32, as OneBit's checkpoints store."""
        n = self.signs.nbytes + 4 * (self.in_features + self.out_features)
        return n + (4 * self.out_features if self.bias is not None else 0)


def random_layer(rng: np.random.Generator, name: str, n: int, k: int, bias: bool = False,
                 layer_norm: bool = True, epsilon: float = 1e-5,
                 spread: float = 0.25) -> OneBitLayer:
    """Random layer with realistic, positive scales.

    g, h are log-normal with g[0] = 1 (the writers' normalisation) and
    g·h ≈ 1/sqrt(K), so without LayerNorm an O(1) input still gives O(1)
    outputs and fp16 neither overflows nor underflows.
    """
    from .packing import random_packed_signs
    signs = random_packed_signs(rng, n, k)
    g = np.exp(spread * rng.standard_normal(k))
    g /= g[0]
    h = np.exp(spread * rng.standard_normal(n)) / np.sqrt(k)
    b = 0.1 * rng.standard_normal(n) if bias else None
    return OneBitLayer(name, signs, k, g, h, b, layer_norm, epsilon)
