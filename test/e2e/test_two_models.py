"""Two model libraries linked into one C program (docs/examples/two_models.c):
with `onebit-compile --name`, each exports its API under its own prefix and
runs its own model, although both also export the same onebit_ symbols."""

import shutil
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import ROOT


def elementwise_model(path, op, constant):
    value = numpy_helper.from_array(np.full(4, constant, np.float32), "c")
    graph = helper.make_graph(
        [helper.make_node(op, ["x", "c"], ["y"])], op,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], [value])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


def test_two_models_in_one_program(tmp_path, onebit_compile):
    compiler = shutil.which("clang") or shutil.which("cc")
    if not compiler:
        pytest.skip("no C compiler")
    elementwise_model(tmp_path / "double.onnx", "Mul", 2.0)
    elementwise_model(tmp_path / "negate.onnx", "Mul", -1.0)
    onebit_compile(tmp_path / "double.onnx", "-o", tmp_path / "libdouble.so", "--name", "twice")
    onebit_compile(tmp_path / "negate.onnx", "-o", tmp_path / "libnegate.so", "--name", "negated")
    build = subprocess.run(
        [compiler, str(ROOT / "docs/examples/two_models.c"), "-I", str(ROOT / "include"),
         f"-L{tmp_path}", "-ldouble", "-lnegate", f"-Wl,-rpath,{tmp_path}",
         "-o", str(tmp_path / "two_models")], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    result = subprocess.run([str(tmp_path / "two_models"), "1", "-2", "3.5", "0"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["twice: 2 -4 7 0", "negated: -1 2 -3.5 -0"]


def test_a_name_must_be_a_c_identifier(tmp_path, onebit_compile):
    elementwise_model(tmp_path / "double.onnx", "Mul", 2.0)
    result = onebit_compile(tmp_path / "double.onnx", "-o", tmp_path / "x.so", "--name",
                            "2fast", check=False)
    assert result.returncode == 1
    assert "--name '2fast' is not a C identifier" in result.stderr
