"""SVID: Sign-Value-Independent Decomposition (OneBit, arXiv 2402.11295 §3.2).

W ≈ S ⊙ (h gᵀ) with S = sign(W) (0 -> +1) and a rank-1 fit of |W|:
``W[n, k] ≈ S[n, k] · h[n] · g[k]``. Because |S| = 1 elementwise,
‖W − S ⊙ h gᵀ‖_F = ‖ |W| − h gᵀ ‖_F whenever h gᵀ ≥ 0, so the SVID error is
exactly the rank-1 approximation error of |W|.

Theory used by the tests: the best rank-1 fit of the non-negative matrix |W|
is given by its leading singular pair, which Perron–Frobenius lets us take
non-negative; rank-1 NMF with multiplicative updates is alternating least
squares, i.e. power iteration, and converges to the same optimum. The
per-row absmean baseline ``diag(mean|W_n|) · S`` is the rank-1 fit with g = 1
held fixed, so both SVID variants are never worse than it (NMF from our
init g = 1 starts exactly at the baseline and only decreases the error).
For iid Gaussian W all three sit near sqrt(1 − 2/π) ≈ 0.603.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SVIDResult:
    signs: np.ndarray  # int8 ±1 [N, K]
    g: np.ndarray  # [K] input factor
    h: np.ndarray  # [N] output scale
    iterations: int = 0

    def reconstruct(self) -> np.ndarray:
        return self.signs * np.outer(self.h, self.g)


def sign(w: np.ndarray) -> np.ndarray:
    """±1 int8 signs with sign(0) = +1 (and NaN -> +1)."""
    return np.where(np.asarray(w) < 0, -1, 1).astype(np.int8)


def rank1_nmf(a: np.ndarray, max_iter: int = 200, tol: float = 1e-6):
    """Rank-1 NMF of a non-negative [N, K] matrix: a ≈ h gᵀ.

    Lee–Seung multiplicative updates for the Frobenius loss; for rank 1 they
    reduce to h = A g / (gᵀg), g = Aᵀ h / (hᵀh). Deterministic init g = 1
    (OneBit used sklearn's seeded random init; the optimum is the same).
    Returns (h, g, iterations).
    """
    a = np.asarray(a, np.float64)
    if (a < 0).any():
        raise ValueError("rank1_nmf needs a non-negative matrix")
    n, k = a.shape
    g = np.ones(k)
    h = a @ g / (g @ g)
    err_prev = np.inf
    it = 0
    norm_a2 = float(np.vdot(a, a))
    for it in range(1, max_iter + 1):
        hh = h @ h
        if hh == 0:
            break
        g = g * (a.T @ h) / (g * hh + 1e-300)  # == aᵀh / hᵀh for rank 1
        gg = g @ g
        if gg == 0:
            break
        h = h * (a @ g) / (h * gg + 1e-300)
        # ‖A − h gᵀ‖² = ‖A‖² − 2 hᵀA g + ‖h‖²‖g‖², without forming h gᵀ
        err = norm_a2 - 2 * float(h @ (a @ g)) + float((h @ h) * (g @ g))
        if err_prev - err <= tol * max(norm_a2, 1e-300):
            break
        err_prev = err
    return h, g, it


def rank1_svd(a: np.ndarray):
    """Rank-1 fit from the leading singular pair: h = σ|u|, g = |v| (balanced).

    Returns (h, g). Costs a full thin SVD.
    """
    a = np.asarray(a, np.float64)
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    root = np.sqrt(s[0])
    return root * np.abs(u[:, 0]), root * np.abs(vt[0])


def balance(h: np.ndarray, g: np.ndarray):
    """Rescales so ‖h‖ = ‖g‖ (the product h gᵀ is unchanged)."""
    nh, ng = np.linalg.norm(h), np.linalg.norm(g)
    if nh == 0 or ng == 0:
        return h, g
    c = np.sqrt(ng / nh)
    return h * c, g / c


def normalize_scales(g: np.ndarray, h: np.ndarray):
    """Rescales so g[0] = 1 (h absorbs the factor), the writers' convention.

    Encoding 3 (merged) relies on it: with g[0] = 1, row 0 of |W'| is h
    exactly, so a compiler can recover (g, h) bit-exactly.
    """
    g = np.asarray(g, np.float64)
    h = np.asarray(h, np.float64)
    c = g[0]
    if not c > 0:
        raise ValueError("g[0] must be positive to normalise")
    return g / c, h * c


def svid(w: np.ndarray, method: str = "nmf", max_iter: int = 200, tol: float = 1e-6,
         normalize: bool = True) -> SVIDResult:
    """SVID of W [N, K] (out, in): returns signs [N, K], g [K], h [N].

    ``method`` "nmf" (OneBit's choice) or "svd". ``normalize`` makes g[0] = 1.
    """
    w = np.asarray(w, np.float64)
    if w.ndim != 2:
        raise ValueError(f"svid needs a 2-D weight, got {w.shape}")
    a = np.abs(w)
    it = 0
    if method == "nmf":
        h, g, it = rank1_nmf(a, max_iter=max_iter, tol=tol)
    elif method == "svd":
        h, g = rank1_svd(a)
    else:
        raise ValueError(f"unknown SVID method {method!r} (nmf or svd)")
    # g[0] == 0 (an all-zero input column) cannot be normalised; keep a tiny
    # positive floor so the scales stay strictly positive as the format wants.
    floor = 1e-12 * max(float(g.max(initial=0)), 1e-300)
    g = np.maximum(g, floor)
    h = np.maximum(h, 1e-12 * max(float(h.max(initial=0)), 1e-300))
    if normalize:
        g, h = normalize_scales(g, h)
    else:
        h, g = balance(h, g)
    return SVIDResult(sign(w), g, h, it)


def absmean_baseline(w: np.ndarray) -> np.ndarray:
    """Sign with per-row absmean scale: diag(mean_k |W[n, k]|) · sign(W)."""
    w = np.asarray(w, np.float64)
    return sign(w) * np.abs(w).mean(axis=1, keepdims=True)


def svid_error(w: np.ndarray, result: SVIDResult) -> float:
    """Relative Frobenius error ‖S ⊙ h gᵀ − W‖ / ‖W‖."""
    w = np.asarray(w, np.float64)
    return float(np.linalg.norm(result.reconstruct() - w) / np.linalg.norm(w))


def relative_error(approx: np.ndarray, w: np.ndarray) -> float:
    w = np.asarray(w, np.float64)
    return float(np.linalg.norm(np.asarray(approx, np.float64) - w) / np.linalg.norm(w))
