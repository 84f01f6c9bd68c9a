#!/usr/bin/env python3
"""Writes DIR/NAME.onnx for each invalid model of error-invalid-models.test:
models a hostile or careless writer makes, which onebit must refuse with an
error naming what is wrong (none of them may import as something else).
DIR/../outside.bin is the external data of one of them, outside DIR."""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

directory = sys.argv[1]
os.makedirs(directory, exist_ok=True)
FLOAT = TensorProto.FLOAT


def save(name, nodes, inputs, outputs, initializers=(), ir_version=8, opset=17,
         domains=()):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)] +
                              [helper.make_opsetid(domain, 1) for domain in domains])
    model.ir_version = ir_version
    with open(os.path.join(directory, name + ".onnx"), "wb") as f:
        f.write(model.SerializeToString())


def value(name, elem_type=FLOAT, shape=(2, 4)):
    return helper.make_tensor_value_info(name, elem_type, list(shape))


x, y = value("x"), value("y")
w = numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
matmul = helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")

save("ir-version-zero", [matmul], [x], [y], [w], ir_version=0)
save("duplicate-initializer", [matmul], [x], [y],
     [w, numpy_helper.from_array(np.zeros((4, 4), np.float32), "w")])
save("duplicate-input", [matmul], [x, value("x")], [y], [w])
save("redefined-value",
     [helper.make_node("Relu", ["x"], ["t"], name="first"),
      helper.make_node("Neg", ["x"], ["t"], name="second"),
      helper.make_node("MatMul", ["t", "w"], ["y"], name="mm")], [x], [y], [w])

# LayerNormalization's axis as FLOAT (read as an int it would be 0).
axis = helper.make_attribute("axis", -1.0)
norm = helper.make_node("LayerNormalization", ["x", "scale", "bias"], ["y"], name="norm")
norm.attribute.append(axis)
scale = numpy_helper.from_array(np.ones(4, np.float32), "scale")
save("attribute-type", [norm], [x], [y],
     [scale, numpy_helper.from_array(np.zeros(4, np.float32), "bias")])
save("input-type-mismatch",
     [helper.make_node("LayerNormalization", ["x", "scale", "bias"], ["y"], name="norm")],
     [x], [y], [scale, numpy_helper.from_array(np.zeros(4, np.int32), "bias")])
save("unknown-attribute",
     [helper.make_node("Relu", ["x"], ["y"], name="relu", alpha=0.5)], [x], [y])
save("missing-attribute",
     [helper.make_node("Cast", ["x"], ["y"], name="cast")], [x], [y])

save("negative-input-dim", [helper.make_node("Relu", ["x"], ["y"], name="relu")],
     [value("x", shape=(-1, 4))], [y])
negative = TensorProto(name="w", data_type=FLOAT, dims=[-4, 4])
save("negative-initializer-dim", [matmul], [x], [y], [negative])
overflow = TensorProto(name="w", data_type=FLOAT, dims=[1 << 40, 1 << 40])
save("overflowing-initializer", [matmul], [x], [y], [overflow])

save("undefined-output-type", [matmul], [x],
     [value("y", TensorProto.UNDEFINED)], [w])
save("output-type-mismatch", [matmul], [x], [value("y", TensorProto.INT64)], [w])

# onebit's own node (no ONNX schema) with epsilon as INT.
signs = numpy_helper.from_array(np.zeros((4, 1), np.uint8), "signs")
ones = numpy_helper.from_array(np.ones(4, np.float32), "ones")
save("onebit-attribute-type",
     [helper.make_node("OneBitLinear", ["x", "signs", "ones", "ones"], ["y"], name="layer",
                       domain="onebit", in_features=4, epsilon=1)],
     [x], [y], [signs, ones], domains=["onebit"])

save("attribute-twice",
     [helper.make_node("LeakyRelu", ["x"], ["y"], name="leaky", alpha=0.1)], [x], [y])
model = onnx.load(os.path.join(directory, "attribute-twice.onnx"))
model.graph.node[0].attribute.append(helper.make_attribute("alpha", 0.2))
onnx.save(model, os.path.join(directory, "attribute-twice.onnx"))
save("output-twice-in-a-node",
     [helper.make_node("Split", ["x"], ["y", "y"], name="split", axis=1)], [x], [y])

# A Constant's tensor in external data reads only where initializers may.
outside = TensorProto(name="c", data_type=FLOAT, dims=[4],
                      data_location=TensorProto.EXTERNAL)
outside.external_data.add(key="location", value="../outside.bin")
with open(os.path.join(directory, "..", "outside.bin"), "wb") as f:
    f.write(np.ones(4, np.float32).tobytes())
save("constant-external-outside",
     [helper.make_node("Constant", [], ["c"], name="const", value=outside),
      helper.make_node("Add", ["x", "c"], ["y"], name="add")], [x], [y])
