import numpy as np
import pytest

from onebit.svid import (absmean_baseline, normalize_scales, rank1_nmf, rank1_svd,
                         relative_error, sign, svid, svid_error)

IID_BOUND = np.sqrt(1 - 2 / np.pi)  # ≈ 0.6028: rank-1 error of |W| for iid Gaussian W


def test_sign_zero_is_plus_one():
    assert sign(np.array([-2.0, 0.0, -0.0, 3.0])).tolist() == [-1, 1, 1, 1]


@pytest.mark.parametrize("shape", [(256, 512), (512, 256), (300, 300)])
def test_iid_gaussian_error_band(shape):
    w = np.random.default_rng(0).standard_normal(shape)
    base = relative_error(absmean_baseline(w), w)
    for method in ("nmf", "svd"):
        err = svid_error(w, svid(w, method))
        # slightly below sqrt(1 - 2/π): the rank-1 fit also absorbs a little noise
        assert 0.58 < err <= IID_BOUND + 1e-3
        # the baseline is a feasible rank-1 fit (g = 1), so SVID cannot be worse
        assert err <= base + 1e-12
    assert abs(base - IID_BOUND) < 0.01


def test_nmf_and_svd_reach_the_same_optimum():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((128, 192)) * np.exp(rng.standard_normal(128))[:, None]
    e_nmf = svid_error(w, svid(w, "nmf"))
    e_svd = svid_error(w, svid(w, "svd"))
    assert abs(e_nmf - e_svd) < 1e-6


def test_structured_scales_beat_baseline_clearly():
    rng = np.random.default_rng(2)
    a, b = np.exp(rng.standard_normal(200)), np.exp(rng.standard_normal(300))
    w = rng.standard_normal((200, 300)) * a[:, None] * b[None, :]
    err = svid_error(w, svid(w))
    base = relative_error(absmean_baseline(w), w)
    assert err < 0.65 and base > err + 0.1


def test_exact_rank1_magnitudes_recovered():
    rng = np.random.default_rng(3)
    s = np.where(rng.random((40, 60)) < 0.5, -1.0, 1.0)
    w = s * np.outer(rng.uniform(0.5, 2, 40), rng.uniform(0.5, 2, 60))
    for method in ("nmf", "svd"):
        r = svid(w, method)
        assert svid_error(w, r) < 1e-9
        assert np.array_equal(r.signs, sign(w))


def test_scales_positive_and_normalised():
    w = np.random.default_rng(4).standard_normal((30, 20))
    r = svid(w)
    assert r.g[0] == 1.0 and (r.g > 0).all() and (r.h > 0).all()
    g, h = normalize_scales(r.g * 3, r.h / 3)
    assert g[0] == 1.0 and np.allclose(np.outer(h, g), np.outer(r.h, r.g))
    r2 = svid(w, normalize=False)
    assert np.isclose(np.linalg.norm(r2.g), np.linalg.norm(r2.h))


def test_nmf_monotone_from_baseline():
    rng = np.random.default_rng(5)
    a = np.abs(rng.standard_normal((50, 70))) * np.exp(rng.standard_normal(70))
    errs = []
    for it in (1, 2, 5, 50):
        h, g, _ = rank1_nmf(a, max_iter=it, tol=0)
        errs.append(np.linalg.norm(a - np.outer(h, g)))
    assert all(x >= y - 1e-12 for x, y in zip(errs, errs[1:]))
    h, g = rank1_svd(a)
    assert errs[-1] <= np.linalg.norm(a - np.outer(h, g)) + 1e-6


def test_nmf_rejects_negative():
    with pytest.raises(ValueError):
        rank1_nmf(-np.ones((2, 2)))
