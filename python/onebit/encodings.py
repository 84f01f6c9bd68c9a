"""The ONNX encodings of one OneBit layer (docs/onnx-convention.md).

``emit(gb, x, layer, encoding)`` appends one layer to a GraphBuilder and
returns the output value name. Encodings:

- ``packed``: uint8 ``<name>.signs`` + the BitShift unpack subgraph.
- ``packed_int8``: the same bits stored as int8, with a leading Cast to uint8.
- ``folded``: ±1 weight constant (MatMul with Sᵀ [K, N], or Gemm with S
  [N, K] and transB=1 when the input is 2-D).
- ``merged``: one MatMul with W'[k, n] = round(g_k·s_nk·h_n).
- ``custom``: a ``onebit.OneBitLinear*`` node backed by a model-local function.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .graph import GraphBuilder, onnx_type
from .layer import OneBitLayer

ENCODINGS = ("packed", "packed_int8", "folded", "merged", "custom")
DOMAIN = "onebit"
DOMAIN_VERSION = 1
FUNCTION_ATTRIBUTES = ("in_features", "epsilon", "layer_norm")


def function_name(layer_norm: bool, bias: bool) -> str:
    """OneBitLinear, OneBitLinearBias, OneBitLinearNoNorm, OneBitLinearNoNormBias."""
    return "OneBitLinear" + ("" if layer_norm else "NoNorm") + ("Bias" if bias else "")


def _check_encoding(encoding: str):
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r}; choose from {', '.join(ENCODINGS)}")


def emit_unpack(gb: GraphBuilder, signs: str, n: int, k: int, prefix: str,
                int8: bool = False) -> str:
    """Packed signs [N, K8] -> ±1 matrix Sᵀ [K, N] in the activation dtype."""
    p = f"{prefix}/unpack"
    k8 = -(-k // 8)
    x = signs
    if int8:
        x = gb.node("Cast", [x], name=f"{p}/CastU8", to=TensorProto.UINT8)
    x = gb.unsqueeze(x, [2], name=f"{p}/Unsqueeze")
    x = gb.node("BitShift", [x, gb.const(np.arange(8), np.uint8, "onebit.unpack.shifts")],
                name=f"{p}/BitShift", direction="RIGHT")
    # BitwiseAnd exists from opset 18; Mod(·, 2) picks the same bit before that.
    if gb.opset >= 18:
        x = gb.node("BitwiseAnd", [x, gb.const(1, np.uint8, "onebit.unpack.one_u8")],
                    name=f"{p}/BitwiseAnd")
    else:
        x = gb.node("Mod", [x, gb.const(2, np.uint8, "onebit.unpack.two_u8")],
                    name=f"{p}/Mod", fmod=0)
    x = gb.node("Reshape", [x, gb.ints([n, k8 * 8], f"{prefix}.unpack_shape")],
                name=f"{p}/Reshape")
    if k8 * 8 != k:
        x = gb.slice(x, [0], [k], [1], name=f"{p}/Slice")
    x = gb.node("Cast", [x], name=f"{p}/Cast", to=onnx_type(gb.dtype))
    x = gb.node("Mul", [x, gb.const(-2.0, name="onebit.unpack.minus_two")], name=f"{p}/Mul")
    x = gb.node("Add", [x, gb.const(1.0, name="onebit.unpack.one")], name=f"{p}/Add")
    return gb.node("Transpose", [x], name=f"{p}/Transpose", perm=[1, 0])


def _epilogue(gb: GraphBuilder, y: str, layer: OneBitLayer, bias: Optional[str],
              ln_bias_input: bool, ln_square: str) -> str:
    if layer.layer_norm:
        y = gb.layer_norm(y, layer.N, layer.epsilon, layer.name, bias_input=ln_bias_input,
                          square=ln_square)
    if bias is not None:
        y = gb.node("Add", [y, bias], name=f"{layer.name}/AddBias")
    return y


def emit(gb: GraphBuilder, x: str, layer: OneBitLayer, encoding: str = "packed",
         x_rank: int = 3, ln_bias_input: bool = True, ln_square: str = "mul",
         use_gemm: Optional[bool] = None) -> str:
    """Appends ``layer`` applied to ``x`` ([..., K], rank ``x_rank``); returns Y [..., N].

    ``ln_bias_input=False`` writes LayerNormalization without its bias input;
    ``ln_square`` "mul" or "pow" picks the square in the opset < 17 LN
    decomposition; ``use_gemm`` (default: when x is 2-D) selects Gemm for
    the folded encoding.
    """
    _check_encoding(encoding)
    name, dt = layer.name, gb.dtype
    g, h, b = layer.params(dt)
    bias = gb.initializer(f"{name}.bias", b) if b is not None else None

    if encoding == "merged":
        wm = layer.merged(dt)
        a = np.abs(wm)
        if not (np.isfinite(a).all() and (a >= np.finfo(dt).tiny).all()):
            # a zero/subnormal/inf entry loses its sign or the rank-1 structure
            raise ValueError(f"{name}: g_k·h_n leaves the normal range of {dt.name}; "
                             "rescale the layer or use another encoding")
        w = gb.initializer(f"{name}.weight", wm)
        y = gb.node("MatMul", [x, w], name=f"{name}/MatMul")
        return _epilogue(gb, y, layer, bias, ln_bias_input, ln_square)

    if encoding == "custom":
        signs = gb.initializer(f"{name}.signs", layer.signs)
        gi = gb.initializer(f"{name}.input_scale", g)
        hi = gb.initializer(f"{name}.output_scale", h)
        fn = function_name(layer.layer_norm, bias is not None)
        if (DOMAIN, fn) not in gb.functions:
            gb.add_function(make_function(fn, gb.opset, dt), DOMAIN_VERSION)
        ins = [x, signs, gi, hi] + ([bias] if bias is not None else [])
        return gb.node(fn, ins, name=f"{name}/{fn}", domain=DOMAIN,
                       in_features=int(layer.K), epsilon=float(layer.epsilon),
                       layer_norm=int(layer.layer_norm))

    gi = gb.initializer(f"{name}.input_scale", g)
    hi = gb.initializer(f"{name}.output_scale", h)
    xg = gb.node("Mul", [x, gi], name=f"{name}/MulInputScale")
    if encoding == "folded":
        s = layer.dense_signs(dt)
        if use_gemm if use_gemm is not None else x_rank == 2:
            w = gb.initializer(f"{name}.weight", s)  # [N, K]
            y = gb.node("Gemm", [xg, w], name=f"{name}/Gemm", transB=1)
        else:
            w = gb.initializer(f"{name}.weight", np.ascontiguousarray(s.T))  # [K, N]
            y = gb.node("MatMul", [xg, w], name=f"{name}/MatMul")
    else:  # packed, packed_int8
        int8 = encoding == "packed_int8"
        signs = gb.initializer(f"{name}.signs", layer.signs.view(np.int8) if int8 else layer.signs)
        st = emit_unpack(gb, signs, layer.N, layer.K, name, int8=int8)
        y = gb.node("MatMul", [xg, st], name=f"{name}/MatMul")
    y = gb.node("Mul", [y, hi], name=f"{name}/MulOutputScale")
    return _epilogue(gb, y, layer, bias, ln_bias_input, ln_square)


# --- encoding 4: the model-local function ---------------------------------------

def _ref_attr(name: str, ref: str, attr_type: int) -> onnx.AttributeProto:
    a = onnx.AttributeProto()
    a.name, a.ref_attr_name, a.type = name, ref, attr_type
    return a


def make_function(fn_name: str, opset: int, dtype) -> onnx.FunctionProto:
    """FunctionProto ``onebit.<fn_name>`` built from encoding 1's standard ops.

    The body is specific to the model's activation ``dtype`` and ``opset``
    (Cast target, constant types, BitwiseAnd vs Mod, LayerNormalization vs
    its decomposition). Attribute references: ``in_features`` feeds the Slice
    end, ``epsilon`` the LayerNorm; ``layer_norm`` is declared but fixed by
    the function name (ONNX functions cannot branch on an attribute without If).
    """
    dtype = np.dtype(dtype)
    layer_norm = "NoNorm" not in fn_name
    bias = fn_name.endswith("Bias")
    nodes = []

    def const(out, arr):
        nodes.append(helper.make_node("Constant", [], [out],
                                      value=numpy_helper.from_array(np.asarray(arr), out)))
        return out

    def node(op, ins, out, **attrs):
        nodes.append(helper.make_node(op, ins, [out], **attrs))
        return out

    const("axes2", np.array([2], np.int64))
    x = node("Unsqueeze", ["signs", "axes2"], "u")
    const("shifts", np.arange(8, dtype=np.uint8))
    x = node("BitShift", [x, "shifts"], "shifted", direction="RIGHT")
    if opset >= 18:
        const("one_u8", np.array(1, np.uint8))
        x = node("BitwiseAnd", [x, "one_u8"], "bits")
    else:
        const("two_u8", np.array(2, np.uint8))
        x = node("Mod", [x, "two_u8"], "bits", fmod=0)
    const("flat", np.array([0, -1], np.int64))  # [N, K8*8] without knowing N
    x = node("Reshape", [x, "flat"], "bits2d")
    k = helper.make_node("Constant", [], ["k_scalar"])
    k.attribute.append(_ref_attr("value_int", "in_features", onnx.AttributeProto.INT))
    nodes.append(k)
    const("zero1", np.array([0], np.int64))
    const("one1", np.array([1], np.int64))
    node("Unsqueeze", ["k_scalar", "zero1"], "k1")
    x = node("Slice", [x, "zero1", "k1", "one1"], "bitsK")
    x = node("Cast", [x], "bitsf", to=onnx_type(dtype))
    const("minus_two", np.array(-2, dtype))
    const("one_f", np.array(1, dtype))
    x = node("Mul", [x, "minus_two"], "m2")
    x = node("Add", [x, "one_f"], "s")
    st = node("Transpose", [x], "st", perm=[1, 0])
    y = node("Mul", ["X", "g"], "xg")
    y = node("MatMul", [y, st], "mm")
    y = node("Mul", [y, "h"], "pre_ln" if (layer_norm or bias) else "Y")
    if layer_norm:
        out = "ln" if bias else "Y"
        if opset >= 17:
            node("Shape", ["h"], "n_shape")
            node("ConstantOfShape", ["n_shape"], "ln_scale",
                 value=numpy_helper.from_array(np.ones(1, dtype)))
            node("ConstantOfShape", ["n_shape"], "ln_bias",
                 value=numpy_helper.from_array(np.zeros(1, dtype)))
            ln = helper.make_node("LayerNormalization", [y, "ln_scale", "ln_bias"], [out],
                                  axis=-1)
            ln.attribute.append(_ref_attr("epsilon", "epsilon", onnx.AttributeProto.FLOAT))
            nodes.append(ln)
        else:
            node("ReduceMean", [y], "mean", axes=[-1], keepdims=1)
            node("Sub", [y, "mean"], "d")
            node("Mul", ["d", "d"], "d2")
            node("ReduceMean", ["d2"], "var", axes=[-1], keepdims=1)
            e = helper.make_node("Constant", [], ["eps32"])
            e.attribute.append(_ref_attr("value_float", "epsilon", onnx.AttributeProto.FLOAT))
            nodes.append(e)
            node("Cast", ["eps32"], "eps", to=onnx_type(dtype))
            node("Add", ["var", "eps"], "var_eps")
            node("Sqrt", ["var_eps"], "std")
            node("Div", ["d", "std"], out)
        y = out
    if bias:
        node("Add", [y, "bias"], "Y")
    inputs = ["X", "signs", "g", "h"] + (["bias"] if bias else [])
    return helper.make_function(DOMAIN, fn_name, inputs, ["Y"], nodes,
                                [helper.make_opsetid("", opset)],
                                attributes=list(FUNCTION_ATTRIBUTES),
                                doc_string=f"onebit {fn_name} (opset {opset}, {dtype.name}); "
                                           "see docs/onnx-convention.md")


# --- encoding 3: exactness and recovery -----------------------------------------

def _neighbours(c: np.ndarray, steps: int) -> np.ndarray:
    """[K] -> [K, 2·steps+1] candidates: c, c+1ulp, c−1ulp, c+2ulp, ... in c's dtype."""
    out = [c]
    up, down = c, c
    inf = np.array(np.inf, c.dtype)
    for _ in range(steps):
        up = np.nextafter(up, inf)
        down = np.nextafter(down, -inf)
        out += [up, down]
    return np.stack(out, axis=1)


def factor_merged(w: np.ndarray, chunk_rows: int = 512, steps: int = 2):
    """Recovers (S [N, K] int8, g [K], h [N]) from a merged weight W' [K, N].

    Succeeds iff W' is exactly a merged OneBit weight in its own dtype with
    the writers' normalisation g[0] = 1, i.e. for all k, n
    ``W'[k, n] == s_nk · round_dtype(g_k · h_n)`` (the real product, which
    float64 holds exactly, rounded once to nearest-even), with g, h > 0 and
    every |W'| a finite normal number. Returns None otherwise. The returned
    g, h reproduce W' bit-for-bit through reference.merged_weight.

    Algorithm (the one docs/onnx-convention.md asks the compiler for):
    h = |W'[0, :]|; for each k the candidate round(|W'[k, 0]| / h[0]) and its
    neighbours up to ``steps`` ulps are tried, keeping the first that
    reproduces the whole row.
    """
    w = np.asarray(w)
    if w.dtype not in (np.float16, np.float32) or w.ndim != 2:
        return None
    dt = w.dtype
    a = np.abs(w)
    tiny = np.finfo(dt).tiny
    if not (np.isfinite(a).all() and (a >= tiny).all()):
        return None
    h = a[0].copy()
    h64 = h.astype(np.float64)
    g = np.empty(a.shape[0], dt)
    for r0 in range(0, a.shape[0], chunk_rows):
        blk = a[r0:r0 + chunk_rows]
        c = (blk[:, 0].astype(np.float64) / h64[0]).astype(dt)
        cands = _neighbours(c, steps)
        chosen = np.full(blk.shape[0], -1)
        for j in range(cands.shape[1]):
            todo = chosen < 0
            if not todo.any():
                break
            cj = cands[todo, j]
            ok = (cj > 0) & np.isfinite(cj)
            prod = (cj.astype(np.float64)[:, None] * h64[None, :]).astype(dt)
            ok &= (prod == blk[todo]).all(axis=1)
            idx = np.nonzero(todo)[0][ok]
            chosen[idx] = j
        if (chosen < 0).any():
            return None
        g[r0:r0 + chunk_rows] = cands[np.arange(blk.shape[0]), chosen]
    s = np.where(w < 0, -1, 1).astype(np.int8).T
    return s, g, h


def is_pm1(w: np.ndarray) -> bool:
    """True when every entry is exactly +1 or −1 (encoding 2's weight)."""
    w = np.asarray(w)
    return w.size > 0 and bool(np.all((w == 1) | (w == -1)))
