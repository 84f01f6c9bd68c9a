"""Run a model library built by ``onebit-compile -target=cpu -o model.so``.

ctypes binding of the C API in include/onebit/Runtime/onebit_runtime.h::

    model = onebit.runtime.Model("model.so")
    outputs = model.run({"x": np.ones((1, 16), np.float32)})  # name -> array
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass

import numpy as np

__all__ = ["Model", "TensorInfo", "RuntimeError_"]

# onebit_dtype values, in order.
_DTYPES = ["float32", "float16", "bfloat16", "int64", "int32", "int8", "uint8", "bool"]


class RuntimeError_(RuntimeError):
    """A call into the model library failed; the message is the library's."""


class _TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int32), ("shape", ctypes.POINTER(ctypes.c_int64))]


class _Tensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("dtype", ctypes.c_int),
                ("rank", ctypes.c_int32), ("shape", ctypes.POINTER(ctypes.c_int64))]


def _numpy_dtype(name: str):
    """numpy dtype for a runtime dtype; bfloat16 as ml_dtypes' or uint16."""
    if name != "bfloat16":
        return np.dtype(name)
    try:
        import ml_dtypes
        return np.dtype(ml_dtypes.bfloat16)
    except ImportError:
        return np.dtype(np.uint16)


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple


class Model:
    """A compiled model library, opened once; ``run`` may be called often."""

    def __init__(self, path: str):
        self._handle = None
        # A bare file name would be searched on the library path, not here.
        self._lib = ctypes.CDLL(os.path.abspath(str(path)))
        lib = self._lib
        lib.onebit_model_open.restype = ctypes.c_void_p
        lib.onebit_model_close.argtypes = [ctypes.c_void_p]
        lib.onebit_model_last_error.restype = ctypes.c_char_p
        lib.onebit_model_last_error.argtypes = [ctypes.c_void_p]
        for name in ("onebit_model_num_inputs", "onebit_model_num_outputs"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
            getattr(lib, name).restype = ctypes.c_int32
        for name in ("onebit_model_input_info", "onebit_model_output_info"):
            getattr(lib, name).argtypes = [ctypes.c_void_p, ctypes.c_int32,
                                           ctypes.POINTER(_TensorInfo)]
        lib.onebit_model_run.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Tensor), ctypes.c_int32,
                                         ctypes.POINTER(_Tensor), ctypes.c_int32]
        lib.onebit_model_time.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Tensor),
                                          ctypes.c_int32, ctypes.POINTER(_Tensor),
                                          ctypes.c_int32, ctypes.c_int32,
                                          ctypes.POINTER(ctypes.c_double)]
        self._handle = lib.onebit_model_open()
        if not self._handle:
            raise MemoryError("onebit_model_open failed")
        error = lib.onebit_model_last_error(self._handle)
        if error:
            raise RuntimeError_(error.decode())
        self.inputs = self._infos(lib.onebit_model_num_inputs, lib.onebit_model_input_info)
        self.outputs = self._infos(lib.onebit_model_num_outputs, lib.onebit_model_output_info)

    def _infos(self, count, get):
        infos = []
        for i in range(count(self._handle)):
            info = _TensorInfo()
            get(self._handle, i, ctypes.byref(info))
            shape = tuple(info.shape[d] for d in range(info.rank))
            infos.append(TensorInfo(info.name.decode(), _DTYPES[info.dtype], shape))
        return infos

    @staticmethod
    def _tensor(array: np.ndarray, dtype: str, keep: list) -> _Tensor:
        shape = (ctypes.c_int64 * max(array.ndim, 1))(*array.shape)
        keep.append(shape)
        return _Tensor(array.ctypes.data, _DTYPES.index(dtype), array.ndim, shape)

    def _arguments(self, feeds: dict):
        """The C tensors for ``feeds`` and fresh output arrays."""
        missing = [i.name for i in self.inputs if i.name not in feeds]
        unknown = sorted(set(feeds) - {i.name for i in self.inputs})
        if missing or unknown:
            raise ValueError(f"missing inputs {missing}, unknown inputs {unknown}")
        keep = []
        # np.require keeps 0-d arrays 0-d (ascontiguousarray makes them 1-d).
        arrays = [np.require(feeds[i.name], requirements='C') for i in self.inputs]
        dtypes = []
        for info, array in zip(self.inputs, arrays):
            dtype = str(array.dtype)
            # numpy has no bfloat16: its bits travel as uint16 (or ml_dtypes).
            if info.dtype == "bfloat16" and dtype in ("uint16", "bfloat16"):
                dtype = "bfloat16"
            elif dtype not in _DTYPES:
                raise RuntimeError_(f"input '{info.name}': dtype {array.dtype}, "
                                    f"expected {info.dtype}")
            dtypes.append(dtype)
        inputs = (_Tensor * max(len(arrays), 1))(
            *[self._tensor(a, d, keep) for a, d in zip(arrays, dtypes)])
        results = [np.empty(o.shape, dtype=_numpy_dtype(o.dtype)) for o in self.outputs]
        outputs = (_Tensor * max(len(results), 1))(
            *[self._tensor(r, o.dtype, keep) for r, o in zip(results, self.outputs)])
        return (inputs, len(arrays), outputs, len(results)), results, (keep, arrays)

    def _check(self, status):
        if status != 0:
            raise RuntimeError_(self._lib.onebit_model_last_error(self._handle).decode())

    def run(self, feeds: dict) -> dict:
        """Runs with ``feeds`` (input name -> array); returns name -> array.

        Arrays are converted to C order; their dtype and shape must match the
        model's (see ``inputs``): a mismatch raises with the library's message.
        """
        arguments, results, _alive = self._arguments(feeds)
        self._check(self._lib.onebit_model_run(self._handle, *arguments))
        return {o.name: r for o, r in zip(self.outputs, results)}

    def time(self, feeds: dict, iterations: int = 100) -> float:
        """Mean microseconds per forward over ``iterations`` back-to-back runs
        (onebit_model_time: device events around CUDA graph replays on the GPU,
        the host clock on the CPU)."""
        arguments, _results, _alive = self._arguments(feeds)
        microseconds = ctypes.c_double()
        self._check(self._lib.onebit_model_time(self._handle, *arguments, iterations,
                                                ctypes.byref(microseconds)))
        return microseconds.value

    def close(self):
        if self._handle:
            self._lib.onebit_model_close(self._handle)
            self._handle = None

    def __del__(self):
        self.close()
