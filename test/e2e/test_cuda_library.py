"""-target=cuda libraries on a machine without a GPU (CI): they hold the
kernels, load, describe their tensors, and every run reports a clear error
instead of crashing. On a GPU: scripts/cuda_device_check.py (docs/cuda.md)."""

import ctypes
import os
import subprocess

import numpy as np
import pytest

from onebit import models
from onebit.runtime import Model, RuntimeError_


def has_cuda_driver():
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def cuda_library(tmp_path_factory, onebit_compile):
    built = models.build("mlp", encoding="custom", dtype="float32", opset=18, seed=1)
    path = tmp_path_factory.mktemp("cuda") / "mlp.onnx"
    path.write_bytes(built.model.SerializeToString())
    library = path.with_suffix(".so")
    onebit_compile(path, "-target=cuda", "-o", library)
    return built, library


FATBIN_MAGIC = bytes.fromhex("50ed55ba")


def test_library_holds_kernels_and_no_cuda_dependency(cuda_library):
    _, library = cuda_library
    needed = subprocess.run(["readelf", "-d", str(library)], capture_output=True,
                            text=True, check=True).stdout
    assert "libcuda" not in needed and "libcudart" not in needed
    data = library.read_bytes()
    # Where the toolkit has ptxas and fatbinary: fatbins (magic 0xBA55ED50)
    # of a cubin (ELF) and PTX; with ptxas alone, cubins; else PTX text.
    if os.access("/usr/local/cuda/bin/fatbinary", os.X_OK):
        assert data.count(FATBIN_MAGIC) >= 1 and data.count(b"\x7fELF") >= 2
    elif os.access("/usr/local/cuda/bin/ptxas", os.X_OK):
        assert data.count(b"\x7fELF") >= 2
    else:
        assert b".target sm_90" in data
    symbols = subprocess.run(["nm", "-D", str(library)], capture_output=True,
                             text=True, check=True).stdout
    for name in ("onebit_model_open", "onebit_model_run", "mgpuLaunchKernel",
                 "onebit_cuda_constant_table", "onebit_model_device"):
        assert name in symbols


def test_loads_and_reports_missing_gpu(cuda_library):
    built, library = cuda_library
    model = Model(library)  # loads and opens without a GPU
    assert [i.name for i in model.inputs] == [built.input_name]
    assert ctypes.CDLL(str(library)).onebit_model_device
    device = ctypes.CDLL(str(library)).onebit_model_device
    device.restype = ctypes.c_char_p
    assert device() == b"cuda"
    if has_cuda_driver():
        pytest.skip("a CUDA driver is present: scripts/cuda_device_check.py covers runs")
    x = built.sample_input(seed=3)
    with pytest.raises(RuntimeError_, match="CUDA is not available"):
        model.run({built.input_name: x})
    # Still usable (and still clear) on a second try.
    with pytest.raises(RuntimeError_, match="libcuda.so.1"):
        model.run({built.input_name: np.zeros_like(x)})
    model.close()


MMA = "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32"


@pytest.mark.parametrize("seq_len", [1, 40])
def test_f16_layers_run_on_tensor_cores(tmp_path, onebit_compile, seq_len):
    """fp16 1-bit layers with K a multiple of 128 compile to the tensor-core
    kernel (onebit-gpu-sign-mma) from ONNX, one token and prefill alike;
    --mma-min-rows sends fewer rows to the CUDA-core decode kernel."""
    config = models.LlamaConfig(d_model=128, n_heads=4, ffn=256, seq_len=seq_len)
    built = models.build("llama", config, encoding="packed", dtype="float16", opset=18,
                         seed=1)
    path = tmp_path / "llama.onnx"
    path.write_bytes(built.model.SerializeToString())
    ptx = onebit_compile(path, "-target=cuda", "--emit=ptx").stdout
    # q, k, v, o, gate, up and down of 2 layers: one kernel each.
    assert ptx.count(MMA) >= 14
    decode = onebit_compile(path, "-target=cuda", "--emit=ptx", "--mma-min-rows=2").stdout
    assert (MMA in decode) == (seq_len > 1)
