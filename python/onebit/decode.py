"""A decoding step of a LLaMA-style model with a key/value cache, in the two
forms onebit compiles into a library that keeps the cache on the device.

``build_llama_decode`` writes onebit's own form. Inputs: ``input_ids`` int64
[1, T] (T symbolic, ``sequence``: one token to decode, or a chunk of a
prompt), ``position`` int64 [1] (the positions already in the cache; the
new tokens are ``position .. position + T - 1``), and per layer i
``past_key.i`` and ``past_value.i`` [1, kv_heads, max_len, head_dim], of
which only the first ``position`` rows are read (keys hold their rotary
embedding already). Outputs: ``logits`` [1, T, vocab] and the new tokens'
``key.i`` and ``value.i`` [1, kv_heads, T, head_dim], which a caller stores
at rows ``position ..`` of the caches.

``build_llama_decode(..., form="optimum")`` writes the form that Hugging
Face Optimum and ``torch.onnx.export`` give a decoder with past key values:
inputs ``input_ids`` [batch, sequence], ``attention_mask`` [batch, past +
sequence], ``position_ids`` [batch, sequence] and per layer
``past_key_values.i.key`` / ``.value`` [batch, kv_heads, past, head_dim]
(``past`` dynamic); outputs ``logits`` and ``present.i.key`` / ``.value``,
each ``Concat(past, new)`` along the rows.

Both compute what ``models.build_llama`` computes: at every position the
logits equal the full-sequence model's, up to rounding.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from onnx import TensorProto

from . import reference
from .graph import onnx_type
from .models import (BuiltModel, LlamaConfig, _check_heads, _common, _Ctx, _finish,
                     _mask_value, _rms_norm, _rotary, kv_heads, llama_mlp_block, repeat_kv,
                     split_heads)

FORMS = ("onebit", "optimum")


def cache_shape(config: LlamaConfig, max_len):
    return [1, kv_heads(config), max_len, config.d_model // config.n_heads]


def cache_names(config: LlamaConfig, form: str = "onebit"):
    """(past key, past value, new key, new value) names of each layer."""
    if form == "onebit":
        return [(f"past_key.{i}", f"past_value.{i}", f"key.{i}", f"value.{i}")
                for i in range(config.n_layers)]
    return [(f"past_key_values.{i}.key", f"past_key_values.{i}.value",
             f"present.{i}.key", f"present.{i}.value") for i in range(config.n_layers)]


def build_llama_decode(config: LlamaConfig, max_len: int, encoding="packed",
                       dtype="float32", opset: int = 18, seed: int = 0, weights=None,
                       path: Optional[str] = None, external_data: bool = False,
                       location: Optional[str] = None, form: str = "onebit",
                       attention: str = "eager") -> BuiltModel:
    """``max_len``: the rows of onebit's cache, and of the rotary tables of
    both forms (the most positions the model takes). ``attention``:
    ``eager`` scales the scores by 1/sqrt(head_dim) (transformers' eager
    attention), ``sdpa`` scales Q and Kᵀ by head_dim^-1/4 each and zeroes
    NaN probabilities after the softmax, as torch's exported
    ``scaled_dot_product_attention`` does."""
    c = config
    _check_heads(c)
    if max_len < 1:
        raise ValueError("max_len must be positive")
    if form not in FORMS:
        raise ValueError(f"form must be one of {', '.join(FORMS)}, got {form!r}")
    if attention not in ("eager", "sdpa"):
        raise ValueError(f"attention must be eager or sdpa, got {attention!r}")
    dtype, weights, sink = _common(dtype, seed, weights, path, external_data, location)
    ctx = _Ctx("llama", c, dtype, opset, encoding, weights, sink, 7 * c.n_layers,
               c.n_layers, 7, True, "mul")
    gb, d, hd = ctx.gb, c.d_model, c.d_model // c.n_heads
    dkv = kv_heads(c) * hd
    ftype = onnx_type(dtype)
    optimum = form == "optimum"
    batch, seq = ("batch_size", "sequence_length") if optimum else (1, "sequence")
    past, total = "past_sequence_length", "past_sequence_length + sequence_length"
    ids = gb.input("input_ids", TensorProto.INT64, [batch, seq])
    if optimum:
        attention_mask = gb.input("attention_mask", TensorProto.INT64, [batch, total])
        position_ids = gb.input("position_ids", TensorProto.INT64, [batch, seq])
    else:
        position = gb.input("position", TensorProto.INT64, [1])
    emb = ctx.dense("model.embed_tokens.weight", (c.vocab_size, d))
    x = gb.node("Gather", [emb, ids], name="model.embed_tokens/Gather", axis=0)

    # The new tokens' count T and positions.
    t_len = gb.node("Gather", [gb.node("Shape", [ids], name="seq/Shape"),
                               gb.ints(1, "seq.axis")], name="seq/Length", axis=0)
    t_range = gb.node("Range", [gb.ints(0, "seq.zero"), t_len, gb.ints(1, "seq.one")],
                      name="seq/Range")
    if optimum:
        positions = position_ids  # [B, T]
    else:
        positions = gb.node("Add", [position, t_range], name="seq/Positions")  # [T]
    # Positions past the tables (a padded chunk's tail) read the last row.
    positions = gb.node("Min", [positions, gb.ints(max_len - 1, "rope.last")],
                        name="rope/Clamp")
    cos, sin = reference.rotary_tables(max_len, hd, c.rope_base)
    rope = []
    for nm, table in (("Cos", cos), ("Sin", sin)):
        g = gb.node("Gather", [gb.initializer(f"rope.{nm.lower()}", table.astype(dtype)),
                               positions], name=f"rope/Gather{nm}", axis=0)
        # [T, hd] or [B, T, hd] -> broadcast over [B, H, T, hd]
        rope.append(gb.node("Unsqueeze", [g, gb.ints([1] if optimum else [0, 1],
                                                     "rope.head_axes")],
                            name=f"rope/Unsqueeze{nm}"))

    # The additive mask [B|1, 1, T, past + T]: a cached row is seen where it
    # exists, a new token sees the new tokens up to itself.
    mask_value = gb.const(_mask_value(dtype), name="attn.mask_value")
    zero = gb.const(0.0, name="attn.zero")
    if optimum:
        # Hugging Face's causal mask from attention_mask: row j of the
        # past + T columns is seen by new token t when attention_mask[j] = 1
        # and j <= past + t.
        kv_len = gb.node("Gather", [gb.node("Shape", [attention_mask], name="mask/Shape"),
                                    gb.ints(1, "mask.axis")], name="mask/KvLength", axis=0)
        past_len = gb.node("Sub", [kv_len, t_len], name="mask/PastLength")
        cols = gb.node("Range", [gb.ints(0, "mask.zero"), kv_len, gb.ints(1, "mask.one")],
                       name="mask/Columns")  # [past + T]
        last = gb.node("Add", [gb.node("Unsqueeze", [t_range, gb.ints([1], "mask.col_axis")],
                                       name="mask/Rows"), past_len],
                       name="mask/LastSeen")  # [T, 1]
        causal = gb.node("LessOrEqual", [cols, last], name="mask/Causal")  # [T, past+T]
        present = gb.node("Cast", [attention_mask], name="mask/Cast", to=TensorProto.BOOL)
        present = gb.node("Unsqueeze", [present, gb.ints([1, 2], "mask.expand_axes")],
                          name="mask/Unsqueeze")  # [B, 1, 1, past+T]
        seen = gb.node("And", [causal, present], name="mask/And")  # [B, 1, T, past+T]
    else:
        rows = gb.const(np.arange(max_len), np.int64, "cache.rows")
        cached = gb.node("Less", [rows, position], name="cache/Exists")  # [max_len]
        cached = gb.node("Expand", [cached, gb.node("Concat", [gb.node(
            "Unsqueeze", [t_len, gb.ints([0], "mask.len_axis")], name="mask/TShape"),
            gb.ints([max_len], "cache.len")], name="mask/PastShape", axis=0)],
            name="mask/Past")  # [T, max_len]
        causal = gb.node("LessOrEqual", [
            gb.node("Unsqueeze", [t_range, gb.ints([0], "mask.row_axis")], name="mask/Cols"),
            gb.node("Unsqueeze", [t_range, gb.ints([1], "mask.col_axis")], name="mask/Rows")],
            name="mask/Causal")  # [T, T]
        seen = gb.node("Concat", [cached, causal], name="mask/Seen", axis=1)
        seen = gb.node("Unsqueeze", [seen, gb.ints([0, 1], "mask.batch_axes")],
                       name="mask/Unsqueeze")  # [1, 1, T, max_len + T]
    mask = gb.node("Where", [seen, zero, mask_value], name="mask/Values")
    scale = gb.const(1.0 / np.sqrt(hd), name="attn.scale")
    root_scale = gb.const(hd ** -0.25, name="attn.root_scale") if attention == "sdpa" else None
    names = cache_names(c, form)
    for i in range(c.n_layers):
        p = f"model.layers.{i}"
        past_k_name, past_v_name, new_k_name, new_v_name = names[i]
        cache_dims = cache_shape(c, past if optimum else max_len)
        if optimum:
            cache_dims[0] = batch
        past_k = gb.input(past_k_name, ftype, cache_dims)
        past_v = gb.input(past_v_name, ftype, cache_dims)
        hn = _rms_norm(ctx, x, f"{p}.input_layernorm.weight", d, c.rms_eps,
                       f"{p}.input_layernorm")
        q = split_heads(gb, ctx.linear(hn, f"{p}.self_attn.q_proj", d, d), c.n_heads, hd,
                        f"{p}/q")
        k = split_heads(gb, ctx.linear(hn, f"{p}.self_attn.k_proj", dkv, d), kv_heads(c), hd,
                        f"{p}/k")
        v = split_heads(gb, ctx.linear(hn, f"{p}.self_attn.v_proj", dkv, d), kv_heads(c), hd,
                        f"{p}/v")
        q, k = _rotary(gb, q, rope, hd, f"{p}/q"), _rotary(gb, k, rope, hd, f"{p}/k")
        keys = gb.node("Concat", [past_k, k], name=f"{p}/Keys", axis=2)
        values = gb.node("Concat", [past_v, v], name=f"{p}/Values", axis=2)
        out_dims = cache_shape(c, total if optimum else seq)
        if optimum:
            out_dims[0] = batch
        gb.output(keys if optimum else k, new_k_name, ftype, out_dims)
        gb.output(values if optimum else v, new_v_name, ftype, out_dims)
        keys = repeat_kv(gb, keys, c, f"{p}/k/repeat")
        values = repeat_kv(gb, values, c, f"{p}/v/repeat")
        kt = gb.node("Transpose", [keys], name=f"{p}/KeysT", perm=[0, 1, 3, 2])
        if attention == "sdpa":
            q = gb.node("Mul", [q, root_scale], name=f"{p}/ScaleQ")
            kt = gb.node("Mul", [kt, root_scale], name=f"{p}/ScaleK")
            s = gb.node("MatMul", [q, kt], name=f"{p}/Scores")
        else:
            s = gb.node("Mul", [gb.node("MatMul", [q, kt], name=f"{p}/Scores"), scale],
                        name=f"{p}/Scale")
        s = gb.node("Add", [s, mask], name=f"{p}/Mask")
        prob = gb.node("Softmax", [s], name=f"{p}/Softmax", axis=-1)
        if attention == "sdpa":
            prob = gb.node("Where", [gb.node("IsNaN", [prob], name=f"{p}/IsNaN"), zero, prob],
                           name=f"{p}/NaNToZero")
        o = gb.node("MatMul", [prob, values], name=f"{p}/Context")
        o = gb.node("Transpose", [o], name=f"{p}/MergeTranspose", perm=[0, 2, 1, 3])
        o = gb.node("Reshape", [o, gb.ints([0, 0, d], "attn.merge_shape")],
                    name=f"{p}/MergeReshape")
        x = gb.node("Add", [x, ctx.linear(o, f"{p}.self_attn.o_proj", d, d)],
                    name=f"{p}/ResidualAttn")
        x = llama_mlp_block(ctx, x, c, p)
    x = _rms_norm(ctx, x, "model.norm.weight", d, c.rms_eps, "model.norm")
    lm = ctx.dense("lm_head.weight", (c.vocab_size, d), scale=1.0 / np.sqrt(d), transpose=True)
    gb.output(gb.node("MatMul", [x, lm], name="lm_head/MatMul"), "logits", ftype,
              [batch, seq, c.vocab_size])
    return _finish(ctx, dtype, opset, path, sink,
                   f"OneBit LLaMA-style decoder, a step with a key/value cache ({form} form)")
