"""python/onebit's models, in every encoding and dtype, through onebit-compile.

Each must fuse into exactly one onebit.linear per OneBit layer, and the CPU
library must compute what onnxruntime computes on the same ONNX file.
"""

from pathlib import Path

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
    check_cpu_library(built, path, dtype, tmp_path, onebit_compile)


def check_cpu_library(built, path, dtype, tmp_path, onebit_compile, flags=()):
    library = tmp_path / "model.so"
    onebit_compile(path, *flags, "-o", library)
    x = built.sample_input(seed=3)
    expected = ort.InferenceSession(str(path)).run(None, {built.input_name: x})[0]
    actual = Model(library).run({built.input_name: x})[built.output_name]
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    error = np.max(np.abs(actual.astype(np.float64) - expected.astype(np.float64)))
    scale = np.max(np.abs(expected.astype(np.float64)))
    assert error <= TOLERANCE[dtype] * scale, f"max abs error {error}, max |ref| {scale}"


# Input rows M of the CPU kernel's tiles: a single row, decode tiles of 2, 5
# and 8 rows, and prefill batches of 33 rows (tiles of 6 and 5), also as
# [3, 11] rows of a 3-D input. K = 256 (16 chunks of 2 bytes), 200 (an odd
# byte count: 1-byte chunks) and 44 (not whole bytes); N = 13 takes one
# output row per block.
@pytest.mark.parametrize("lead", [[1], [2], [5], [8], [33], [3, 11]],
                         ids=lambda lead: "x".join(map(str, lead)))
def test_cpu_rows_match_onnxruntime(lead, tmp_path, onebit_compile):
    config = models.MLPConfig(sizes=[256, 200, 44, 13], batch=lead[0],
                              seq_len=lead[1] if len(lead) > 1 else None)
    built = models.build_mlp(config, encoding="packed", opset=18, seed=2)
    path = tmp_path / "mlp.onnx"
    path.write_bytes(built.model.SerializeToString())
    check_cpu_library(built, path, "float32", tmp_path, onebit_compile)


# A prefill of 33 tokens through a whole decoder, in fp32 and fp16.
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_cpu_prefill_matches_onnxruntime(dtype, tmp_path, onebit_compile):
    config = models.LlamaConfig(seq_len=33)
    built = models.build("llama", config, encoding="packed", dtype=dtype, opset=18,
                         seed=1)
    path = tmp_path / "llama.onnx"
    path.write_bytes(built.model.SerializeToString())
    check_cpu_library(built, path, dtype, tmp_path, onebit_compile)


# An lm_head wide enough (vocab 4500) that onebit-split-contraction-columns
# runs its columns in blocks of 2048 on all threads: two full blocks and a
# shorter one, for one token and for 3 (at most max-rows, 8).
@pytest.mark.parametrize("seq_len", [1, 3])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_cpu_wide_lm_head_matches_onnxruntime(dtype, seq_len, tmp_path, onebit_compile):
    config = models.LlamaConfig(vocab_size=4500, seq_len=seq_len, n_layers=1)
    built = models.build("llama", config, encoding="packed", dtype=dtype, opset=18,
                         seed=5)
    path = tmp_path / "llama.onnx"
    path.write_bytes(built.model.SerializeToString())
    check_cpu_library(built, path, dtype, tmp_path, onebit_compile)


def host_has_avx512():
    cpuinfo = Path("/proc/cpuinfo")
    return cpuinfo.exists() and " avx512f" in cpuinfo.read_text()


# The lookup-table kernel, which onebit-compile picks for layers with a
# multiple of 16 outputs where the CPU has AVX-512: N = 64 (blocks of 4 index
# vectors for one input row), 48 (3 vectors: blocks of 1) and 32, K = 200
# (25 bytes) and 44 (not whole bytes); 44 outputs keep OneBit's bytes. Input
# rows: one, tiles of 2, of 4 and 3 (7 rows), of 5, 4 and 4 (13 rows, a
# loop over tiles), and [3, 11]. --lookup-tables=off runs the same layers
# through the masked-add and sign-vector kernels.
@pytest.mark.parametrize("kernel", ["on", "off"])
@pytest.mark.parametrize("lead", [[1], [2], [7], [13], [3, 11]],
                         ids=lambda lead: "x".join(map(str, lead)))
def test_cpu_lookup_tables_match_onnxruntime(kernel, lead, tmp_path, onebit_compile):
    if kernel == "on" and not host_has_avx512():
        pytest.skip("the lookup-table kernel needs AVX-512")
    config = models.MLPConfig(sizes=[200, 64, 44, 48, 32], batch=lead[0],
                              seq_len=lead[1] if len(lead) > 1 else None)
    built = models.build_mlp(config, encoding="packed", opset=18, seed=4)
    path = tmp_path / "mlp.onnx"
    path.write_bytes(built.model.SerializeToString())
    check_cpu_library(built, path, "float32", tmp_path, onebit_compile,
                      flags=[f"--lookup-tables={kernel}"])
