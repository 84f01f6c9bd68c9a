"""Tiny pure-Python safetensors reader/writer (no safetensors dependency).

Format: 8-byte little-endian header length, a JSON header mapping names to
{dtype, shape, data_offsets: [begin, end]} (offsets relative to the byte
after the header) plus an optional "__metadata__", then the raw
little-endian data. Tensors are memory-mapped, so big files are read lazily.
"""
from __future__ import annotations

import json
import struct
from collections.abc import Mapping

import numpy as np

_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "I64": np.int64,
           "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
           "U16": np.uint16, "U32": np.uint32, "U64": np.uint64, "BOOL": np.bool_}
_NAMES = {np.dtype(v): k for k, v in _DTYPES.items()}


def _bf16_to_f32(raw: np.ndarray) -> np.ndarray:
    return (raw.astype(np.uint32) << 16).view(np.float32)


class SafetensorsFile(Mapping):
    """Read-only mapping name -> numpy array (BF16 is widened to float32)."""

    def __init__(self, path: str):
        self.path = path
        with open(path, "rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(n))
        self.metadata = header.pop("__metadata__", {}) or {}
        self.header = header
        self._base = 8 + n
        self._mm = np.memmap(path, dtype=np.uint8, mode="r")

    def __getitem__(self, name: str) -> np.ndarray:
        info = self.header[name]
        begin, end = info["data_offsets"]
        raw = self._mm[self._base + begin: self._base + end]
        shape = tuple(info["shape"])
        if info["dtype"] == "BF16":
            return _bf16_to_f32(raw.view("<u2")).reshape(shape)
        if info["dtype"] not in _DTYPES:
            raise ValueError(f"{name}: unsupported safetensors dtype {info['dtype']}")
        dt = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        return raw.view(dt).reshape(shape)

    def __iter__(self):
        return iter(self.header)

    def __len__(self):
        return len(self.header)


def load(path: str) -> SafetensorsFile:
    return SafetensorsFile(path)


def save(tensors: dict, path: str, metadata: dict | None = None):
    """Writes ``tensors`` (name -> array) as a safetensors file."""
    header, offset, arrays = {}, 0, []
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        if a.dtype not in _NAMES:
            raise ValueError(f"{name}: dtype {a.dtype} has no safetensors name")
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        header[name] = {"dtype": _NAMES[a.dtype.newbyteorder("=")], "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        arrays.append(a)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * ((-len(blob)) % 8)  # keep the data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        for a in arrays:
            f.write(a.tobytes())


def load_state_dict(path: str):
    """A .npz or .safetensors file as a name -> array mapping."""
    if path.endswith(".safetensors"):
        return load(path)
    if path.endswith(".npz"):
        return np.load(path)
    raise ValueError(f"{path}: expected a .npz or .safetensors file")
