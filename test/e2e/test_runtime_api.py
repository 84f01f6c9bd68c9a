"""The C API of a model library: every misuse is an error with a message."""

import ctypes
import re

import numpy as np
import pytest

from onebit import models
from onebit.runtime import Model, RuntimeError_, _Tensor


@pytest.fixture(scope="module")
def library(tmp_path_factory, onebit_compile):
    tmp = tmp_path_factory.mktemp("api")
    built = models.build("mlp", encoding="packed", dtype="float32", opset=18, seed=2)
    path = tmp / "mlp.onnx"
    path.write_bytes(built.model.SerializeToString())
    onebit_compile(path, "-o", tmp / "mlp.so")
    return tmp / "mlp.so", built


def test_signature(library):
    path, built = library
    model = Model(path)
    assert [(i.name, i.dtype, i.shape) for i in model.inputs] == [("x", "float32", (2, 16))]
    assert [(o.name, o.dtype, o.shape) for o in model.outputs] == [("y", "float32", (2, 8))]


def test_repeated_runs_agree(library):
    path, built = library
    model = Model(path)
    x = built.sample_input(seed=5)
    first = model.run({"x": x})["y"]
    for _ in range(3):
        np.testing.assert_array_equal(model.run({"x": x})["y"], first)


def test_time(library):
    path, built = library
    model = Model(path)
    x = built.sample_input(seed=5)
    assert model.time({"x": x}, iterations=5) > 0
    with pytest.raises(RuntimeError_, match="iterations must be at least 1"):
        model.time({"x": x}, iterations=0)
    with pytest.raises(RuntimeError_, match="expected float32"):
        model.time({"x": x.astype(np.float16)}, iterations=5)


@pytest.mark.parametrize("feed, message", [
    (np.zeros((2, 16), np.float16), "input 'x': dtype float16, expected float32"),
    (np.zeros((2, 15), np.float32), "input 'x': shape [2x15], expected [2x16]"),
    (np.zeros((2, 16), np.float64), "input 'x': dtype float64, expected float32"),
])
def test_wrong_inputs(library, feed, message):
    with pytest.raises(RuntimeError_, match=re.escape(message)):
        Model(library[0]).run({"x": feed})


def raw_run(lib, handle, inputs, n_in, outputs, n_out):
    lib.onebit_model_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32,
                                     ctypes.c_void_p, ctypes.c_int32]
    status = lib.onebit_model_run(handle, inputs, n_in, outputs, n_out)
    return status, lib.onebit_model_last_error(handle).decode()


def test_misuse_of_the_c_api(library):
    model = Model(library[0])
    lib, handle = model._lib, model._handle
    shape = (ctypes.c_int64 * 2)(2, 16)
    x = np.zeros((2, 16), np.float32)
    good = _Tensor(x.ctypes.data, 0, 2, shape)
    assert raw_run(lib, handle, None, 0, None, 0) == (1, "expected 1 inputs and 1 outputs, got 0 and 0")
    assert raw_run(lib, handle, None, 1, None, 1) == (1, "inputs or outputs is NULL")
    null_data = _Tensor(None, 0, 2, shape)
    status, message = raw_run(lib, handle, ctypes.byref(null_data), 1, ctypes.byref(good), 1)
    assert (status, message) == (1, "input 'x': data is NULL")
    no_shape = _Tensor(x.ctypes.data, 0, 2, None)
    status, message = raw_run(lib, handle, ctypes.byref(no_shape), 1, ctypes.byref(good), 1)
    assert (status, message) == (1, "input 'x': rank 2 with shape NULL, expected rank 2")
    # A bogus rank: the runtime must not read past the caller's 2 dims.
    bogus_rank = _Tensor(x.ctypes.data, 0, 1 << 30, shape)
    status, message = raw_run(lib, handle, ctypes.byref(bogus_rank), 1, ctypes.byref(good), 1)
    assert (status, message) == (1, "input 'x': rank 1073741824, expected rank 2")
    lib.onebit_model_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32,
                                     ctypes.c_void_p, ctypes.c_int32]
    assert lib.onebit_model_run(None, None, 0, None, 0) == 1
    info = ctypes.create_string_buffer(64)
    lib.onebit_model_input_info.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_void_p]
    assert lib.onebit_model_input_info(handle, 5, info) == 1
    assert lib.onebit_model_input_info(handle, 0, None) == 1
    lib.onebit_dtype_name.restype = ctypes.c_char_p
    assert lib.onebit_dtype_name(99) == b"unknown"
