"""BiLLM-style binarization (arXiv 2402.04291; code BRAGPTQ), numpy reference.

Per block of ``block_size`` (128) input columns of W [N, K]:

1. salience score per element: W² / d² with d the diagonal of the upper
   Cholesky factor of H⁻¹ (H = 2XᵀX/T + damping) when a Hessian or
   calibration X is given, else W² (magnitude);
2. salient columns: the top-k columns by summed score, k searched in
   1..min(max_salient, block-1) for the lowest error of an order-2
   binarization of the salient columns plus an order-2 binarization of the
   rest (as BiLLM's structural search; the error here is measured on W);
3. the other elements split by a break point p, searched over the 10..90th
   percentiles of their score (|W| in magnitude mode, where columns are also
   ranked by Σ|W| instead of ΣW²), into a concentrated
   (< p) and a sparse (>= p) group;
4. each group, row by row: μ = mean, α = mean|x − μ|, b = α·sign(x − μ) + μ
   (sign 0 -> +1); salient columns get a second plane fitted to the residual.
   Planes: 0 concentrated, 1 sparse, 2 salient order 1, 3 salient order 2.
   α and μ are rounded to ``scale_dtype`` (fp16) as soon as they are fitted,
   so the stored form reproduces the quantizer's own result exactly;
5. with a Hessian, GPTQ error compensation between blocks (none inside a
   block, as BiLLM's code does).

A (row, block) holds at most 8 distinct values. ``pack`` stores the class
bits and sign planes with OneBit's byte packing (bit 1 = −1 / member).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from .packing import pack_bits, unpack_bits

CONC, SPARSE, SAL1, SAL2 = range(4)


@dataclass
class BiLLMBlock:
    start: int
    salient: np.ndarray  # bool [w]: salient columns
    sparse: np.ndarray  # bool [N, w]: non-salient element in the sparse group
    signs1: np.ndarray  # int8 ±1 [N, w]: first plane, every element
    signs2: np.ndarray  # int8 ±1 [N, n_salient]: second plane, salient columns in order
    alpha: np.ndarray  # [N, 4]
    mu: np.ndarray  # [N, 4]

    @property
    def width(self) -> int:
        return int(self.salient.shape[0])

    def dequantize(self) -> np.ndarray:
        a = self.alpha.astype(np.float64)
        m = self.mu.astype(np.float64)
        cls = np.where(self.sparse, SPARSE, CONC)
        cls[:, self.salient] = SAL1
        rows = np.arange(cls.shape[0])[:, None]
        out = a[rows, cls] * self.signs1 + m[rows, cls]
        if self.salient.any():
            out[:, self.salient] += a[:, SAL2:SAL2 + 1] * self.signs2 + m[:, SAL2:SAL2 + 1]
        return out


@dataclass
class BiLLMWeight:
    shape: tuple
    block_size: int
    blocks: List[BiLLMBlock] = field(default_factory=list)

    def dequantize(self) -> np.ndarray:
        return np.concatenate([b.dequantize() for b in self.blocks], axis=1)

    @property
    def salient_fraction(self) -> float:
        return float(sum(b.salient.sum() for b in self.blocks) / self.shape[1])

    def bits_per_weight(self, scale_bits: int = 16) -> float:
        """Storage cost: planes + class bit + salient bitmap + α/μ scales."""
        n, k = self.shape
        sal = sum(int(b.salient.sum()) for b in self.blocks)
        bits = n * k + n * sal + n * (k - sal) + k + 8 * scale_bits * n * len(self.blocks)
        return bits / (n * k)


def _sgn(x):
    return np.where(x < 0, -1, 1).astype(np.int8)


def _binarize(x, mask, dtype=np.float64):
    """Row-wise affine binarization of the masked entries: (q, α, μ, signs)."""
    cnt = np.maximum(mask.sum(axis=1), 1)
    mu = (np.where(mask, x, 0).sum(axis=1) / cnt).astype(dtype).astype(np.float64)
    d = x - mu[:, None]
    alpha = (np.where(mask, np.abs(d), 0).sum(axis=1) / cnt).astype(dtype).astype(np.float64)
    s = _sgn(d)
    q = np.where(mask, alpha[:, None] * s + mu[:, None], 0)
    return q, alpha, mu, s


def _masked_err(x, q, mask):
    return float((np.where(mask, x - q, 0) ** 2).sum())


def _order2(w, mask, dtype=np.float64):
    q1, a1, m1, s1 = _binarize(w, mask, dtype)
    q2, a2, m2, s2 = _binarize(w - q1, mask, dtype)
    return q1 + q2, (a1, m1, s1), (a2, m2, s2)


def _salient_part(w, cols, dtype=np.float64):
    mask = np.zeros(w.shape, bool)
    mask[:, cols] = True
    q, p1, p2 = _order2(w, mask, dtype)
    return q, mask, p1, p2


def _split_search(w, score, nonsal, percentiles):
    """Break point over the non-salient scores -> (sparse mask, error)."""
    vals = score[nonsal]
    best = (None, np.inf)
    if vals.size == 0:
        return np.zeros(w.shape, bool), 0.0
    for p in np.percentile(vals, percentiles):
        sparse = nonsal & (score >= p)
        conc = nonsal & ~sparse
        err = (_masked_err(w, _binarize(w, conc)[0], conc)
               + _masked_err(w, _binarize(w, sparse)[0], sparse))
        if err < best[1]:
            best = (sparse, err)
    return best


def _hessian_inverse_chol(h):
    """Upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU), GPTQ-style."""
    linv = np.linalg.inv(np.linalg.cholesky(h))
    hinv = linv.T @ linv
    return np.linalg.cholesky(hinv).T


def hessian_from_inputs(x: np.ndarray) -> np.ndarray:
    """H = 2 XᵀX / T for calibration inputs X [T, K]."""
    x = np.asarray(x, np.float64).reshape(-1, np.shape(x)[-1])
    return 2.0 * x.T @ x / x.shape[0]


def quantize(w: np.ndarray, block_size: int = 128, hessian: Optional[np.ndarray] = None,
             calib: Optional[np.ndarray] = None, max_salient: int = 49,
             percentiles=np.linspace(10, 90, 81), damp: float = 0.01,
             compensate: bool = True, scale_dtype=np.float16) -> BiLLMWeight:
    """Binarizes W [N, K] (out, in); see the module docstring."""
    w = np.array(w, np.float64)
    n, k = w.shape
    if hessian is None and calib is not None:
        hessian = hessian_from_inputs(calib)
    hinv = None
    if hessian is not None:
        h = np.array(hessian, np.float64)
        dead = np.diag(h) == 0
        h[dead, dead] = 1.0
        w[:, dead] = 0.0
        h[np.diag_indices(k)] += damp * np.mean(np.diag(h))
        hinv = _hessian_inverse_chol(h)
    out = BiLLMWeight((n, k), block_size)
    for i1 in range(0, k, block_size):
        i2 = min(i1 + block_size, k)
        blk = w[:, i1:i2]
        width = i2 - i1
        if hinv is not None:
            d = np.diag(hinv)[i1:i2]
            score = blk ** 2 / d[None, :] ** 2
        else:
            score = np.abs(blk)
        order = np.argsort(-score.sum(axis=0), kind="stable")
        best = None
        for ns in range(1, max(1, min(max_salient, width - 1)) + 1):
            cols = np.sort(order[:ns])
            q_sal, mask, _, _ = _salient_part(blk, cols)
            rest = ~mask
            err = _masked_err(blk, q_sal, mask) + _masked_err(blk, _order2(blk, rest)[0], rest)
            if best is None or err < best[0]:
                best = (err, cols)
        cols = best[1]
        q_sal, salmask, (a1, m1, s1), (a2, m2, s2) = _salient_part(blk, cols, scale_dtype)
        sparse, _ = _split_search(blk, score, ~salmask, percentiles)
        conc = ~salmask & ~sparse
        _, ac, mc, sc = _binarize(blk, conc, scale_dtype)
        _, asp, msp, ssp = _binarize(blk, sparse, scale_dtype)
        signs1 = np.where(salmask, s1, np.where(sparse, ssp, sc)).astype(np.int8)
        salient = np.zeros(width, bool)
        salient[cols] = True
        block = BiLLMBlock(i1, salient, sparse, signs1, s2[:, salient].astype(np.int8),
                           np.stack([ac, asp, a1, a2], axis=1).astype(scale_dtype),
                           np.stack([mc, msp, m1, m2], axis=1).astype(scale_dtype))
        out.blocks.append(block)
        if hinv is not None and compensate and i2 < k:
            err = (blk - block.dequantize()) / np.diag(hinv)[None, i1:i2]
            w[:, i2:] -= err @ hinv[i1:i2, i2:]
    return out


def dequantize(q: BiLLMWeight) -> np.ndarray:
    return q.dequantize()


def pack(q: BiLLMWeight, scale_dtype=np.float16) -> dict:
    """Storage arrays (bit 1 = −1 for planes, = member for masks; LSB first).

    salient uint8 [blocks, ceil(bs/8)]; sparse and signs1 uint8 [N, ceil(K/8)];
    signs2 uint8 [N, ceil(total_salient/8)] (salient columns in order);
    alpha, mu ``scale_dtype`` [blocks, N, 4]; shape, block_size int64.
    With the quantizer's own ``scale_dtype`` (fp16 by default) the scales
    are stored unchanged, so unpack(pack(q)) dequantizes exactly as q does.
    """
    n, k = q.shape
    bs = q.block_size
    sal = np.zeros((len(q.blocks), bs), np.uint8)
    for i, b in enumerate(q.blocks):
        sal[i, : b.width] = b.salient
    sparse = np.concatenate([b.sparse for b in q.blocks], axis=1)
    s1 = np.concatenate([b.signs1 for b in q.blocks], axis=1)
    s2 = np.concatenate([b.signs2 for b in q.blocks], axis=1)
    return dict(
        shape=np.array([n, k], np.int64), block_size=np.array(bs, np.int64),
        salient=pack_bits(sal), sparse=pack_bits(sparse.astype(np.uint8)),
        signs1=pack_bits((s1 < 0).astype(np.uint8)),
        signs2=pack_bits((s2 < 0).astype(np.uint8)) if s2.shape[1] else np.zeros((n, 0), np.uint8),
        n_salient=np.array(s2.shape[1], np.int64),
        alpha=np.stack([b.alpha for b in q.blocks]).astype(scale_dtype),
        mu=np.stack([b.mu for b in q.blocks]).astype(scale_dtype))


def unpack(p: dict) -> BiLLMWeight:
    n, k = (int(v) for v in p["shape"])
    bs = int(p["block_size"])
    nb = -(-k // bs)
    sal = unpack_bits(p["salient"], bs).astype(bool)
    sparse = unpack_bits(p["sparse"], k).astype(bool)
    s1 = np.where(unpack_bits(p["signs1"], k) == 1, -1, 1).astype(np.int8)
    ns = int(p["n_salient"])
    s2 = (np.where(unpack_bits(p["signs2"], ns) == 1, -1, 1).astype(np.int8) if ns
          else np.zeros((n, 0), np.int8))
    out = BiLLMWeight((n, k), bs)
    c = 0
    for i in range(nb):
        i1, i2 = i * bs, min((i + 1) * bs, k)
        salient = sal[i, : i2 - i1]
        m = int(salient.sum())
        out.blocks.append(BiLLMBlock(i1, salient, sparse[:, i1:i2], s1[:, i1:i2],
                                     s2[:, c:c + m], p["alpha"][i], p["mu"][i]))
        c += m
    return out
