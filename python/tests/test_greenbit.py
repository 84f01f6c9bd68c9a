import numpy as np
import pytest

from onebit import greenbit as G
from onebit.svid import absmean_baseline, relative_error

W = np.random.default_rng(0).standard_normal((32, 256))


@pytest.fixture(scope="module")
def errors():
    return {(b, gs): relative_error(G.quantize(W, b, gs).dequantize(), W)
            for b in (1, 2) for gs in (8, 16, 32)}


def test_error_ordering(errors):
    for gs in (8, 16, 32):
        assert errors[2, gs] < errors[1, gs]  # more bits, less error
    for b in (1, 2):
        assert errors[b, 8] < errors[b, 16] < errors[b, 32]  # smaller groups, less error
    # per-group offset helps over per-row sign·absmean (≈0.60)
    assert errors[1, 32] < relative_error(absmean_baseline(W), W)
    assert 0.15 < errors[2, 8] < 0.3 and errors[2, 32] < 0.35


def test_search_and_refit_help():
    for b in (1, 2):
        plain = relative_error(G.quantize(W, b, 16, clip_search=False, refit=False).dequantize(), W)
        assert relative_error(G.quantize(W, b, 16).dequantize(), W) <= plain


@pytest.mark.parametrize("bits", [1, 2])
@pytest.mark.parametrize("k,gs", [(256, 8), (256, 16), (256, 32), (40, 8), (48, 16), (96, 32)])
def test_pack_round_trip(bits, gs, k):
    # K = 40 and 48 leave pad codes in the last 1-bit word (40, 48 not multiples of 32)
    q = G.quantize(W[:, :k], bits, gs)
    assert q.q.max() < (1 << bits)
    p = G.pack(q)
    assert p["qweight"].dtype == np.int32
    assert p["qweight"].shape == (-(-k * bits // 32), 32) and p["scales"].shape == (k // gs, 32)
    u = G.unpack(p)
    assert np.array_equal(u.q, q.q) and np.array_equal(u.scale, q.scale)
    assert np.array_equal(u.dequantize(), q.dequantize())


def test_qweight_bit_layout():
    # code of element k of column n: word k // (32/b), bits (k mod 32/b)·b, LSB first
    q = np.zeros((2, 32), np.uint8)
    q[1, 17] = 3
    gq = G.GroupQuant(2, 32, q, np.ones((2, 1), np.float16), np.zeros((2, 1), np.float16))
    qw = G.pack(gq)["qweight"].view(np.uint32)
    assert qw.shape == (2, 2) and qw[1, 1] == 3 << 2 and qw[0].sum() == 0 and qw[1, 0] == 0


def test_bad_arguments():
    with pytest.raises(ValueError):
        G.quantize(W, 3, 8)
    with pytest.raises(ValueError):
        G.quantize(W, 2, 64)
    with pytest.raises(ValueError):
        G.quantize(W[:, :20], 2, 16)
