"""One decoding step of a LLaMA-style model with a key/value cache.

``build_llama_decode`` writes the graph that generation runs once per token:
the token at ``position`` attends to the keys and values of the positions
before it, which the caller keeps, plus its own. Inputs: ``input_ids``
int64 [1, 1], ``position`` int64 [1], and per layer i ``past_key.i`` and
``past_value.i`` [1, heads, max_len, head_dim] (only the first ``position``
rows are read; keys hold the rotary embedding already). Outputs: ``logits``
[1, 1, vocab] and the token's ``key.i`` and ``value.i`` [1, heads, 1,
head_dim], which the caller stores at row ``position`` of the caches.

Its weights and math are those of ``models.build_llama``: at every position
its logits equal the full-sequence model's, up to rounding.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from onnx import TensorProto

from . import reference
from .graph import onnx_type
from .models import (BuiltModel, LlamaConfig, _check_heads, _common, _Ctx, _finish,
                     _mask_value, _rms_norm, _rotary, llama_mlp_block)


def cache_shape(config: LlamaConfig, max_len: int):
    return [1, config.n_heads, max_len, config.d_model // config.n_heads]


def build_llama_decode(config: LlamaConfig, max_len: int, encoding="packed",
                       dtype="float32", opset: int = 18, seed: int = 0, weights=None,
                       path: Optional[str] = None) -> BuiltModel:
    c = config
    _check_heads(c)
    if max_len < 1:
        raise ValueError("max_len must be positive")
    dtype, weights, sink = _common(dtype, seed, weights, path, False, None)
    ctx = _Ctx("llama", c, dtype, opset, encoding, weights, sink, 7 * c.n_layers,
               c.n_layers, 7, True, "mul")
    gb, d, hd = ctx.gb, c.d_model, c.d_model // c.n_heads
    ftype = onnx_type(dtype)
    ids = gb.input("input_ids", TensorProto.INT64, [1, 1])
    position = gb.input("position", TensorProto.INT64, [1])
    emb = ctx.dense("model.embed_tokens.weight", (c.vocab_size, d))
    x = gb.node("Gather", [emb, ids], name="model.embed_tokens/Gather", axis=0)
    cos, sin = reference.rotary_tables(max_len, hd, c.rope_base)
    cos = gb.node("Gather", [gb.initializer("rope.cos", cos.astype(dtype)), position],
                  name="rope/GatherCos", axis=0)  # [1, hd]
    sin = gb.node("Gather", [gb.initializer("rope.sin", sin.astype(dtype)), position],
                  name="rope/GatherSin", axis=0)
    # positions at or after this token's are not in the cache yet
    later = gb.node("GreaterOrEqual", [gb.const(np.arange(max_len), np.int64, "cache.rows"),
                                       position], name="cache/Later")
    mask = gb.node("Where", [later, gb.const(_mask_value(dtype), name="cache.mask_value"),
                             gb.const(0.0, name="cache.zero")], name="cache/Mask")
    heads_shape = gb.ints([1, 1, c.n_heads, hd], "attn.heads_shape")
    scale = gb.const(1.0 / np.sqrt(hd), name="attn.scale")
    for i in range(c.n_layers):
        p = f"model.layers.{i}"
        past_k = gb.input(f"past_key.{i}", ftype, cache_shape(c, max_len))
        past_v = gb.input(f"past_value.{i}", ftype, cache_shape(c, max_len))
        hn = _rms_norm(ctx, x, f"{p}.input_layernorm.weight", d, c.rms_eps,
                       f"{p}.input_layernorm")

        def heads(t, nm):
            t = gb.node("Reshape", [t, heads_shape], name=f"{p}/{nm}/Reshape")
            return gb.node("Transpose", [t], name=f"{p}/{nm}/Transpose", perm=[0, 2, 1, 3])

        q, k, v = (heads(ctx.linear(hn, f"{p}.self_attn.{m}_proj", d, d), m) for m in "qkv")
        q, k = (_rotary(gb, t, (cos, sin), hd, f"{p}/{nm}") for t, nm in ((q, "q"), (k, "k")))
        gb.output(k, f"key.{i}", ftype, [1, c.n_heads, 1, hd])
        gb.output(v, f"value.{i}", ftype, [1, c.n_heads, 1, hd])
        kt = gb.node("Transpose", [past_k], name=f"{p}/PastKeyT", perm=[0, 1, 3, 2])
        s_past = gb.node("Add", [gb.node("MatMul", [q, kt], name=f"{p}/PastScores"), mask],
                         name=f"{p}/PastMask")
        s_self = gb.node("MatMul", [q, gb.node("Transpose", [k], name=f"{p}/KeyT",
                                               perm=[0, 1, 3, 2])], name=f"{p}/SelfScore")
        s = gb.node("Concat", [s_past, s_self], name=f"{p}/Scores", axis=-1)
        prob = gb.node("Softmax", [gb.node("Mul", [s, scale], name=f"{p}/Scale")],
                       name=f"{p}/Softmax", axis=-1)
        p_past = gb.slice(prob, [0], [max_len], [3], name=f"{p}/ProbPast")
        p_self = gb.slice(prob, [max_len], [max_len + 1], [3], name=f"{p}/ProbSelf")
        o = gb.node("Add", [gb.node("MatMul", [p_past, past_v], name=f"{p}/PastContext"),
                            gb.node("Mul", [p_self, v], name=f"{p}/SelfContext")],
                    name=f"{p}/Context")
        o = gb.node("Transpose", [o], name=f"{p}/MergeTranspose", perm=[0, 2, 1, 3])
        o = gb.node("Reshape", [o, gb.ints([1, 1, d], "attn.merge_shape")],
                    name=f"{p}/MergeReshape")
        x = gb.node("Add", [x, ctx.linear(o, f"{p}.self_attn.o_proj", d, d)],
                    name=f"{p}/ResidualAttn")
        x = llama_mlp_block(ctx, x, c, p)
    x = _rms_norm(ctx, x, "model.norm.weight", d, c.rms_eps, "model.norm")
    lm = ctx.dense("lm_head.weight", (c.vocab_size, d), scale=1.0 / np.sqrt(d), transpose=True)
    gb.output(gb.node("MatMul", [x, lm], name="lm_head/MatMul"), "logits", ftype,
              [1, 1, c.vocab_size])
    return _finish(ctx, dtype, opset, path, sink,
                   "OneBit LLaMA-style decoder, one step with a key/value cache")

