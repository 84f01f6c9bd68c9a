#!/usr/bin/env python3
"""Writes DIR/model.onnx whose weight lives in DIR/weights.bin, then deletes
weights.bin (or, with --truncate, leaves only part of it)."""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

directory = sys.argv[1]
os.makedirs(directory, exist_ok=True)
weight = numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(4, 4), "w")
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "w"], ["y"])], "external",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])], [weight])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.save_model(model, os.path.join(directory, "model.onnx"),
                save_as_external_data=True, all_tensors_to_one_file=True,
                location="weights.bin", size_threshold=0)
data = os.path.join(directory, "weights.bin")
if "--truncate" in sys.argv:
    with open(data, "r+b") as f:
        f.truncate(10)
else:
    os.remove(data)
