"""Finds the OneBit layers in an ONNX model by structure (not by name).

This is the Python reference of the compiler's pattern matching: it accepts
exactly the patterns of docs/onnx-convention.md (the writers' forms plus the
documented alternatives) and reports, per layer, its name (the initializer
prefix), N, K, encoding, LayerNorm and bias.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import numpy as np
import onnx
from onnx import numpy_helper

from .encodings import DOMAIN, factor_merged, is_pm1

FUNCTION_NAMES = {"OneBitLinear": (True, False), "OneBitLinearBias": (True, True),
                  "OneBitLinearNoNorm": (False, False), "OneBitLinearNoNormBias": (False, True)}


@dataclass
class LayerInfo:
    name: str
    out_features: int
    in_features: int
    encoding: str
    layer_norm: bool
    epsilon: Optional[float]
    bias: bool
    nbytes: int = 0  # bytes of this layer's weight initializers
    nodes: List[str] = field(default_factory=list)

    def as_dict(self):
        d = asdict(self)
        d.pop("nodes")
        return d


def _strip(name: str) -> str:
    for suffix in (".signs", ".weight"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


class _Graph:
    def __init__(self, model: onnx.ModelProto, base_dir: Optional[str], load_large: bool):
        g = model.graph
        self.base_dir = base_dir
        self.load_large = load_large
        self.inits = {t.name: t for t in g.initializer}
        self.producer: Dict[str, onnx.NodeProto] = {}
        self.consumers: Dict[str, List[onnx.NodeProto]] = {}
        for n in g.node:
            for o in n.output:
                self.producer[o] = n
            for i in dict.fromkeys(n.input):  # Mul(d, d) consumes d once
                if i:
                    self.consumers.setdefault(i, []).append(n)
        self.graph_outputs = {o.name for o in g.output}
        self._cache: Dict[str, np.ndarray] = {}

    def shape(self, name) -> Optional[tuple]:
        if name in self.inits:
            return tuple(self.inits[name].dims)
        v = self.value(name, small_only=True)
        return None if v is None else v.shape

    def nbytes(self, name) -> int:
        t = self.inits.get(name)
        if t is None:
            return 0
        return int(np.prod(t.dims, dtype=np.int64)) * np.dtype(
            onnx.helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize

    def value(self, name, small_only=False) -> Optional[np.ndarray]:
        """Constant value of an initializer or Constant output, else None."""
        if name in self._cache:
            return self._cache[name]
        v = None
        if name in self.inits:
            t = self.inits[name]
            external = t.data_location == onnx.TensorProto.EXTERNAL
            if external and (small_only or not self.load_large):
                return None
            v = numpy_helper.to_array(t, self.base_dir or "")
        elif name in self.producer and self.producer[name].op_type == "Constant":
            n = self.producer[name]
            for a in n.attribute:
                if a.name == "value":
                    v = numpy_helper.to_array(a.t)
                elif a.name == "value_float":
                    v = np.array(a.f, np.float32)
                elif a.name == "value_floats":
                    v = np.array(a.floats, np.float32)
                elif a.name == "value_int":
                    v = np.array(a.i, np.int64)
                elif a.name == "value_ints":
                    v = np.array(a.ints, np.int64)
        if v is not None and v.size <= 1 << 16:
            self._cache[name] = v
        return v

    def only_consumer(self, name) -> Optional[onnx.NodeProto]:
        c = self.consumers.get(name, [])
        if len(c) != 1 or name in self.graph_outputs:
            return None
        return c[0]

    def prod(self, name, op) -> Optional[onnx.NodeProto]:
        n = self.producer.get(name)
        return n if n is not None and n.op_type == op else None


def _attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _scalar_eq(v, x) -> bool:
    return v is not None and v.size == 1 and float(v.reshape(-1)[0]) == x


def _other(node, name):
    """The input of a binary node that is not ``name``."""
    a, b = node.input[0], node.input[1]
    return b if a == name else a if b == name else None


def _match_unpack(G: _Graph, w: str):
    """Encoding 1's unpack chain ending in ``w`` -> (signs name, N, K, int8, nodes)."""
    nodes = []
    t = G.prod(w, "Transpose")
    if t is None or list(_attr(t, "perm", [])) != [1, 0]:
        return None
    nodes.append(t)
    add = G.prod(t.input[0], "Add")
    if add is None:
        return None
    mul_in = next((i for i in add.input if G.prod(i, "Mul") is not None), None)
    if mul_in is None or not _scalar_eq(G.value(_other(add, mul_in)), 1.0):
        return None
    mul = G.prod(mul_in, "Mul")
    cast_in = next((i for i in mul.input if G.prod(i, "Cast") is not None), None)
    if cast_in is None or not _scalar_eq(G.value(_other(mul, cast_in)), -2.0):
        return None
    cast = G.prod(cast_in, "Cast")
    nodes += [add, mul, cast]
    x = cast.input[0]
    k = None
    sl = G.prod(x, "Slice")
    if sl is not None:
        starts, ends = G.value(sl.input[1]), G.value(sl.input[2])
        axes = G.value(sl.input[3]) if len(sl.input) > 3 and sl.input[3] else None
        steps = G.value(sl.input[4]) if len(sl.input) > 4 and sl.input[4] else None
        if (starts is None or ends is None or list(starts.reshape(-1)) != [0]
                or axes is None or list(axes.reshape(-1)) != [1]
                or (steps is not None and list(steps.reshape(-1)) != [1])):
            return None
        k = int(ends.reshape(-1)[0])
        nodes.append(sl)
        x = sl.input[0]
    rs = G.prod(x, "Reshape")
    if rs is None:
        return None
    nodes.append(rs)
    shape = G.value(rs.input[1])
    pick = G.producer.get(rs.input[0])
    if pick is None or pick.op_type not in ("BitwiseAnd", "Mod"):
        return None
    want = 1 if pick.op_type == "BitwiseAnd" else 2
    if (G.value(pick.input[1]) is None or G.value(pick.input[1]).dtype != np.uint8
            or not _scalar_eq(G.value(pick.input[1]), want)
            or (pick.op_type == "Mod" and _attr(pick, "fmod", 0) != 0)):
        return None
    nodes.append(pick)
    bs = G.prod(pick.input[0], "BitShift")
    if bs is None or _attr(bs, "direction") not in ("RIGHT", b"RIGHT"):
        return None
    shifts = G.value(bs.input[1])
    if shifts is None or shifts.dtype != np.uint8 or list(shifts.reshape(-1)) != list(range(8)):
        return None
    nodes.append(bs)
    un = G.prod(bs.input[0], "Unsqueeze")
    if un is None or G.value(un.input[1]) is None or list(G.value(un.input[1]).reshape(-1)) not in ([2], [-1]):
        return None
    nodes.append(un)
    src = un.input[0]
    int8 = False
    c8 = G.prod(src, "Cast")
    if c8 is not None:
        if _attr(c8, "to") != onnx.TensorProto.UINT8:
            return None
        nodes.append(c8)
        src, int8 = c8.input[0], True
    t = G.inits.get(src)
    if t is None or len(t.dims) != 2:
        return None
    want_type = onnx.TensorProto.INT8 if int8 else onnx.TensorProto.UINT8
    if t.data_type != want_type:
        return None
    n, k8 = (int(d) for d in t.dims)
    if shape is None or list(shape.reshape(-1)) not in ([n, k8 * 8], [0, -1], [-1, k8 * 8], [n, -1]):
        return None
    k = k8 * 8 if k is None else k
    if not 8 * (k8 - 1) < k <= 8 * k8:
        return None
    return src, n, k, int8, nodes


def _match_ln(G: _Graph, y: str):
    """LayerNorm without affine after ``y`` -> (output, epsilon, nodes) or None."""
    c = G.only_consumer(y)
    if c is not None and c.op_type == "LayerNormalization":
        axis = _attr(c, "axis", -1)
        if axis != -1 or c.input[0] != y or len([o for o in c.output if o]) != 1:
            return None
        scale = G.value(c.input[1])
        if scale is None or not np.all(scale == 1):
            return None
        if len(c.input) > 2 and c.input[2]:
            b = G.value(c.input[2])
            if b is None or not np.all(b == 0):
                return None
        return c.output[0], float(_attr(c, "epsilon", 1e-5)), [c]
    # opset < 17 decomposition: ReduceMean, Sub, Mul(d,d)|Pow(d,2), ReduceMean,
    # Add eps, Sqrt, Div
    cons = G.consumers.get(y, [])
    if len(cons) != 2 or y in G.graph_outputs:
        return None
    rm = next((n for n in cons if n.op_type == "ReduceMean"), None)
    sub = next((n for n in cons if n.op_type == "Sub"), None)
    if rm is None or sub is None or list(sub.input) != [y, rm.output[0]]:
        return None

    def last_axis_mean(n):
        axes = _attr(n, "axes")
        if axes is None and len(n.input) > 1 and n.input[1]:
            v = G.value(n.input[1])
            axes = None if v is None else list(v.reshape(-1))
        return axes is not None and list(axes) == [-1] and _attr(n, "keepdims", 1) == 1

    if not last_axis_mean(rm):
        return None
    d = sub.output[0]
    dc = G.consumers.get(d, [])
    sq = next((n for n in dc if n.op_type in ("Mul", "Pow")), None)
    div = next((n for n in dc if n.op_type == "Div"), None)
    if sq is None or div is None or len(dc) != 2 or div.input[0] != d:
        return None
    if sq.op_type == "Mul" and list(sq.input) != [d, d]:
        return None
    if sq.op_type == "Pow" and (sq.input[0] != d or not _scalar_eq(G.value(sq.input[1]), 2.0)):
        return None
    rm2 = G.only_consumer(sq.output[0])
    if rm2 is None or rm2.op_type != "ReduceMean" or not last_axis_mean(rm2):
        return None
    add = G.only_consumer(rm2.output[0])
    if add is None or add.op_type != "Add":
        return None
    eps = G.value(_other(add, rm2.output[0]))
    if eps is None or eps.size != 1:
        return None
    sqrt = G.only_consumer(add.output[0])
    if sqrt is None or sqrt.op_type != "Sqrt" or div.input[1] != sqrt.output[0]:
        return None
    return div.output[0], float(eps.reshape(-1)[0]), [rm, sub, sq, rm2, add, sqrt, div]


def _vector_const(G: _Graph, node, x, n):
    """The constant [n] operand of a binary node whose other operand is x."""
    o = _other(node, x)
    if o is None:
        return None
    shp = G.shape(o)
    return o if shp == (n,) and (o in G.inits or G.value(o) is not None) else None


def _epilogue(G: _Graph, y: str, n: int, info: LayerInfo):
    ln = _match_ln(G, y)
    if ln is not None:
        y, info.epsilon, nodes = ln
        info.layer_norm = True
        info.nodes += [m.name for m in nodes]
    c = G.only_consumer(y)
    if c is not None and c.op_type == "Add":
        b = _vector_const(G, c, y, n)
        if b is not None:
            info.bias = True
            info.nbytes += G.nbytes(b)
            info.nodes.append(c.name)


def _match_linear(G: _Graph, mm: onnx.NodeProto) -> Optional[LayerInfo]:
    w = mm.input[1]
    x = mm.input[0]
    gemm = mm.op_type == "Gemm"
    if gemm:
        if (_attr(mm, "transA", 0) != 0 or _attr(mm, "alpha", 1.0) != 1.0
                or (len(mm.input) > 2 and mm.input[2])):
            return None
    unpack = None if gemm else _match_unpack(G, w)
    scaled = G.prod(x, "Mul")
    if unpack is not None:
        signs, n, k, int8, nodes = unpack
        enc = "packed_int8" if int8 else "packed"
        nbytes = G.nbytes(signs)
        name = _strip(signs)
        nodes = [m.name for m in nodes]
    else:
        shp = G.shape(w) if w in G.inits else None
        if shp is None or len(shp) != 2:
            return None
        if gemm:
            if _attr(mm, "transB", 0) != 1:
                return None
            n, k = shp
        else:
            k, n = shp
        val = G.value(w)
        if val is None:
            return None
        if is_pm1(val):
            enc = "folded"
        elif not gemm and factor_merged(val) is not None:
            enc = "merged"
        else:
            return None
        nbytes = G.nbytes(w)
        name = _strip(w)
        nodes = []
    info = LayerInfo(name, n, k, enc, False, None, False, nbytes, nodes + [mm.name])
    if enc == "merged":
        _epilogue(G, mm.output[0], n, info)
        return info
    # g: Mul(X, g[K]) feeding the MatMul; h: Mul(·, h[N]) right after it
    if scaled is None or G.only_consumer(scaled.output[0]) is None:
        return None
    gname = next((i for i in scaled.input if G.shape(i) == (k,) and i in G.inits), None)
    c = G.only_consumer(mm.output[0])
    hname = _vector_const(G, c, mm.output[0], n) if c is not None and c.op_type == "Mul" else None
    if gname is None or hname is None:
        return None
    info.nbytes += G.nbytes(gname) + G.nbytes(hname)
    info.nodes = [scaled.name] + info.nodes + [c.name]
    _epilogue(G, c.output[0], n, info)
    return info


def _match_custom(G: _Graph, node: onnx.NodeProto) -> LayerInfo:
    if node.op_type not in FUNCTION_NAMES:
        raise ValueError(f"unknown op {DOMAIN}.{node.op_type} (node {node.name!r})")
    ln, has_bias = FUNCTION_NAMES[node.op_type]
    ins = [i for i in node.input]
    if len(ins) != (5 if has_bias else 4) or not all(ins):
        raise ValueError(f"{node.op_type} node {node.name!r} has {len(ins)} inputs")
    k = _attr(node, "in_features")
    if k is None:
        raise ValueError(f"{node.op_type} node {node.name!r} lacks in_features")
    if int(_attr(node, "layer_norm", 1 if ln else 0)) != int(ln):
        raise ValueError(f"{node.op_type} node {node.name!r}: layer_norm attribute "
                         "contradicts the op name")
    shp = G.shape(ins[1])
    if shp is None or len(shp) != 2 or shp[1] != -(-int(k) // 8):
        raise ValueError(f"{node.name!r}: signs shape {shp} does not fit in_features={k}")
    n = int(shp[0])
    nbytes = sum(G.nbytes(i) for i in ins[1:])
    return LayerInfo(_strip(ins[1]), n, int(k), "custom", ln,
                     float(_attr(node, "epsilon", 1e-5)) if ln else None, has_bias, nbytes,
                     [node.name])


def find_layers(model, base_dir: Optional[str] = None,
                load_large: bool = True) -> List[LayerInfo]:
    """OneBit layers of ``model`` (a ModelProto or a path), in graph order.

    ``load_large=False`` skips reading external-data weights: packed and
    custom layers are still found, folded/merged ones (whose detection needs
    the weight values) are not.
    """
    if isinstance(model, (str, os.PathLike)):
        base_dir = base_dir or os.path.dirname(os.fspath(model))
        model = onnx.load(os.fspath(model), load_external_data=False)
    G = _Graph(model, base_dir, load_large)
    found = []
    for node in model.graph.node:
        if node.domain == DOMAIN:
            found.append(_match_custom(G, node))
        elif node.op_type in ("MatMul", "Gemm") and node.domain in ("", "ai.onnx"):
            info = _match_linear(G, node)
            if info is not None:
                found.append(info)
    return found


def metadata_layers(model) -> Optional[list]:
    """The writer's ``onebit.layers`` metadata (a list of dicts), if present."""
    if isinstance(model, (str, os.PathLike)):
        model = onnx.load(os.fspath(model), load_external_data=False)
    for p in model.metadata_props:
        if p.key == "onebit.layers":
            return json.loads(p.value)
    return None
