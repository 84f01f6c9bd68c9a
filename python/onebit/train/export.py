"""Saving trained weights and exporting the student in onebit's ONNX
convention (numpy and onnx only; no torch).

A state is a mapping from HF-style names to numpy arrays, as
``nn.state_dict_numpy`` returns it. ``save_state`` splits it into ``.npz``
shards of at most ``shard_bytes`` so that each file stays small enough to
move between machines; ``load_state`` reads them back.
"""
from __future__ import annotations

import dataclasses
import glob
import json
import os
from typing import Dict, Optional

import numpy as np

from ..decode import build_llama_decode
from ..models import BuiltModel, LlamaConfig, build_llama
from ..weights import StateDictWeights

SHARD_BYTES = 12 * 2 ** 20


def save_state(state: Dict[str, np.ndarray], prefix: str, dtype=None,
               shard_bytes: int = SHARD_BYTES):
    """Writes ``prefix-0.npz``, ``prefix-1.npz``, ... (floats cast to ``dtype``
    when given; packed signs stay uint8). Returns the paths."""
    for old in glob.glob(f"{prefix}-*.npz"):
        os.remove(old)
    shards, current, size = [], {}, 0
    for name, a in state.items():
        a = np.asarray(a)
        if dtype is not None and a.dtype.kind == "f":
            a = a.astype(dtype)
        if current and size + a.nbytes > shard_bytes:
            shards.append(current)
            current, size = {}, 0
        current[name] = a
        size += a.nbytes
    shards.append(current)
    paths = []
    for i, shard in enumerate(shards):
        paths.append(f"{prefix}-{i}.npz")
        np.savez_compressed(paths[-1], **shard)
    return paths


def load_state(prefix: str) -> Dict[str, np.ndarray]:
    paths = sorted(glob.glob(f"{prefix}-*.npz"),
                   key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]))
    if not paths:
        raise FileNotFoundError(f"no state shards {prefix}-*.npz")
    state = {}
    for p in paths:
        with np.load(p) as z:
            state.update({k: z[k] for k in z.files})
    return state


def save_config(config: LlamaConfig, path: str):
    with open(path, "w") as f:
        json.dump(dataclasses.asdict(config), f, indent=1)


def load_config(path: str, **overrides) -> LlamaConfig:
    with open(path) as f:
        values = json.load(f)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return LlamaConfig(**values)


def export_student(state: Dict[str, np.ndarray], config: LlamaConfig,
                   path: Optional[str] = None, dtype="float32", opset: int = 18,
                   encoding: str = "packed", decode_max_len: Optional[int] = None
                   ) -> BuiltModel:
    """The student as a LLaMA-style ONNX model whose 1-bit layers use
    ``encoding`` (default: OneBit's packed bytes): the full-sequence model
    (``input_ids`` [batch, seq_len] -> ``logits``), or with
    ``decode_max_len`` one decoding step with a key/value cache of that many
    positions (``onebit.decode``)."""
    weights = StateDictWeights(state)
    if decode_max_len is not None:
        return build_llama_decode(config, decode_max_len, encoding=encoding, dtype=dtype,
                                  opset=opset, weights=weights, path=path)
    return build_llama(config, encoding=encoding, dtype=dtype, opset=opset,
                       weights=weights, path=path)
