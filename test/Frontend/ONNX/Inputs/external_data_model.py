#!/usr/bin/env python3
"""Writes DIR/model.onnx whose weight `w` lives in external data, then
spoils that data as the mode asks:

  (none)           weights.bin deleted
  --truncate       weights.bin cut to 10 bytes
  --symlink-file   weights.bin is a symlink to DIR/../secret.bin, outside DIR
  --symlink-dir    the location is updir/secret.bin with updir -> ..
  --fifo           weights.bin is a FIFO (reading it would block forever)
  --offset VALUE   the offset entry is VALUE (kept file)
  --length VALUE   the length entry is VALUE (kept file)
  --location VALUE the location entry is VALUE (kept file)
  --keep           weights.bin left as written
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

directory = sys.argv[1]
mode = sys.argv[2] if len(sys.argv) > 2 else ""
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


def rewrite_entries(**entries):
    saved = onnx.load(os.path.join(directory, "model.onnx"), load_external_data=False)
    tensor = saved.graph.initializer[0]
    for entry in tensor.external_data:
        if entry.key in entries:
            entry.value = entries.pop(entry.key)
    for key, value in entries.items():
        tensor.external_data.add(key=key, value=value)
    onnx.save_model(saved, os.path.join(directory, "model.onnx"))


secret = os.path.join(directory, "..", "secret.bin")
if mode == "--truncate":
    with open(data, "r+b") as f:
        f.truncate(10)
elif mode == "--symlink-file":
    os.rename(data, secret)
    os.symlink(os.path.abspath(secret), data)
elif mode == "--symlink-dir":
    os.rename(data, secret)
    os.symlink("..", os.path.join(directory, "updir"))
    rewrite_entries(location="updir/secret.bin")
elif mode == "--fifo":
    os.remove(data)
    os.mkfifo(data)
elif mode in ("--offset", "--length", "--location"):
    rewrite_entries(**{mode[2:]: sys.argv[3]})
elif mode != "--keep":
    os.remove(data)
