import numpy as np

from onebit import reference as R
from onebit.packing import pack_signs


def test_layer_norm_matches_definition(rng):
    x = rng.standard_normal((3, 7))
    y = R.layer_norm(x, 1e-5)
    assert np.allclose(y.mean(-1), 0) and np.allclose((y * y).mean(-1), 1 / (1 + 1e-5 / x.var(-1)))
    w, b = rng.standard_normal(7), rng.standard_normal(7)
    assert np.allclose(R.layer_norm(x, 1e-5, w, b), y * w + b)


def test_onebit_linear_definition(rng):
    x = rng.standard_normal((2, 3, 10))
    s = np.where(rng.random((6, 10)) < 0.5, -1, 1)
    g, h, b = rng.random(10) + 0.5, rng.random(6) + 0.5, rng.standard_normal(6)
    pre = ((x * g) @ s.T) * h
    mu, var = pre.mean(-1, keepdims=True), pre.var(-1, keepdims=True)
    want = (pre - mu) / np.sqrt(var + 1e-5) + b
    assert np.allclose(R.onebit_linear(x, s, g, h, b), want)
    assert np.allclose(R.onebit_linear(x, s, g, h, b, use_layer_norm=False), pre + b)
    assert np.allclose(R.onebit_linear_packed(x, pack_signs(s), 10, g, h, b), want)


def test_merged_weight_single_rounding():
    g = np.array([1.0, 0.3333], np.float16)
    h = np.array([0.1, 3.0, 7.0], np.float16)
    s = np.array([[1, -1], [-1, 1], [1, 1]])
    w = R.merged_weight(s, g, h, np.float16)
    assert w.shape == (2, 3) and w.dtype == np.float16
    exact = g.astype(np.float64)[:, None] * h.astype(np.float64)[None, :] * s.T
    assert np.array_equal(w, exact.astype(np.float16))


def test_rms_norm(rng):
    x = rng.standard_normal((2, 5))
    y = R.rms_norm(x, epsilon=0)
    assert np.allclose((y * y).mean(-1), 1)


def test_rotary_preserves_norm_and_relative_position(rng):
    cos, sin = R.rotary_tables(6, 8)
    q = rng.standard_normal(8)
    k = rng.standard_normal(8)
    rq = R.apply_rotary(np.tile(q, (6, 1)), cos, sin)
    rk = R.apply_rotary(np.tile(k, (6, 1)), cos, sin)
    assert np.allclose(np.linalg.norm(rq, axis=-1), np.linalg.norm(q))
    # <R_m q, R_n k> depends on m - n only
    assert np.isclose(rq[3] @ rk[1], rq[5] @ rk[3])


def test_attention_is_causal(rng):
    q, k, v = (rng.standard_normal((1, 2, 5, 4)) for _ in range(3))
    out = R.attention(q, k, v, R.causal_mask(5))
    k2, v2 = k.copy(), v.copy()
    k2[..., 3:, :] += 10
    v2[..., 3:, :] -= 10
    out2 = R.attention(q, k2, v2, R.causal_mask(5))
    assert np.allclose(out[..., :3, :], out2[..., :3, :])
    assert not np.allclose(out[..., 3:, :], out2[..., 3:, :])


def test_activations():
    x = np.array([-1000.0, -1.0, 0.0, 2.0, 1000.0])
    assert np.allclose(R.sigmoid(x), [0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-2)), 1])
    assert np.allclose(R.silu(x)[1:4], x[1:4] * R.sigmoid(x[1:4]))
    assert np.allclose(R.softmax(np.array([[1.0, 1.0]])), 0.5)
