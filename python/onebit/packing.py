"""Sign packing: ±1 matrices <-> integer words.

The layout mirrors the compiler's ``#onebit.sign_packing<word, order,
negative[, interleave]>`` attribute. OneBit's own checkpoints (and every ONNX
encoding in docs/onnx-convention.md) use ``word=8, order=lsb_first,
negative=1``: row n of S [N, K] becomes ``ceil(K/8)`` bytes, input index k sits
in byte ``k // 8`` at bit ``k % 8`` counted from the least significant bit,
and a set bit means −1.

Padding: when K is not a multiple of the word size, the unused high bits
(lsb_first) of the last word of each row are written as 0 and ignored by
every reader here (``unpack_signs`` never looks at them), so files written
by others with garbage in the pad bits still unpack correctly.

Sign 0 (and NaN) packs as +1, as OneBit's ``sign`` with 0 -> +1 does.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WORD_SIZES = (8, 16, 32, 64)


@dataclass(frozen=True)
class SignPacking:
    """How signs sit in words (see module docstring)."""

    word: int = 8
    order: str = "lsb_first"  # or "msb_first"
    negative: int = 1  # bit value that stands for -1
    interleave: int = 1  # rows stored together: [N/R, W, R] when R > 1
    signed: bool = False  # storage dtype intN instead of uintN (same bits)

    def __post_init__(self):
        if self.word not in WORD_SIZES:
            raise ValueError(f"word must be one of {WORD_SIZES}, got {self.word}")
        if self.order not in ("lsb_first", "msb_first"):
            raise ValueError(f"order must be lsb_first or msb_first, got {self.order!r}")
        if self.negative not in (0, 1):
            raise ValueError("negative must be 0 or 1")
        if self.interleave < 1:
            raise ValueError("interleave must be >= 1")

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(f"{'i' if self.signed else 'u'}{self.word // 8}")


ONEBIT_PACKING = SignPacking()  # OneBit checkpoints / ONNX convention (uint8)
ONEBIT_PACKING_INT8 = SignPacking(signed=True)  # OneBit's int8 checkpoints


def packed_width(k: int, word: int = 8) -> int:
    """Words per row: ceil(K / word)."""
    return -(-int(k) // int(word))


def sign_bits(s: np.ndarray, negative: int = 1) -> np.ndarray:
    """{0,1} bits (uint8) of a sign/real matrix; values < 0 are -1, others +1."""
    neg = np.asarray(s) < 0  # NaN compares False -> +1
    return (neg if negative == 1 else ~neg).astype(np.uint8)


def pack_bits(bits: np.ndarray, word: int = 8, order: str = "lsb_first",
              signed: bool = False) -> np.ndarray:
    """Packs a {0,1} array [..., K] along its last axis into words [..., ceil(K/word)]."""
    bits = np.asarray(bits).astype(np.uint64) & np.uint64(1)
    k = bits.shape[-1]
    w = packed_width(k, word)
    pad = w * word - k
    if pad:
        bits = np.concatenate([bits, np.zeros(bits.shape[:-1] + (pad,), np.uint64)], axis=-1)
    bits = bits.reshape(bits.shape[:-1] + (w, word))
    pos = np.arange(word, dtype=np.uint64)
    if order == "msb_first":
        pos = np.uint64(word - 1) - pos
    elif order != "lsb_first":
        raise ValueError(f"bad order {order!r}")
    words = np.bitwise_or.reduce(bits << pos, axis=-1)
    out = words.astype(np.dtype(f"u{word // 8}"))
    return out.view(np.dtype(f"i{word // 8}")) if signed else out


def unpack_bits(words: np.ndarray, k: int, word: int | None = None,
                order: str = "lsb_first") -> np.ndarray:
    """Inverse of pack_bits: words [..., W] -> {0,1} uint8 [..., k]; pad bits ignored."""
    words = np.asarray(words)
    word = word or words.dtype.itemsize * 8
    if words.dtype.itemsize * 8 != word:
        raise ValueError(f"storage dtype {words.dtype} does not hold {word}-bit words")
    if words.shape[-1] != packed_width(k, word):
        raise ValueError(f"{words.shape[-1]} words cannot hold K={k} at {word} bits per word")
    u = words.view(np.dtype(f"u{word // 8}")).astype(np.uint64)
    pos = np.arange(word, dtype=np.uint64)
    if order == "msb_first":
        pos = np.uint64(word - 1) - pos
    elif order != "lsb_first":
        raise ValueError(f"bad order {order!r}")
    bits = (u[..., None] >> pos) & np.uint64(1)
    bits = bits.reshape(words.shape[:-1] + (-1,))[..., :k]
    return bits.astype(np.uint8)


def pack_signs(s: np.ndarray, packing: SignPacking = ONEBIT_PACKING) -> np.ndarray:
    """Packs S [N, K] (any real values; < 0 is -1) into the layout ``packing``."""
    s = np.asarray(s)
    if s.ndim != 2:
        raise ValueError(f"expected a 2-D [N, K] matrix, got shape {s.shape}")
    words = pack_bits(sign_bits(s, packing.negative), packing.word, packing.order, packing.signed)
    r = packing.interleave
    if r > 1:
        n, w = words.shape
        if n % r:
            raise ValueError(f"N={n} is not a multiple of interleave={r}")
        words = np.ascontiguousarray(words.reshape(n // r, r, w).transpose(0, 2, 1))
    return words


def unpack_signs(words: np.ndarray, k: int, packing: SignPacking = ONEBIT_PACKING,
                 dtype=np.int8) -> np.ndarray:
    """Unpacks words into S [N, K] with values ±1 in ``dtype``."""
    words = np.asarray(words)
    r = packing.interleave
    if r > 1:
        if words.ndim != 3 or words.shape[2] != r:
            raise ValueError(f"interleaved signs must be [N/{r}, W, {r}], got {words.shape}")
        words = words.transpose(0, 2, 1).reshape(-1, words.shape[1])
    if words.ndim != 2:
        raise ValueError(f"expected [N, W] words, got shape {words.shape}")
    bits = unpack_bits(words, k, packing.word, packing.order)
    neg = bits == packing.negative
    return np.where(neg, -1, 1).astype(dtype)


def random_packed_signs(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Uniformly random signs directly in OneBit byte packing (pad bits 0).

    Generating packed bytes first keeps big layers cheap and makes every
    encoding of a seeded model share the same S.
    """
    k8 = packed_width(k, 8)
    b = rng.integers(0, 256, size=(n, k8), dtype=np.uint8)
    if k % 8:
        b[:, -1] &= np.uint8((1 << (k % 8)) - 1)
    return b
