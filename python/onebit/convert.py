"""FP checkpoint -> OneBit ONNX model: infer the config, SVID every 1-bit linear.

The state dict is a .npz or .safetensors file (or any name -> array mapping)
with Hugging Face names: LLaMA (``model.layers.N.self_attn.q_proj.weight``
...), OPT (``model.decoder.layers.N.fc1.weight`` ...) or an MLP
(``layers.N.weight`` [N, K], optional ``layers.N.bias``). A PyTorch .bin must
first be saved as .npz/.safetensors (torch is not a dependency).
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Optional

from . import models
from .safetensors import load_state_dict
from .weights import StateDictWeights


class _Tied(Mapping):
    """Adds ``lm_head.weight`` as the input embedding when a checkpoint ties them."""

    def __init__(self, state, embed_name):
        self.state, self.embed = state, embed_name

    def __getitem__(self, k):
        if k == "lm_head.weight" and k not in self.state:
            return self.state[self.embed]
        return self.state[k]

    def __iter__(self):
        yield from self.state
        if "lm_head.weight" not in self.state:
            yield "lm_head.weight"

    def __len__(self):
        return len(self.state) + ("lm_head.weight" not in self.state)

    def __contains__(self, k):
        return k in self.state or (k == "lm_head.weight" and self.embed in self.state)


def detect_arch(state) -> str:
    keys = set(state.keys())
    if "model.layers.0.self_attn.q_proj.weight" in keys:
        return "llama"
    if "model.decoder.layers.0.fc1.weight" in keys:
        return "opt"
    if "layers.0.weight" in keys:
        return "mlp"
    raise ValueError("cannot tell the architecture: expected HF LLaMA/OPT names or layers.N.weight")


def _count(keys, pattern):
    rx = re.compile(pattern)
    return len({m.group(1) for k in keys if (m := rx.match(k))})


def infer_config(state, arch: str, heads: Optional[int] = None, seq_len: int = 128,
                 hf_config: Optional[dict] = None, **overrides):
    """A builder config that matches the state dict's shapes."""
    hf = hf_config or {}
    heads = heads or hf.get("num_attention_heads")
    keys = list(state.keys())
    if arch == "mlp":
        n = _count(keys, r"layers\.(\d+)\.weight$")
        shapes = [tuple(state[f"layers.{i}.weight"].shape) for i in range(n)]
        sizes = [shapes[0][1]] + [s[0] for s in shapes]
        for i in range(1, n):
            if shapes[i][1] != shapes[i - 1][0]:
                raise ValueError(f"layers.{i}.weight {shapes[i]} does not follow {shapes[i - 1]}")
        bias = all(f"layers.{i}.bias" in state for i in range(n))
        return models.make_config("mlp", sizes=sizes, bias=bias, **overrides)
    if heads is None:
        raise ValueError("the number of attention heads is not in the state dict: pass heads= "
                         "(--heads) or a config.json")
    if arch == "llama":
        v, d = state["model.embed_tokens.weight"].shape
        cfg = dict(vocab_size=v, d_model=d, n_heads=heads, seq_len=seq_len,
                   n_layers=_count(keys, r"model\.layers\.(\d+)\."),
                   ffn=state["model.layers.0.mlp.gate_proj.weight"].shape[0])
        if "rms_norm_eps" in hf:
            cfg["rms_eps"] = hf["rms_norm_eps"]
        if "rope_theta" in hf:
            cfg["rope_base"] = hf["rope_theta"]
        if hf.get("num_key_value_heads", heads) != heads:
            raise ValueError("grouped-query attention is not supported by the builders")
        cfg.update(overrides)
        return models.make_config("llama", **cfg)
    if arch == "opt":
        v, d = state["model.decoder.embed_tokens.weight"].shape
        if "model.decoder.project_in.weight" in state:
            raise ValueError("OPT with project_in/out (350m) is not supported")
        cfg = dict(vocab_size=v, d_model=d, n_heads=heads, seq_len=seq_len,
                   n_layers=_count(keys, r"model\.decoder\.layers\.(\d+)\."),
                   ffn=state["model.decoder.layers.0.fc1.weight"].shape[0],
                   max_positions=state["model.decoder.embed_positions.weight"].shape[0]
                   - models.OPT_POSITION_OFFSET)
        cfg.update(overrides)
        return models.make_config("opt", **cfg)
    raise ValueError(f"unknown arch {arch!r}")


def quantize_state_dict(state, arch: Optional[str] = None, heads: Optional[int] = None,
                        seq_len: int = 128, method: str = "nmf", max_iter: int = 200,
                        config_overrides: Optional[dict] = None,
                        hf_config: Optional[dict] = None, **build_kwargs) -> models.BuiltModel:
    """Builds the OneBit model of an FP state dict (path or mapping).

    ``build_kwargs`` go to the builder (encoding, dtype, opset, path,
    external_data, ...). A ``config.json`` beside a checkpoint path is read
    for the head count and norm epsilon when present.
    """
    if isinstance(state, (str, os.PathLike)):
        path = os.fspath(state)
        cj = os.path.join(os.path.dirname(os.path.abspath(path)), "config.json")
        if hf_config is None and os.path.exists(cj):
            with open(cj) as f:
                hf_config = json.load(f)
        state = load_state_dict(path)
    arch = arch or detect_arch(state)
    embed = {"llama": "model.embed_tokens.weight",
             "opt": "model.decoder.embed_tokens.weight"}.get(arch)
    if embed:
        state = _Tied(state, embed)
    cfg = infer_config(state, arch, heads, seq_len, hf_config, **(config_overrides or {}))
    weights = StateDictWeights(state, method=method, max_iter=max_iter)
    return models.build(arch, cfg, weights=weights, **build_kwargs)
