"""Run a model library built by ``onebit-compile -target=cpu -o model.so``.

ctypes binding of the C API in include/onebit/Runtime/onebit_runtime.h::

    model = onebit.runtime.Model("model.so")
    outputs = model.run({"x": np.ones((1, 16), np.float32)})  # name -> array

A decoder compiled with its key/value cache in the library runs through
sessions (docs/decoding.md)::

    session = model.session(max_len=512)
    logits = session.prefill([1, 2, 3])      # the last token's logits
    token = session.decode(int(logits.argmax()), logits=False)  # argmax
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass

import numpy as np

__all__ = ["Model", "Session", "TensorInfo", "RuntimeError_"]


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


def _dtype_names(lib) -> list:
    """onebit_dtype values in order, as the library names them."""
    lib.onebit_dtype_name.restype = ctypes.c_char_p
    lib.onebit_dtype_name.argtypes = [ctypes.c_int]
    names = []
    while True:
        name = lib.onebit_dtype_name(len(names)).decode()
        if name == "unknown":
            return names
        names.append(name)


def check_library_file(path: str) -> None:
    """Raises ``RuntimeError_`` unless ``path`` is a regular file holding a
    64-bit little-endian ELF shared object whose headers and segments lie
    inside the file: dlopen maps what the program headers say, and a
    truncated library faults (SIGBUS) inside the loader instead of failing.
    onebit-run makes the same check (tools/onebit-run/LibraryFile.cpp)."""
    import stat
    import struct

    def refuse(reason):
        raise RuntimeError_(f"cannot load {path}: {reason}")
    try:
        info = os.stat(path)
    except OSError as error:
        refuse(error.strerror)
    if not stat.S_ISREG(info.st_mode):
        refuse("not a regular file")
    size = info.st_size
    with open(path, "rb") as f:
        header = f.read(64)
        if len(header) < 64 or header[:4] != b"\x7fELF":
            refuse("not a shared library (no ELF header)")
        # e_ident: class 2 = 64-bit, data 1 = little-endian; e_type 3 = ET_DYN.
        (e_type,) = struct.unpack_from("<H", header, 16)
        if header[4] != 2 or header[5] != 1 or e_type != 3:
            refuse("not a 64-bit little-endian shared library")
        phoff, shoff = struct.unpack_from("<QQ", header, 32)
        phentsize, phnum, shentsize, shnum = struct.unpack_from("<HHHH", header, 54)
        if phentsize != 56 or phoff + phnum * 56 > size or (
                shnum and (shentsize != 64 or shoff + shnum * 64 > size)):
            refuse(f"truncated or corrupt (its ELF headers lie outside the file's {size} bytes)")
        f.seek(phoff)
        table = f.read(phnum * 56)
        for i in range(phnum):
            offset, _, _, filesz = struct.unpack_from("<QQQQ", table, i * 56 + 8)
            if offset + filesz > size:
                refuse(f"truncated or corrupt (a segment of {filesz} bytes at offset "
                       f"{offset} lies outside the file's {size} bytes)")


class Model:
    """A compiled model library, opened once; ``run`` may be called often."""

    def __init__(self, path: str):
        self._handle = None
        # A bare file name would be searched on the library path, not here.
        path = os.path.abspath(str(path))
        check_library_file(path)
        self._lib = ctypes.CDLL(path)
        lib = self._lib
        self._dtypes = _dtype_names(lib)
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
        lib.onebit_model_window.restype = ctypes.c_int64
        lib.onebit_model_window.argtypes = [ctypes.c_void_p]
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
            infos.append(TensorInfo(info.name.decode(), self._dtypes[info.dtype], shape))
        return infos

    @property
    def window(self) -> int:
        """Most positions a session holds: 0 for any, -1 if not a decoder."""
        return self._lib.onebit_model_window(self._handle)

    @property
    def is_decoder(self) -> bool:
        return self.window >= 0

    def session(self, max_len: int = 0) -> "Session":
        """A decoding session of at most ``max_len`` positions (0: the window)."""
        return Session(self, max_len)

    def _tensor(self, array: np.ndarray, dtype: str, keep: list) -> _Tensor:
        shape = (ctypes.c_int64 * max(array.ndim, 1))(*array.shape)
        keep.append(shape)
        return _Tensor(array.ctypes.data, self._dtypes.index(dtype), array.ndim, shape)

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
            elif dtype not in self._dtypes:
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


class Session:
    """One sequence decoded by a compiled decoder: its key/value cache stays
    in the library (on the GPU for -target=cuda) between calls."""

    def __init__(self, model: Model, max_len: int = 0):
        self._handle = None
        self._model = model  # keeps the library open
        lib = self._lib = model._lib
        lib.onebit_session_create.restype = ctypes.c_void_p
        lib.onebit_session_create.argtypes = [ctypes.c_void_p, ctypes.c_int64]
        lib.onebit_session_free.argtypes = [ctypes.c_void_p]
        lib.onebit_session_last_error.restype = ctypes.c_char_p
        lib.onebit_session_last_error.argtypes = [ctypes.c_void_p]
        for name in ("position", "max_len", "vocab_size"):
            getattr(lib, f"onebit_session_{name}").restype = ctypes.c_int64
            getattr(lib, f"onebit_session_{name}").argtypes = [ctypes.c_void_p]
        lib.onebit_session_reset.argtypes = [ctypes.c_void_p]
        lib.onebit_session_prefill.argtypes = [
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64), ctypes.c_int64,
            ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64)]
        lib.onebit_session_time.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int32,
                                            ctypes.POINTER(ctypes.c_double)]
        self._handle = lib.onebit_session_create(model._handle, int(max_len))
        if not self._handle:
            raise RuntimeError_(lib.onebit_model_last_error(model._handle).decode()
                                or "onebit_session_create failed")

    @property
    def position(self) -> int:
        """Positions held: the next token goes at this one."""
        return self._lib.onebit_session_position(self._handle)

    @property
    def max_len(self) -> int:
        return self._lib.onebit_session_max_len(self._handle)

    @property
    def vocab_size(self) -> int:
        return self._lib.onebit_session_vocab_size(self._handle)

    def _check(self, status):
        if status != 0:
            raise RuntimeError_(self._lib.onebit_session_last_error(self._handle).decode())

    def prefill(self, ids, logits: bool = True):
        """Appends the token ids; returns the last one's logits (float32
        [vocab]) or, with ``logits=False``, their argmax."""
        ids = np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))
        if ids.size == 0:
            raise ValueError("prefill needs at least one token id")
        out = np.empty(self.vocab_size, np.float32) if logits else None
        token = ctypes.c_int64()
        self._check(self._lib.onebit_session_prefill(
            self._handle, ids.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), ids.size,
            out.ctypes.data if logits else None, ctypes.byref(token)))
        return out if logits else token.value

    def decode(self, token: int, logits: bool = True):
        """Appends one token; returns its logits or, with ``logits=False``,
        the next greedy token."""
        return self.prefill([token], logits)

    def reset(self):
        """Forgets the sequence (the next prefill starts at position 0)."""
        self._check(self._lib.onebit_session_reset(self._handle))

    def time(self, token: int = 0, iterations: int = 100) -> float:
        """Mean microseconds of one decoding step at the current position
        (onebit_session_time: repeated without advancing)."""
        microseconds = ctypes.c_double()
        self._check(self._lib.onebit_session_time(self._handle, int(token), iterations,
                                                  ctypes.byref(microseconds)))
        return microseconds.value

    def close(self):
        if self._handle:
            self._lib.onebit_session_free(self._handle)
            self._handle = None

    def __del__(self):
        self.close()
