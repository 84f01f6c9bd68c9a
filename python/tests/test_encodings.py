import numpy as np
import onnx
import pytest
from conftest import FP16_LAYER_TOL, FP32_TOL, rel_max_err, run_model
from onnx import TensorProto, helper, numpy_helper

from onebit import encodings as E
from onebit.detect import find_layers
from onebit.graph import GraphBuilder, onnx_type
from onebit.layer import OneBitLayer, random_layer
from onebit.reference import merged_weight

TOL = {np.float32: FP32_TOL, np.float16: FP16_LAYER_TOL}


def single_layer(layer, encoding, dtype, opset, shape, **kw):
    gb = GraphBuilder(opset, dtype)
    x = gb.input("x", onnx_type(dtype), shape)
    y = E.emit(gb, x, layer, encoding, x_rank=len(shape), **kw)
    gb.output(y, "y", onnx_type(dtype), list(shape[:-1]) + [layer.N])
    return gb.model()


def check_layer(layer, encoding, dtype, opset, shape, rng, **kw):
    m = single_layer(layer, encoding, dtype, opset, shape, **kw)
    onnx.checker.check_model(m, full_check=True)
    x = rng.standard_normal(shape).astype(dtype)
    (y,) = run_model(m, {"x": x})
    assert y.dtype == dtype and y.shape == tuple(shape[:-1]) + (layer.N,)
    err = rel_max_err(y, layer.forward(x, dtype, encoding))
    assert err <= TOL[dtype], (encoding, dtype, opset, err)
    return m


@pytest.mark.parametrize("opset", [13, 21])
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
@pytest.mark.parametrize("encoding", E.ENCODINGS)
@pytest.mark.parametrize("ln,bias", [(True, False), (True, True), (False, False), (False, True)])
def test_encoding_matches_reference(rng, opset, dtype, encoding, ln, bias):
    for k in (24, 13):  # K multiple of 8, and not
        layer = random_layer(rng, "blk.proj", 10, k, bias=bias, layer_norm=ln)
        m = check_layer(layer, encoding, dtype, opset, [2, 3, k], rng)
        (info,) = find_layers(m)
        assert (info.name, info.out_features, info.in_features, info.encoding, info.layer_norm,
                info.bias) == ("blk.proj", 10, k, encoding, ln, bias)


@pytest.mark.parametrize("opset", [16, 17, 18])
@pytest.mark.parametrize("encoding", ["packed", "packed_int8", "custom"])
def test_opset_boundaries(rng, opset, encoding):
    layer = random_layer(rng, "l", 7, 19, bias=True)
    m = check_layer(layer, encoding, np.float32, opset, [4, 19], rng)
    ops = {n.op_type for n in m.graph.node} | {n.op_type for f in m.functions for n in f.node}
    if encoding != "custom":
        assert ("LayerNormalization" in ops) == (opset >= 17)
    assert ("BitwiseAnd" in ops) == (opset >= 18) and ("Mod" in ops) == (opset < 18)


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_folded_gemm_on_2d_input(rng, dtype):
    layer = random_layer(rng, "g", 12, 20, bias=True)
    m = check_layer(layer, "folded", dtype, 17, [5, 20], rng)
    assert "Gemm" in {n.op_type for n in m.graph.node}
    m = check_layer(layer, "folded", dtype, 17, [5, 20], rng, use_gemm=False)
    assert "Gemm" not in {n.op_type for n in m.graph.node}
    assert find_layers(m)[0].encoding == "folded"


@pytest.mark.parametrize("opset", [13, 17])
def test_layer_norm_alternatives(rng, opset):
    layer = random_layer(rng, "l", 9, 16)
    for kw in (dict(ln_bias_input=False), dict(ln_square="pow")):
        m = check_layer(layer, "packed", np.float32, opset, [3, 16], rng, **kw)
        (info,) = find_layers(m)
        assert info.layer_norm and abs(info.epsilon - 1e-5) < 1e-9
    if opset >= 17:
        ln = [n for n in m.graph.node if n.op_type == "LayerNormalization"]
        assert len(ln) == 1


def test_custom_epsilon_attribute_is_used(rng):
    layer = random_layer(rng, "l", 6, 10, bias=True, epsilon=0.5)
    for opset in (13, 17):
        m = check_layer(layer, "custom", np.float32, opset, [2, 10], rng)
        node = m.graph.node[0]
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        assert node.domain == "onebit" and node.op_type == "OneBitLinearBias"
        assert attrs["in_features"] == 10 and attrs["layer_norm"] == 1
        assert abs(attrs["epsilon"] - 0.5) < 1e-7
        assert ("onebit", 1) in [(o.domain, o.version) for o in m.opset_import]


def test_custom_function_names():
    assert [E.function_name(ln, b) for ln in (True, False) for b in (False, True)] == [
        "OneBitLinear", "OneBitLinearBias", "OneBitLinearNoNorm", "OneBitLinearNoNormBias"]


def test_int8_cast_wraps_modulo_256():
    vals = np.array([-128, -1, 0, 1, 127], np.int8)
    g = helper.make_graph([helper.make_node("Cast", ["x"], ["y"], to=TensorProto.UINT8)], "c",
                          [helper.make_tensor_value_info("x", TensorProto.INT8, [5])],
                          [helper.make_tensor_value_info("y", TensorProto.UINT8, [5])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    (y,) = run_model(m, {"x": vals})
    assert y.tolist() == vals.view(np.uint8).tolist() == [128, 255, 0, 1, 127]


def test_packed_int8_storage_is_int8(rng):
    layer = random_layer(rng, "l", 4, 16)
    m = single_layer(layer, "packed_int8", np.float32, 17, [1, 16])
    t = {i.name: i for i in m.graph.initializer}["l.signs"]
    assert t.data_type == TensorProto.INT8
    assert np.array_equal(numpy_helper.to_array(t).view(np.uint8), layer.signs)


def test_unpack_subgraph_alone_gives_signs(rng):
    # the unpack pattern of §3.2 by itself, on every byte value
    for k in (16, 13):
        s = np.where(rng.random((256, k)) < 0.5, -1, 1)
        layer = OneBitLayer.from_dense("u", s, np.ones(k), np.ones(256))
        for opset in (13, 18):
            gb = GraphBuilder(opset, np.float32)
            sg = gb.initializer("u.signs", layer.signs)
            st = E.emit_unpack(gb, sg, 256, k, "u")
            gb.output(st, "st", TensorProto.FLOAT, [k, 256])
            (out,) = run_model(gb.model(), {})
            assert np.array_equal(out, s.T)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_merged_factorisation_bit_exact(rng, dtype):
    for _ in range(25):
        n, k = (int(v) for v in rng.integers(1, 60, 2))
        layer = random_layer(rng, "m", n, k, spread=float(rng.uniform(0, 0.8)))
        w = layer.merged(dtype)
        got = E.factor_merged(w)
        assert got is not None
        s, g, h = got
        assert np.array_equal(s, layer.dense_signs())
        assert np.array_equal(merged_weight(s, g, h, dtype).view(np.uint8), w.view(np.uint8))
        assert g[0] == 1 and np.array_equal(h, layer.params(dtype)[1])


def test_merged_factorisation_rejects(rng):
    layer = random_layer(rng, "m", 20, 30)
    w = layer.merged(np.float32)
    bad = w.copy()
    for _ in range(3):
        bad[7, 9] = np.nextafter(bad[7, 9], np.float32(np.inf))
    assert E.factor_merged(bad) is None
    assert E.factor_merged(rng.standard_normal((30, 20)).astype(np.float32)) is None
    zero = w.copy()
    zero[1, 1] = 0
    assert E.factor_merged(zero) is None
    assert E.factor_merged(w.astype(np.float64)) is None


def test_merged_refuses_out_of_range(rng):
    layer = random_layer(rng, "m", 4, 8)
    layer.h = layer.h * 1e-6  # g·h below fp16's normal range
    with pytest.raises(ValueError, match="normal range"):
        single_layer(layer, "merged", np.float16, 17, [1, 8])


def test_unknown_encoding(rng):
    with pytest.raises(ValueError, match="unknown encoding"):
        single_layer(random_layer(rng, "l", 2, 8), "ternary", np.float32, 17, [1, 8])


def test_detect_rejects_inconsistent_custom_node(rng):
    layer = random_layer(rng, "l", 6, 10)
    m = single_layer(layer, "custom", np.float32, 17, [2, 10])
    bad = onnx.ModelProto()
    bad.CopyFrom(m)
    for a in bad.graph.node[0].attribute:
        if a.name == "layer_norm":
            a.i = 0
    with pytest.raises(ValueError, match="contradicts"):
        find_layers(bad)
    bad.CopyFrom(m)
    for a in bad.graph.node[0].attribute:
        if a.name == "in_features":
            a.i = 17
    with pytest.raises(ValueError, match="does not fit"):
        find_layers(bad)
    bad.CopyFrom(m)
    bad.graph.node[0].op_type = "OneBitConv"
    with pytest.raises(ValueError, match="unknown op"):
        find_layers(bad)


def test_detect_ignores_non_onebit_patterns(rng):
    # an affine LayerNorm (scale != 1) is not OneBit's: the layer is found without LN
    layer = random_layer(rng, "l", 8, 16)
    m = single_layer(layer, "packed", np.float32, 17, [2, 16])
    for t in m.graph.initializer:
        if t.name == "l.ln_scale":
            t.CopyFrom(numpy_helper.from_array(np.full(8, 2.0, np.float32), t.name))
    (info,) = find_layers(m)
    assert not info.layer_norm
    # shifts not 0..7: no layer at all
    for t in m.graph.initializer:
        if t.name == "onebit.unpack.shifts":
            t.CopyFrom(numpy_helper.from_array(np.arange(7, -1, -1).astype(np.uint8), t.name))
    assert find_layers(m) == []
