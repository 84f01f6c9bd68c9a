"""GreenBit-style group quantization (1 or 2 bits), numpy reference.

W [N, K] is cut into groups of ``group_size`` (8, 16, 32) consecutive input
columns; each (row, group) has a scale s and a float offset z and codes
q ∈ {0 .. 2^b − 1}: ``W ≈ q·s − z`` (GreenBit's "Layout B", float zero).
Scales and offsets are kept in fp16 directly (GreenBit double-quantizes
them to 4/8-bit codes; that step is left out here).

Fitting: 2 bits start from min–max with a clipping search; 1 bit from the
mean ± mean-absolute-deviation levels; then one least-squares refit of
(s, z) for the chosen codes, kept where it lowers the group's error.

``pack`` writes GreenBit's qweight layout: int32 [ceil(K/(32/b)), N],
transposed, element k of column n in word k // (32/b) at bit offset
(k mod 32/b)·b, LSB first; scales/zeros [K/gs, N] fp16. Pad codes (K not a
multiple of 32/b) are 0 and ignored.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GROUP_SIZES = (8, 16, 32)


@dataclass
class GroupQuant:
    bits: int
    group_size: int
    q: np.ndarray  # uint8 codes [N, K]
    scale: np.ndarray  # [N, K/gs] (scale_dtype)
    zero: np.ndarray  # [N, K/gs] float offset

    @property
    def shape(self):
        return self.q.shape

    def dequantize(self) -> np.ndarray:
        n, k = self.q.shape
        g = self.q.reshape(n, k // self.group_size, self.group_size).astype(np.float64)
        s = self.scale.astype(np.float64)[..., None]
        z = self.zero.astype(np.float64)[..., None]
        return (g * s - z).reshape(n, k)

    def bits_per_weight(self, scale_bits: int = 16) -> float:
        return self.bits + 2 * scale_bits / self.group_size


def _codes(w, s, z, levels):
    safe = np.where(s == 0, 1, s)
    return np.clip(np.rint((w + z) / safe), 0, levels - 1) * (s != 0)


def _err(w, q, s, z):
    return ((q * s - z - w) ** 2).sum(axis=-1)


def quantize(w: np.ndarray, bits: int = 2, group_size: int = 32, clip_search: bool = True,
             refit: bool = True, scale_dtype=np.float16) -> GroupQuant:
    """Group-quantizes W [N, K]; K must be a multiple of ``group_size``."""
    if bits not in (1, 2):
        raise ValueError("bits must be 1 or 2")
    if group_size not in GROUP_SIZES:
        raise ValueError(f"group_size must be one of {GROUP_SIZES}")
    w = np.asarray(w, np.float64)
    n, k = w.shape
    if k % group_size:
        raise ValueError(f"K={k} is not a multiple of group_size={group_size}")
    levels = 1 << bits
    g = w.reshape(n, k // group_size, group_size)
    rd = lambda a: a.astype(scale_dtype).astype(np.float64)  # noqa: E731

    if bits == 1:
        mu = g.mean(axis=-1)
        alpha = np.abs(g - mu[..., None]).mean(axis=-1)
        cands = [(rd(2 * alpha), rd(alpha - mu))]  # levels μ − α (q=0), μ + α (q=1)
    else:
        lo, hi = g.min(axis=-1), g.max(axis=-1)
        shrinks = np.linspace(1.0, 0.5, 11) if clip_search else [1.0]
        cands = []
        for c in shrinks:
            a, b = lo * c, hi * c
            cands.append((rd((b - a) / (levels - 1)), rd(-a)))
    best_s = best_z = best_q = best_e = None
    for s, z in cands:
        q = _codes(g, s[..., None], z[..., None], levels)
        e = _err(g, q, s[..., None], z[..., None])
        if best_e is None:
            best_s, best_z, best_q, best_e = s, z, q, e
        else:
            better = e < best_e
            best_s = np.where(better, s, best_s)
            best_z = np.where(better, z, best_z)
            best_q = np.where(better[..., None], q, best_q)
            best_e = np.where(better, e, best_e)
    if refit:
        # least squares of w ≈ q·s − z for fixed codes
        qm = best_q.mean(axis=-1)
        wm = g.mean(axis=-1)
        var = ((best_q - qm[..., None]) ** 2).sum(axis=-1)
        cov = ((best_q - qm[..., None]) * (g - wm[..., None])).sum(axis=-1)
        s2 = rd(np.where(var > 0, cov / np.where(var > 0, var, 1), best_s))
        z2 = rd(s2 * qm - wm)
        ok = s2 > 0
        e2 = _err(g, best_q, s2[..., None], z2[..., None])
        take = ok & (e2 < best_e)
        best_s = np.where(take, s2, best_s)
        best_z = np.where(take, z2, best_z)
    return GroupQuant(bits, group_size, best_q.reshape(n, k).astype(np.uint8),
                      best_s.astype(scale_dtype), best_z.astype(scale_dtype))


def dequantize(gq: GroupQuant) -> np.ndarray:
    return gq.dequantize()


def pack(gq: GroupQuant) -> dict:
    """GreenBit storage: qweight int32 [ceil(K·b/32), N]; scales, zeros [K/gs, N]."""
    n, k = gq.q.shape
    b = gq.bits
    per = 32 // b
    words = -(-k // per)
    codes = np.zeros((words * per, n), np.uint64)
    codes[:k] = gq.q.T
    codes = codes.reshape(words, per, n)
    shifts = (np.arange(per, dtype=np.uint64) * np.uint64(b))[None, :, None]
    packed = np.bitwise_or.reduce(codes << shifts, axis=1).astype(np.uint32).view(np.int32)
    return dict(qweight=packed, scales=np.ascontiguousarray(gq.scale.T),
                zeros=np.ascontiguousarray(gq.zero.T),
                bits=np.array(b, np.int64), group_size=np.array(gq.group_size, np.int64),
                shape=np.array([n, k], np.int64))


def unpack(p: dict) -> GroupQuant:
    b = int(p["bits"])
    n, k = (int(v) for v in p["shape"])
    per = 32 // b
    u = p["qweight"].view(np.uint32).astype(np.uint64)
    shifts = (np.arange(per, dtype=np.uint64) * np.uint64(b))[None, :, None]
    codes = (u[:, None, :] >> shifts) & np.uint64((1 << b) - 1)
    q = codes.reshape(-1, n)[:k].T.astype(np.uint8)
    return GroupQuant(b, int(p["group_size"]), np.ascontiguousarray(q),
                      np.ascontiguousarray(p["scales"].T), np.ascontiguousarray(p["zeros"].T))
