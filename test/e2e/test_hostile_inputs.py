"""Hostile inputs to compiled models (issue: no out-of-bounds read in a
compiled model): indices that come from the model's inputs are checked by
the generated code, and a run with one out of range fails naming the node,
the input and the value; repeated graph outputs compile; damaged library
files are refused before dlopen."""

import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import BUILD
from onebit.runtime import Model, RuntimeError_

VOCAB, WIDTH = 16, 8


def embedding_model(path, index_type=TensorProto.INT64, tokens=4):
    table = numpy_helper.from_array(
        np.arange(VOCAB * WIDTH, dtype=np.float32).reshape(VOCAB, WIDTH), "table")
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["rows"], name="embed"),
         helper.make_node("Relu", ["rows"], ["y"], name="relu")],
        "embedding",
        [helper.make_tensor_value_info("ids", index_type, [1, tokens])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, tokens, WIDTH])], [table])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


@pytest.fixture(scope="module")
def embedding(tmp_path_factory, onebit_compile):
    directory = tmp_path_factory.mktemp("embedding")
    onnx_path = embedding_model(str(directory / "model.onnx"))
    onebit_compile(onnx_path, "-target=cpu", "-o", directory / "model.so")
    return onnx_path, str(directory / "model.so")


def test_ids_in_range_match_onnxruntime_negative_ones_included(embedding):
    onnx_path, library = embedding
    ids = np.array([[0, 15, -1, -16]], np.int64)
    expected = ort.InferenceSession(onnx_path).run(None, {"ids": ids})[0]
    np.testing.assert_array_equal(Model(library).run({"ids": ids})["y"], expected)


@pytest.mark.parametrize("bad", [VOCAB, -VOCAB - 1, 2**40, -2**62, 2**32 + 3])
def test_ids_out_of_range_are_errors_naming_node_input_and_value(embedding, bad):
    model = Model(embedding[1])
    ids = np.array([[1, 2, bad, 3]], np.int64)
    message = (f"ONNX node 'embed' (Gather): input 'ids': index {bad} (element 2) is "
               f"out of range for a dimension of {VOCAB} (valid: -{VOCAB} to {VOCAB - 1})")
    with pytest.raises(RuntimeError_) as error:
        model.run({"ids": ids})
    assert str(error.value) == message
    # The model stays usable.
    good = np.array([[1, 2, 3, 4]], np.int64)
    np.testing.assert_array_equal(model.run({"ids": good})["y"][0, 0], np.arange(8, 16))


def test_int32_ids_are_checked_too(tmp_path, onebit_compile):
    onnx_path = embedding_model(str(tmp_path / "model.onnx"), TensorProto.INT32)
    onebit_compile(onnx_path, "-target=cpu", "-o", tmp_path / "model.so")
    model = Model(str(tmp_path / "model.so"))
    with pytest.raises(RuntimeError_, match=r"index -2147483648 \(element 3\) is out of range"):
        model.run({"ids": np.array([[0, 1, 2, -2**31]], np.int32)})
    ids = np.array([[0, 1, -3, 15]], np.int32)
    expected = ort.InferenceSession(onnx_path).run(None, {"ids": ids})[0]
    np.testing.assert_array_equal(model.run({"ids": ids})["y"], expected)


def test_onebit_run_reports_an_id_out_of_range(embedding, tmp_path):
    np.save(tmp_path / "ids.npy", np.array([[1, 2, 3, 99]], np.int64))
    result = subprocess.run(
        [str(BUILD / "bin" / "onebit-run"), embedding[1], "--input",
         f"ids={tmp_path / 'ids.npy'}"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "input 'ids': index 99 (element 3) is out of range for a dimension of 16" in result.stderr


def test_one_tensor_listed_as_two_outputs_compiles(tmp_path, onebit_compile):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "twice",
                              [x], [y, y, x])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "model.onnx")
    onebit_compile(tmp_path / "model.onnx", "-target=cpu", "-o", tmp_path / "model.so")
    compiled = Model(str(tmp_path / "model.so"))
    assert [info.name for info in compiled.outputs] == ["y", "y", "x"]
    feed = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    result = compiled.run({"x": feed})
    np.testing.assert_array_equal(result["y"], np.maximum(feed, 0))
    np.testing.assert_array_equal(result["x"], feed)


@pytest.mark.parametrize("damage, message", [
    (lambda image: image[:len(image) // 2], "truncated or corrupt"),
    (lambda image: b"not an ELF file", "not a shared library"),
])
def test_damaged_library_files_are_refused_before_dlopen(embedding, tmp_path, damage, message):
    with open(embedding[1], "rb") as f:
        image = f.read()
    damaged = tmp_path / "damaged.so"
    damaged.write_bytes(damage(image))
    with pytest.raises(RuntimeError_, match=f"cannot load .*damaged.so: {message}"):
        Model(str(damaged))
    with pytest.raises(RuntimeError_, match="not a regular file"):
        Model(str(tmp_path))
