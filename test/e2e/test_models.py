"""python/onebit's models, in every encoding and dtype, through onebit-compile.

Each must fuse into exactly one onebit.linear per OneBit layer, and the CPU
library must compute what onnxruntime computes on the same ONNX file.
"""

import numpy as np
import onnxruntime as ort
import pytest

from onebit import models
from onebit.runtime import Model

ENCODINGS = ["packed", "packed_int8", "folded", "merged", "custom"]
ARCHS = ["mlp", "llama", "opt"]

# fp32: every op in fp32 on both sides. fp16: onebit accumulates matmuls and
# normalisations in f32 while onnxruntime's CPU kernels round some
# intermediates to fp16, so outputs differ by a few fp16 ulps of the
# largest logits.
TOLERANCE = {"float32": 1e-4, "float16": 2e-2}


def build(arch, encoding, dtype, opset, tmp_path):
    built = models.build(arch, encoding=encoding, dtype=dtype, opset=opset, seed=1)
    path = tmp_path / f"{arch}-{encoding}-{dtype}.onnx"
    path.write_bytes(built.model.SerializeToString())
    return built, path


@pytest.mark.parametrize("opset", [13, 17, 18, 21])
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("arch", ARCHS)
def test_every_layer_fuses(arch, encoding, opset, tmp_path, onebit_compile):
    built, path = build(arch, encoding, "float32", opset, tmp_path)
    ir = onebit_compile(path, "--emit=onebit").stdout
    assert ir.count("onebit.linear") == len(built.layers), ir
    assert "tosa.logical_right_shift" not in ir


@pytest.mark.parametrize("opset", [13, 18])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("arch", ARCHS)
def test_cpu_library_matches_onnxruntime(arch, encoding, dtype, opset, tmp_path,
                                         onebit_compile):
    built, path = build(arch, encoding, dtype, opset, tmp_path)
    library = tmp_path / "model.so"
    onebit_compile(path, "-o", library)
    x = built.sample_input(seed=3)
    expected = ort.InferenceSession(str(path)).run(None, {built.input_name: x})[0]
    actual = Model(library).run({built.input_name: x})[built.output_name]
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    error = np.max(np.abs(actual.astype(np.float64) - expected.astype(np.float64)))
    scale = np.max(np.abs(expected.astype(np.float64)))
    assert error <= TOLERANCE[dtype] * scale, f"max abs error {error}, max |ref| {scale}"
