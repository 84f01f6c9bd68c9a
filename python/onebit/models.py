"""Model builders: OneBit MLP, LLaMA-style and OPT-style decoders.

Every 1-bit linear goes through ``encodings.emit`` with the encoding chosen
for it; everything else (embeddings, norms, lm_head) stays full precision.
Tensor names follow Hugging Face (``model.layers.0.self_attn.q_proj`` ...),
so a state dict maps onto a model by name. Builders return a ``BuiltModel``;
``reference_forward`` recomputes its output in numpy float64 from the same
weight source, and ``list_onebit_layers`` lists the 1-bit layers.

Over 600 lines on purpose: each architecture's builder and its float64
reference sit in one module, so that a change to one is made beside the
other.
"""
from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
import onnx
from onnx import TensorProto

from . import encodings, reference
from .graph import GraphBuilder, TensorSink, np_dtype, onnx_type
from .layer import OneBitLayer
from .weights import RandomWeights

EncodingSpec = Union[str, Sequence[str], Dict[str, str], Callable[[str, int], str]]

MAX_PROTO_BYTES = 2 ** 31 - 2 ** 24  # protobuf's 2 GiB limit, with headroom


# --- configurations -------------------------------------------------------------

@dataclass
class MLPConfig:
    """Stack of OneBit linears: sizes[0] -> sizes[1] -> ... with ``activation`` between."""

    sizes: List[int] = field(default_factory=lambda: [16, 44, 13, 8])
    activation: str = "relu"  # relu | silu | none
    bias: bool = True
    layer_norm: bool = True
    epsilon: float = 1e-5
    batch: int = 2
    seq_len: Optional[int] = None  # None: 2-D input [B, K]; else [B, T, K]


@dataclass
class LlamaConfig:
    vocab_size: int = 64
    d_model: int = 32
    n_layers: int = 2
    n_heads: int = 4
    ffn: int = 44
    seq_len: int = 8
    batch: int = 1
    rms_eps: float = 1e-6
    n_kv_heads: Optional[int] = None  # grouped-query attention; None: n_heads
    rope_base: float = 10000.0
    layer_norm: bool = True  # OneBit's LayerNorm in every 1-bit linear
    epsilon: float = 1e-5
    mask: str = "add"  # add: Add a constant -1e4/-1e9 upper triangle; where: Where


@dataclass
class OPTConfig:
    vocab_size: int = 64
    d_model: int = 32
    n_layers: int = 2
    n_heads: int = 4
    ffn: int = 72
    seq_len: int = 8
    batch: int = 1
    max_positions: Optional[int] = None  # default seq_len; the table has 2 more rows
    ln_eps: float = 1e-5
    layer_norm: bool = True
    epsilon: float = 1e-5
    mask: str = "add"


PRESETS = {
    "mlp-tiny": ("mlp", {}),
    "llama-tiny": ("llama", {}),
    "llama-7b": ("llama", dict(vocab_size=32000, d_model=4096, n_layers=32, n_heads=32,
                               ffn=11008, seq_len=256)),
    "opt-tiny": ("opt", {}),
    "opt-125m": ("opt", dict(vocab_size=50272, d_model=768, n_layers=12, n_heads=12,
                             ffn=3072, seq_len=256, max_positions=2048)),
    "opt-1.3b": ("opt", dict(vocab_size=50272, d_model=2048, n_layers=24, n_heads=32,
                             ffn=8192, seq_len=256, max_positions=2048)),
}
CONFIGS = {"mlp": MLPConfig, "llama": LlamaConfig, "opt": OPTConfig}


def make_config(arch: str, preset: Optional[str] = None, **overrides):
    """Config of ``arch`` from an optional preset, with keyword overrides (None ignored)."""
    base = {}
    if preset:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; have {', '.join(PRESETS)}")
        parch, base = PRESETS[preset]
        if parch != arch:
            raise ValueError(f"preset {preset!r} is a {parch} model, not {arch}")
    base = dict(base)
    base.update({k: v for k, v in overrides.items() if v is not None})
    return CONFIGS[arch](**base)


# --- results --------------------------------------------------------------------

@dataclass
class BuiltModel:
    arch: str
    config: object
    dtype: np.dtype
    opset: int
    encodings: Dict[str, str]  # 1-bit layer name -> encoding, in build order
    weights: object  # the source, to recompute the reference
    model: Optional[onnx.ModelProto] = None  # None once written with external data
    path: Optional[str] = None
    layers: List[dict] = field(default_factory=list)  # the onebit.layers metadata
    options: dict = field(default_factory=dict)

    @property
    def input_name(self) -> str:
        return "x" if self.arch == "mlp" else "input_ids"

    @property
    def output_name(self) -> str:
        return "y" if self.arch == "mlp" else "logits"

    def sample_input(self, seed: int = 0) -> np.ndarray:
        rng = np.random.default_rng(seed)
        c = self.config
        if self.arch == "mlp":
            shape = [c.batch] + ([c.seq_len] if c.seq_len else []) + [c.sizes[0]]
            return rng.standard_normal(shape).astype(self.dtype)
        return rng.integers(0, c.vocab_size, size=(c.batch, c.seq_len), dtype=np.int64)


def _encoding_picker(spec: EncodingSpec, n_linears: int, n_blocks: int, per_block: int):
    if isinstance(spec, str):
        return lambda name, i: spec
    if callable(spec):
        return spec
    if isinstance(spec, dict):
        return lambda name, i: spec[name]
    spec = list(spec)
    if len(spec) == n_linears:
        return lambda name, i: spec[i]
    if len(spec) == n_blocks:
        return lambda name, i: spec[i // per_block]
    raise ValueError(f"encoding list has {len(spec)} entries; expected {n_linears} "
                     f"(one per 1-bit linear) or {n_blocks} (one per block)")


class _Ctx:
    """Shared state of one build."""

    def __init__(self, arch, config, dtype, opset, encoding, weights, sink, n_linears,
                 n_blocks, per_block, ln_bias_input, ln_square):
        self.gb = GraphBuilder(opset, dtype, sink)
        self.arch, self.config, self.weights = arch, config, weights
        self.pick = _encoding_picker(encoding, n_linears, n_blocks, per_block)
        self.encodings: Dict[str, str] = {}
        self.layers: List[dict] = []
        self.ln_bias_input, self.ln_square = ln_bias_input, ln_square

    def dense(self, name, shape, kind="normal", scale=1.0, transpose=False):
        a = self.weights.dense(name, shape, kind, scale)
        if transpose:
            a = np.ascontiguousarray(a.T)
            name = name + "_t"
        return self.gb.initializer(name, a.astype(self.gb.dtype))

    def linear(self, x, name, n, k, bias=False, x_rank=3):
        c = self.config
        layer = self.weights.onebit(name, n, k, bias=bias, layer_norm=c.layer_norm,
                                    epsilon=c.epsilon)
        enc = self.pick(name, len(self.encodings))
        self.encodings[name] = enc
        self.layers.append(dict(name=name, out_features=n, in_features=k, encoding=enc,
                                layer_norm=bool(layer.layer_norm),
                                epsilon=float(layer.epsilon) if layer.layer_norm else None,
                                bias=layer.bias is not None))
        return encodings.emit(self.gb, x, layer, enc, x_rank=x_rank,
                              ln_bias_input=self.ln_bias_input, ln_square=self.ln_square)


def _finish(ctx: _Ctx, dtype, opset, path, sink, doc) -> BuiltModel:
    meta = {"onebit.layers": json.dumps(ctx.layers),
            "onebit.arch": ctx.arch,
            "onebit.config": json.dumps(dataclasses.asdict(ctx.config))}
    model = ctx.gb.model(f"onebit_{ctx.arch}", doc, meta)
    sink.close()
    built = BuiltModel(ctx.arch, ctx.config, np.dtype(dtype), opset, ctx.encodings,
                       ctx.weights, model, path, ctx.layers,
                       dict(ln_bias_input=ctx.ln_bias_input, ln_square=ctx.ln_square))
    if path:
        if sink.data_path is None and sink.total_bytes > MAX_PROTO_BYTES:
            raise ValueError(f"model has {sink.total_bytes / 2**30:.1f} GiB of weights; "
                             "protobuf cannot hold over 2 GiB: use external_data=True")
        onnx.save(model, path)
        if sink.data_path is not None:
            built.model = None  # the weights live in the data file; reload from path
    return built


def _sink_for(path, external_data, location):
    if not external_data:
        return TensorSink()
    if not path:
        raise ValueError("external_data needs an output path")
    location = location or os.path.basename(path) + ".data"
    return TensorSink(os.path.join(os.path.dirname(os.path.abspath(path)), location), location)


def _common(dtype, seed, weights, path, external_data, location):
    dtype = np_dtype(dtype)
    weights = weights if weights is not None else RandomWeights(seed)
    return dtype, weights, _sink_for(path, external_data, location)


# --- MLP ------------------------------------------------------------------------

def build_mlp(config: Optional[MLPConfig] = None, encoding: EncodingSpec = "packed",
              dtype="float32", opset: int = 17, seed: int = 0, weights=None,
              path: Optional[str] = None, external_data: bool = False,
              location: Optional[str] = None, ln_bias_input: bool = True,
              ln_square: str = "mul") -> BuiltModel:
    """OneBit MLP ``layers.i`` with input "x" [B, K0] (or [B, T, K0]) and output "y"."""
    c = config or MLPConfig()
    dtype, weights, sink = _common(dtype, seed, weights, path, external_data,
                                   location)
    n = len(c.sizes) - 1
    ctx = _Ctx("mlp", c, dtype, opset, encoding, weights, sink, n, n, 1, ln_bias_input,
               ln_square)
    gb = ctx.gb
    lead = [c.batch] + ([c.seq_len] if c.seq_len else [])
    x = gb.input("x", onnx_type(dtype), lead + [c.sizes[0]])
    for i in range(n):
        x = ctx.linear(x, f"layers.{i}", c.sizes[i + 1], c.sizes[i], bias=c.bias,
                       x_rank=len(lead) + 1)
        if i + 1 < n:
            x = _activation(gb, x, c.activation, f"layers.{i}")
    gb.output(x, "y", onnx_type(dtype), lead + [c.sizes[-1]])
    return _finish(ctx, dtype, opset, path, sink, "OneBit MLP")


def _activation(gb, x, act, prefix):
    if act == "relu":
        return gb.node("Relu", [x], name=f"{prefix}/Relu")
    if act == "silu":
        return gb.node("Mul", [x, gb.node("Sigmoid", [x], name=f"{prefix}/Sigmoid")],
                       name=f"{prefix}/SiLU")
    if act == "none":
        return x
    raise ValueError(f"unknown activation {act!r}")


# --- shared decoder pieces ------------------------------------------------------

def _mask_value(dtype):
    return -1e4 if np.dtype(dtype) == np.float16 else -1e9


def kv_heads(cfg) -> int:
    """Key/value heads: fewer than the query heads with grouped-query attention."""
    return getattr(cfg, "n_kv_heads", None) or cfg.n_heads


def split_heads(gb, t, heads, hd, prefix):
    """[B, T, heads * hd] -> [B, heads, T, hd] (T may be symbolic)."""
    t = gb.node("Reshape", [t, gb.ints([0, 0, heads, hd], "attn.heads_shape")],
                name=f"{prefix}/Reshape")
    return gb.node("Transpose", [t], name=f"{prefix}/Transpose", perm=[0, 2, 1, 3])


def repeat_kv(gb, t, cfg, prefix):
    """[B, Hkv, T, hd] -> [B, H, T, hd], each key/value head repeated for its
    group of query heads, as Hugging Face's repeat_kv exports it (Unsqueeze,
    Expand, Reshape)."""
    groups = cfg.n_heads // kv_heads(cfg)
    if groups == 1:
        return t
    hd = cfg.d_model // cfg.n_heads
    t = gb.node("Unsqueeze", [t, gb.ints([2], "attn.group_axis")], name=f"{prefix}/Unsqueeze")
    t = gb.node("Expand", [t, gb.ints([1, 1, groups, 1, 1], f"attn.groups_{groups}")],
                name=f"{prefix}/Expand")
    return gb.node("Reshape", [t, gb.ints([0, cfg.n_heads, -1, hd], "attn.repeated_shape")],
                   name=f"{prefix}/Reshape")


def _attention(ctx: _Ctx, q, k, v, cfg, prefix, rope=None):
    """q [B, T, D], k, v [B, T, Hkv·hd] -> [B, T, D]: heads, rotary, causal
    softmax attention."""
    gb = ctx.gb
    hd = cfg.d_model // cfg.n_heads
    q = split_heads(gb, q, cfg.n_heads, hd, f"{prefix}/q")
    k = split_heads(gb, k, kv_heads(cfg), hd, f"{prefix}/k")
    v = split_heads(gb, v, kv_heads(cfg), hd, f"{prefix}/v")
    if rope is not None:
        q, k = _rotary(gb, q, rope, hd, f"{prefix}/q"), _rotary(gb, k, rope, hd, f"{prefix}/k")
    k, v = repeat_kv(gb, k, cfg, f"{prefix}/k/repeat"), repeat_kv(gb, v, cfg, f"{prefix}/v/repeat")
    kt = gb.node("Transpose", [k], name=f"{prefix}/k/TransposeT", perm=[0, 1, 3, 2])
    s = gb.node("MatMul", [q, kt], name=f"{prefix}/Scores")
    s = gb.node("Mul", [s, gb.const(1.0 / np.sqrt(hd), name="attn.scale")],
                name=f"{prefix}/Scale")
    t = cfg.seq_len
    if cfg.mask == "where":
        keep = np.tril(np.ones((t, t), bool))
        s = gb.node("Where", [gb.const(keep, np.bool_, "attn.causal_keep"), s,
                              gb.const(_mask_value(gb.dtype), name="attn.mask_value")],
                    name=f"{prefix}/Mask")
    else:
        s = gb.node("Add", [s, gb.const(reference.causal_mask(t, _mask_value(gb.dtype)),
                                        name="attn.causal_mask")], name=f"{prefix}/Mask")
    p = gb.node("Softmax", [s], name=f"{prefix}/Softmax", axis=-1)
    o = gb.node("MatMul", [p, v], name=f"{prefix}/Context")
    o = gb.node("Transpose", [o], name=f"{prefix}/MergeTranspose", perm=[0, 2, 1, 3])
    return gb.node("Reshape", [o, gb.ints([0, 0, cfg.d_model], "attn.merge_shape")],
                   name=f"{prefix}/MergeReshape")


def _rotary(gb, x, rope, hd, prefix):
    cos, sin = rope
    half = hd // 2
    x1 = gb.slice(x, [0], [half], [3], name=f"{prefix}/rope/Slice1")
    x2 = gb.slice(x, [half], [hd], [3], name=f"{prefix}/rope/Slice2")
    rot = gb.node("Concat", [gb.node("Neg", [x2], name=f"{prefix}/rope/Neg"), x1],
                  name=f"{prefix}/rope/Concat", axis=-1)
    a = gb.node("Mul", [x, cos], name=f"{prefix}/rope/MulCos")
    b = gb.node("Mul", [rot, sin], name=f"{prefix}/rope/MulSin")
    return gb.node("Add", [a, b], name=f"{prefix}/rope/Add")


def _rms_norm(ctx: _Ctx, x, weight_name, d, eps, prefix):
    """PyTorch's export: Pow 2, ReduceMean, Add eps, Sqrt, Reciprocal, Mul, Mul weight."""
    gb = ctx.gb
    w = ctx.dense(weight_name, (d,), "norm_weight", 0.1)
    p = gb.node("Pow", [x, gb.const(2.0, name="rms.two")], name=f"{prefix}/Pow")
    m = gb.reduce_mean(p, name=f"{prefix}/ReduceMean")
    m = gb.node("Add", [m, gb.const(eps, name="rms.eps")], name=f"{prefix}/AddEps")
    r = gb.node("Reciprocal", [gb.node("Sqrt", [m], name=f"{prefix}/Sqrt")],
                name=f"{prefix}/Reciprocal")
    y = gb.node("Mul", [x, r], name=f"{prefix}/Mul")
    return gb.node("Mul", [y, w], name=f"{prefix}/MulWeight")


def _check_heads(cfg):
    if cfg.d_model % cfg.n_heads or (cfg.d_model // cfg.n_heads) % 2:
        raise ValueError("d_model must split into n_heads heads of even size")
    if cfg.n_heads % kv_heads(cfg):
        raise ValueError("n_heads must be a multiple of n_kv_heads")


# --- LLaMA ----------------------------------------------------------------------

LLAMA_LINEARS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                 "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")


def llama_mlp_block(ctx: _Ctx, x, c: LlamaConfig, p: str):
    """x + down(silu(gate(rms(x))) * up(rms(x))): the second half of layer ``p``."""
    gb, d = ctx.gb, c.d_model
    hn = _rms_norm(ctx, x, f"{p}.post_attention_layernorm.weight", d, c.rms_eps,
                   f"{p}.post_attention_layernorm")
    gate = ctx.linear(hn, f"{p}.mlp.gate_proj", c.ffn, d)
    up = ctx.linear(hn, f"{p}.mlp.up_proj", c.ffn, d)
    act = _activation(gb, gate, "silu", f"{p}.mlp")
    m = gb.node("Mul", [act, up], name=f"{p}.mlp/MulUp")
    return gb.node("Add", [x, ctx.linear(m, f"{p}.mlp.down_proj", d, c.ffn)],
                   name=f"{p}/ResidualMLP")


def build_llama(config: Optional[LlamaConfig] = None, encoding: EncodingSpec = "packed",
                dtype="float32", opset: int = 17, seed: int = 0, weights=None,
                path: Optional[str] = None, external_data: bool = False,
                location: Optional[str] = None, ln_bias_input: bool = True,
                ln_square: str = "mul") -> BuiltModel:
    """LLaMA-style decoder: "input_ids" int64 [B, T] -> "logits" [B, T, V]."""
    c = config or LlamaConfig()
    _check_heads(c)
    dtype, weights, sink = _common(dtype, seed, weights, path, external_data,
                                   location)
    ctx = _Ctx("llama", c, dtype, opset, encoding, weights, sink, 7 * c.n_layers,
               c.n_layers, 7, ln_bias_input, ln_square)
    gb, d = ctx.gb, c.d_model
    ids = gb.input("input_ids", TensorProto.INT64, [c.batch, c.seq_len])
    emb = ctx.dense("model.embed_tokens.weight", (c.vocab_size, d))
    x = gb.node("Gather", [emb, ids], name="model.embed_tokens/Gather", axis=0)
    cos, sin = reference.rotary_tables(c.seq_len, d // c.n_heads, c.rope_base)
    rope = (gb.initializer("rope.cos", cos.astype(dtype)),
            gb.initializer("rope.sin", sin.astype(dtype)))
    for i in range(c.n_layers):
        p = f"model.layers.{i}"
        hn = _rms_norm(ctx, x, f"{p}.input_layernorm.weight", d, c.rms_eps,
                       f"{p}.input_layernorm")
        dkv = kv_heads(c) * (d // c.n_heads)
        q = ctx.linear(hn, f"{p}.self_attn.q_proj", d, d)
        k = ctx.linear(hn, f"{p}.self_attn.k_proj", dkv, d)
        v = ctx.linear(hn, f"{p}.self_attn.v_proj", dkv, d)
        a = _attention(ctx, q, k, v, c, f"{p}.self_attn", rope)
        x = gb.node("Add", [x, ctx.linear(a, f"{p}.self_attn.o_proj", d, d)],
                    name=f"{p}/ResidualAttn")
        x = llama_mlp_block(ctx, x, c, p)
    x = _rms_norm(ctx, x, "model.norm.weight", d, c.rms_eps, "model.norm")
    lm = ctx.dense("lm_head.weight", (c.vocab_size, d), scale=1.0 / np.sqrt(d), transpose=True)
    logits = gb.node("MatMul", [x, lm], name="lm_head/MatMul")
    gb.output(logits, "logits", onnx_type(dtype), [c.batch, c.seq_len, c.vocab_size])
    return _finish(ctx, dtype, opset, path, sink, "OneBit LLaMA-style decoder")


# --- OPT ------------------------------------------------------------------------

OPT_LINEARS = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
               "self_attn.out_proj", "fc1", "fc2")
OPT_POSITION_OFFSET = 2  # HF OPT's learned positions start at row 2


def build_opt(config: Optional[OPTConfig] = None, encoding: EncodingSpec = "packed",
              dtype="float32", opset: int = 17, seed: int = 0, weights=None,
              path: Optional[str] = None, external_data: bool = False,
              location: Optional[str] = None, ln_bias_input: bool = True,
              ln_square: str = "mul") -> BuiltModel:
    """OPT-style (pre-LN) decoder: "input_ids" int64 [B, T] -> "logits" [B, T, V]."""
    c = config or OPTConfig()
    _check_heads(c)
    dtype, weights, sink = _common(dtype, seed, weights, path, external_data,
                                   location)
    ctx = _Ctx("opt", c, dtype, opset, encoding, weights, sink, 6 * c.n_layers, c.n_layers,
               6, ln_bias_input, ln_square)
    gb, d = ctx.gb, c.d_model
    maxpos = c.max_positions or c.seq_len
    if c.seq_len > maxpos:
        raise ValueError("seq_len exceeds max_positions")
    ids = gb.input("input_ids", TensorProto.INT64, [c.batch, c.seq_len])
    emb = ctx.dense("model.decoder.embed_tokens.weight", (c.vocab_size, d))
    pos = ctx.dense("model.decoder.embed_positions.weight", (maxpos + OPT_POSITION_OFFSET, d),
                    scale=0.1)
    x = gb.node("Gather", [emb, ids], name="model.decoder.embed_tokens/Gather", axis=0)
    pids = gb.ints(np.arange(c.seq_len) + OPT_POSITION_OFFSET, "model.decoder.position_ids")
    pe = gb.node("Gather", [pos, pids], name="model.decoder.embed_positions/Gather", axis=0)
    x = gb.node("Add", [x, pe], name="model.decoder/AddPositions")

    def ln(t, nm):
        w = ctx.dense(f"{nm}.weight", (d,), "norm_weight", 0.1)
        b = ctx.dense(f"{nm}.bias", (d,), "normal", 0.1)
        return gb.layer_norm(t, d, c.ln_eps, nm, weight=w, bias=b, square=ctx.ln_square)

    for i in range(c.n_layers):
        p = f"model.decoder.layers.{i}"
        hn = ln(x, f"{p}.self_attn_layer_norm")
        q = ctx.linear(hn, f"{p}.self_attn.q_proj", d, d, bias=True)
        k = ctx.linear(hn, f"{p}.self_attn.k_proj", d, d, bias=True)
        v = ctx.linear(hn, f"{p}.self_attn.v_proj", d, d, bias=True)
        a = _attention(ctx, q, k, v, c, f"{p}.self_attn")
        x = gb.node("Add", [x, ctx.linear(a, f"{p}.self_attn.out_proj", d, d, bias=True)],
                    name=f"{p}/ResidualAttn")
        hn = ln(x, f"{p}.final_layer_norm")
        f = gb.node("Relu", [ctx.linear(hn, f"{p}.fc1", c.ffn, d, bias=True)],
                    name=f"{p}/Relu")
        x = gb.node("Add", [x, ctx.linear(f, f"{p}.fc2", d, c.ffn, bias=True)],
                    name=f"{p}/ResidualMLP")
    x = ln(x, "model.decoder.final_layer_norm")
    lm = ctx.dense("lm_head.weight", (c.vocab_size, d), scale=1.0 / np.sqrt(d), transpose=True)
    lb = ctx.dense("lm_head.bias", (c.vocab_size,), _lm_bias_kind(weights), 0.1)
    logits = gb.node("Add", [gb.node("MatMul", [x, lm], name="lm_head/MatMul"), lb],
                     name="lm_head/AddBias")
    gb.output(logits, "logits", onnx_type(dtype), [c.batch, c.seq_len, c.vocab_size])
    return _finish(ctx, dtype, opset, path, sink, "OneBit OPT-style decoder")


def _lm_bias_kind(weights):
    # HF OPT has no lm_head bias: random models get one, a checkpoint's is 0
    # unless it has "lm_head.bias"
    return "normal" if isinstance(weights, RandomWeights) else "zeros"


BUILDERS = {"mlp": build_mlp, "llama": build_llama, "opt": build_opt}


def build(arch: str, config=None, **kwargs) -> BuiltModel:
    """build_mlp / build_llama / build_opt by name."""
    if arch not in BUILDERS:
        raise ValueError(f"unknown arch {arch!r}; choose from {', '.join(BUILDERS)}")
    return BUILDERS[arch](config, **kwargs)


# --- listing and reference ----------------------------------------------------------

def list_onebit_layers(model, structural: bool = True) -> List[dict]:
    """The 1-bit layers of a BuiltModel, ModelProto or .onnx path.

    Each entry: name, out_features (N), in_features (K), encoding,
    layer_norm, epsilon, bias, nbytes. ``structural=True`` finds them by the
    convention's patterns (detect.find_layers); False reads the writer's
    ``onebit.layers`` metadata.
    """
    from .detect import find_layers, metadata_layers
    if isinstance(model, BuiltModel):
        model = model.model if model.model is not None else model.path
    if not structural:
        return metadata_layers(model) or []
    return [info.as_dict() for info in find_layers(model)]


def _layer(built: BuiltModel, name, n, k, bias):
    c = built.config
    return built.weights.onebit(name, n, k, bias=bias, layer_norm=c.layer_norm,
                                epsilon=c.epsilon)


def _dense(built, name, shape, kind="normal", scale=1.0):
    return built.weights.dense(name, shape, kind, scale).astype(built.dtype).astype(np.float64)


def reference_forward(built: BuiltModel, x: np.ndarray) -> np.ndarray:
    """float64 numpy forward of a built model with its weights as stored.

    Computed from the architecture and the weight source, not from the ONNX
    graph, so it checks the graph as well as the runtime.
    """
    c, dt = built.config, built.dtype

    def lin(t, name, n, k, bias=False):
        return _layer(built, name, n, k, bias).forward(t, dt, built.encodings[name])

    def cast(t):  # constants are stored in the activation dtype
        return np.asarray(t).astype(dt).astype(np.float64)

    if built.arch == "mlp":
        t = np.asarray(x, np.float64)
        n = len(c.sizes) - 1
        for i in range(n):
            t = lin(t, f"layers.{i}", c.sizes[i + 1], c.sizes[i], c.bias)
            if i + 1 < n:
                t = {"relu": reference.relu, "silu": reference.silu,
                     "none": lambda v: v}[c.activation](t)
        return t

    d, hd = c.d_model, c.d_model // c.n_heads
    mask = cast(reference.causal_mask(c.seq_len, _mask_value(dt)))

    def attn(q, k, v, rope=None):
        q = reference.split_heads(q, c.n_heads)
        k, v = (reference.split_heads(t, kv_heads(c)) for t in (k, v))
        if rope is not None:
            q, k = reference.apply_rotary(q, *rope), reference.apply_rotary(k, *rope)
        groups = c.n_heads // kv_heads(c)
        k, v = np.repeat(k, groups, axis=1), np.repeat(v, groups, axis=1)
        return reference.merge_heads(reference.attention(q, k, v, mask))

    if built.arch == "llama":
        rope = tuple(cast(t) for t in reference.rotary_tables(c.seq_len, hd, c.rope_base))
        t = _dense(built, "model.embed_tokens.weight", (c.vocab_size, d))[x]
        for i in range(c.n_layers):
            p = f"model.layers.{i}"
            hn = reference.rms_norm(t, _dense(built, f"{p}.input_layernorm.weight", (d,),
                                              "norm_weight", 0.1), c.rms_eps)
            dkv = kv_heads(c) * hd
            q, k, v = (lin(hn, f"{p}.self_attn.{m}_proj", n, d)
                       for m, n in (("q", d), ("k", dkv), ("v", dkv)))
            t = t + lin(attn(q, k, v, rope), f"{p}.self_attn.o_proj", d, d)
            hn = reference.rms_norm(t, _dense(built, f"{p}.post_attention_layernorm.weight",
                                              (d,), "norm_weight", 0.1), c.rms_eps)
            m = reference.swiglu(lin(hn, f"{p}.mlp.gate_proj", c.ffn, d),
                                 lin(hn, f"{p}.mlp.up_proj", c.ffn, d))
            t = t + lin(m, f"{p}.mlp.down_proj", d, c.ffn)
        t = reference.rms_norm(t, _dense(built, "model.norm.weight", (d,), "norm_weight", 0.1),
                               c.rms_eps)
        return t @ _dense(built, "lm_head.weight", (c.vocab_size, d), scale=1 / np.sqrt(d)).T

    if built.arch == "opt":
        maxpos = c.max_positions or c.seq_len

        def ln(t, nm):
            return reference.layer_norm(t, c.ln_eps,
                                        _dense(built, f"{nm}.weight", (d,), "norm_weight", 0.1),
                                        _dense(built, f"{nm}.bias", (d,), "normal", 0.1))

        pos = _dense(built, "model.decoder.embed_positions.weight",
                     (maxpos + OPT_POSITION_OFFSET, d), scale=0.1)
        t = _dense(built, "model.decoder.embed_tokens.weight", (c.vocab_size, d))[x]
        t = t + pos[np.arange(c.seq_len) + OPT_POSITION_OFFSET]
        for i in range(c.n_layers):
            p = f"model.decoder.layers.{i}"
            hn = ln(t, f"{p}.self_attn_layer_norm")
            q, k, v = (lin(hn, f"{p}.self_attn.{m}_proj", d, d, True) for m in "qkv")
            t = t + lin(attn(q, k, v), f"{p}.self_attn.out_proj", d, d, True)
            hn = ln(t, f"{p}.final_layer_norm")
            t = t + lin(reference.relu(lin(hn, f"{p}.fc1", c.ffn, d, True)), f"{p}.fc2",
                        d, c.ffn, True)
        t = ln(t, "model.decoder.final_layer_norm")
        lb_kind = _lm_bias_kind(built.weights)
        return (t @ _dense(built, "lm_head.weight", (c.vocab_size, d), scale=1 / np.sqrt(d)).T
                + _dense(built, "lm_head.bias", (c.vocab_size,), lb_kind, 0.1))
    raise ValueError(built.arch)


def run_onnxruntime(built_or_model, x: np.ndarray, input_name: Optional[str] = None):
    """Runs a BuiltModel (or ModelProto / path) in onnxruntime on CPU; returns the output."""
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.log_severity_level = 3
    if isinstance(built_or_model, BuiltModel):
        src = built_or_model.model if built_or_model.model is not None else built_or_model.path
        input_name = input_name or built_or_model.input_name
    else:
        src = built_or_model
    if isinstance(src, onnx.ModelProto):
        src = src.SerializeToString()
    sess = ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])
    input_name = input_name or sess.get_inputs()[0].name
    return sess.run(None, {input_name: x})[0]
