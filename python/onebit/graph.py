"""A small ONNX graph builder: unique names, typed constants, opset-aware
helpers, and initializers that can stream straight to an external-data file.
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MIN_OPSET, MAX_OPSET = 13, 21

DTYPES = {"float32": np.float32, "fp32": np.float32, "float": np.float32,
          "float16": np.float16, "fp16": np.float16, "half": np.float16}


def np_dtype(dtype) -> np.dtype:
    """'fp32'/'fp16'/np dtype -> np.dtype (only float32 and float16 allowed)."""
    if isinstance(dtype, str):
        if dtype not in DTYPES:
            raise ValueError(f"unknown dtype {dtype!r} (float32 or float16)")
        return np.dtype(DTYPES[dtype])
    d = np.dtype(dtype)
    if d not in (np.float32, np.float16):
        raise ValueError(f"activations must be float32 or float16, got {d}")
    return d


def onnx_type(dtype) -> int:
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def ir_version_for(opset: int) -> int:
    """Lowest IR version that allows ``opset`` and model-local functions (IR 8)."""
    return max(8, helper.find_min_ir_version_for([helper.make_opsetid("", opset)]))


class TensorSink:
    """Turns numpy arrays into initializers, in memory or streamed to a file.

    With ``data_path`` set, each tensor's bytes are appended to that file at
    once and only a small external-data reference is kept, so a 7B model is
    written without ever holding more than one tensor.
    """

    def __init__(self, data_path: Optional[str] = None, location: Optional[str] = None,
                 threshold: int = 1024, align: int = 64):
        self.data_path = data_path
        self.location = location or (os.path.basename(data_path) if data_path else None)
        self.threshold = threshold  # smaller tensors stay inline
        self.align = align
        self._file = open(data_path, "wb") if data_path else None
        self._offset = 0
        self.total_bytes = 0

    def make(self, name: str, array: np.ndarray) -> TensorProto:
        array = np.asarray(array)
        self.total_bytes += array.nbytes
        if self._file is None or array.nbytes < self.threshold:
            return numpy_helper.from_array(array, name)
        pad = (-self._offset) % self.align
        if pad:
            self._file.write(b"\0" * pad)
            self._offset += pad
        data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<"), copy=False)
        self._file.write(data.tobytes())
        t = TensorProto()
        t.name = name
        t.data_type = onnx_type(array.dtype)
        t.dims.extend(array.shape)
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", self.location), ("offset", str(self._offset)),
                           ("length", str(array.nbytes))):
            e = t.external_data.add()
            e.key, e.value = key, value
        self._offset += array.nbytes
        return t

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


class GraphBuilder:
    """Collects nodes/initializers; helpers emit opset-correct node patterns."""

    def __init__(self, opset: int = 17, dtype=np.float32, sink: Optional[TensorSink] = None):
        if not MIN_OPSET <= opset <= MAX_OPSET:
            raise ValueError(f"opset must be in [{MIN_OPSET}, {MAX_OPSET}], got {opset}")
        self.opset = opset
        self.dtype = np_dtype(dtype)
        self.sink = sink or TensorSink()
        self.nodes: list = []
        self.initializers: list = []
        self.inputs: list = []
        self.outputs: list = []
        self.functions: dict = {}
        self.domains: dict = {"": opset}
        self._names: set = set()
        self._const_cache: dict = {}

    # -- names -----------------------------------------------------------------
    def fresh(self, base: str) -> str:
        name, i = base, 0
        while name in self._names:
            i += 1
            name = f"{base}_{i}"
        self._names.add(name)
        return name

    # -- tensors ------------------------------------------------------------------
    def initializer(self, name: str, array: np.ndarray) -> str:
        if name in self._names:
            raise ValueError(f"duplicate tensor name {name}")
        self._names.add(name)
        return self._add(name, array)

    def _add(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(self.sink.make(name, array))
        return name

    def const(self, value, dtype=None, name: Optional[str] = None) -> str:
        """A small constant initializer, shared between uses with the same value."""
        arr = np.asarray(value, dtype=dtype if dtype is not None else self.dtype)
        key = (arr.dtype.str, arr.shape, arr.tobytes(), name)
        if key in self._const_cache:
            return self._const_cache[key]
        n = self._add(self.fresh(name or f"const_{len(self._const_cache)}"), arr)
        self._const_cache[key] = n
        return n

    def ints(self, values, name=None) -> str:
        return self.const(np.asarray(values, np.int64), np.int64, name)

    def input(self, name: str, elem_type: int, shape: Sequence) -> str:
        self._names.add(name)
        self.inputs.append(helper.make_tensor_value_info(name, elem_type, list(shape)))
        return name

    def output(self, value: str, name: str, elem_type: int, shape: Sequence) -> str:
        if value != name:
            self.node("Identity", [value], name=f"{name}/Identity", outputs=[name])
        else:
            self._names.add(name)
        self.outputs.append(helper.make_tensor_value_info(name, elem_type, list(shape)))
        return name

    # -- nodes -----------------------------------------------------------------
    def node(self, op: str, inputs: Sequence[str], name: Optional[str] = None,
             outputs: Optional[Sequence[str]] = None, n_out: int = 1, domain: str = "",
             **attrs):
        name = self.fresh(name or op)
        if outputs is None:
            outputs = [self.fresh(f"{name}_out{i}" if n_out > 1 else f"{name}_out")
                       for i in range(n_out)]
        else:
            for o in outputs:
                self._names.add(o)
        self.nodes.append(helper.make_node(op, list(inputs), list(outputs), name=name,
                                           domain=domain or None, **attrs))
        return outputs[0] if len(outputs) == 1 else list(outputs)

    # -- opset-aware helpers -------------------------------------------------------
    def reduce_mean(self, x: str, axes=(-1,), name=None) -> str:
        # ReduceMean takes axes as an attribute before opset 18, an input from 18.
        if self.opset >= 18:
            return self.node("ReduceMean", [x, self.ints(list(axes))], name=name, keepdims=1)
        return self.node("ReduceMean", [x], name=name, axes=list(axes), keepdims=1)

    def unsqueeze(self, x: str, axes, name=None) -> str:
        return self.node("Unsqueeze", [x, self.ints(list(axes))], name=name)

    def slice(self, x, starts, ends, axes, name=None) -> str:
        return self.node("Slice", [x, self.ints(starts), self.ints(ends), self.ints(axes)],
                         name=name)

    def layer_norm(self, x: str, n: int, epsilon: float, prefix: str,
                   weight: Optional[str] = None, bias: Optional[str] = None,
                   bias_input: bool = True, square: str = "mul") -> str:
        """LayerNorm over the last axis (size n).

        opset >= 17: one LayerNormalization node (scale = ``weight`` or ones[n],
        bias = ``bias`` or zeros[n], the bias input left out when
        ``bias_input`` is False and ``bias`` is None). opset < 17: the
        decomposition ReduceMean, Sub, Mul(d,d)|Pow(d,2), ReduceMean, Add eps,
        Sqrt, Div, then Mul weight / Add bias when given.
        """
        if self.opset >= 17:
            scale = weight or self.const(np.ones(n), name=f"{prefix}.ln_scale")
            ins = [x, scale]
            if bias is not None:
                ins.append(bias)
            elif bias_input:
                ins.append(self.const(np.zeros(n), name=f"{prefix}.ln_bias"))
            return self.node("LayerNormalization", ins, name=f"{prefix}/LayerNorm",
                             axis=-1, epsilon=float(epsilon))
        p = f"{prefix}/LayerNorm"
        mean = self.reduce_mean(x, name=f"{p}/ReduceMean")
        d = self.node("Sub", [x, mean], name=f"{p}/Sub")
        if square == "pow":
            d2 = self.node("Pow", [d, self.const(2.0)], name=f"{p}/Pow")
        else:
            d2 = self.node("Mul", [d, d], name=f"{p}/Square")
        var = self.reduce_mean(d2, name=f"{p}/ReduceMeanVar")
        ve = self.node("Add", [var, self.const(epsilon)], name=f"{p}/AddEps")
        sd = self.node("Sqrt", [ve], name=f"{p}/Sqrt")
        y = self.node("Div", [d, sd], name=f"{p}/Div")
        if weight is not None:
            y = self.node("Mul", [y, weight], name=f"{p}/MulWeight")
        if bias is not None:
            y = self.node("Add", [y, bias], name=f"{p}/AddBias")
        return y

    def add_function(self, fn: onnx.FunctionProto, domain_version: int = 1):
        self.functions[(fn.domain, fn.name)] = fn
        self.domains.setdefault(fn.domain, domain_version)

    # -- model -----------------------------------------------------------------
    def model(self, graph_name: str = "onebit", doc: str = "",
              metadata: Optional[dict] = None) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, graph_name, self.inputs, self.outputs,
                                  self.initializers, doc_string=doc or None)
        opsets = [helper.make_opsetid(d, v) for d, v in self.domains.items()]
        m = helper.make_model(graph, opset_imports=opsets,
                              functions=list(self.functions.values()),
                              producer_name="onebit", producer_version="0.1.0")
        m.ir_version = ir_version_for(self.opset)
        for k, v in (metadata or {}).items():
            p = m.metadata_props.add()
            p.key, p.value = k, v
        return m
