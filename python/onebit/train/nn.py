"""PyTorch modules of the teacher (LLaMA-style) and of the OneBit student.

The math is exactly what ``onebit.models.build_llama`` writes to ONNX (HF
LLaMA: RMSNorm with eps inside the root, half-rotation rotary embeddings,
SwiGLU, no biases, untied lm_head), so a trained model exports without
any change of meaning. Works with torch 1.13 and 2.x.
"""
from __future__ import annotations

import math
from typing import Callable, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from ..models import LLAMA_LINEARS, LlamaConfig

STE_EPSILON = 0.001  # OneBit's SignSTEFunc: d sign(w)/dw := 1.001 − tanh²(w)
LATENT_SCALE = 0.01  # OneBit's build_start_ckpt.py: latent weight = sign(W) · 0.01


class SignSTE(torch.autograd.Function):
    """sign(w) with sign(0) = +1 forward; straight-through gradient
    ``grad · (1 + ε − tanh²(w))`` backward, as OneBit's SignSTEFunc."""

    @staticmethod
    def forward(ctx, w):
        ctx.save_for_backward(w)
        return torch.where(w < 0, -torch.ones_like(w), torch.ones_like(w))

    @staticmethod
    def backward(ctx, grad):
        (w,) = ctx.saved_tensors
        return grad * (1.0 + STE_EPSILON - torch.tanh(w) ** 2)


class OneBitLinear(nn.Module):
    """y = LayerNorm(((x ⊙ g) · sign(W)ᵀ) ⊙ h), LayerNorm without affine
    parameters over the outputs (OneBit's BitLinear, bias-free)."""

    def __init__(self, in_features: int, out_features: int, epsilon: float = 1e-5):
        super().__init__()
        self.in_features, self.out_features, self.epsilon = in_features, out_features, epsilon
        self.weight = nn.Parameter(torch.empty(out_features, in_features))  # latent
        self.input_factor = nn.Parameter(torch.ones(in_features))  # g
        self.weight_scale = nn.Parameter(torch.ones(out_features))  # h
        nn.init.normal_(self.weight, std=LATENT_SCALE)

    def signs(self) -> torch.Tensor:
        return SignSTE.apply(self.weight)

    def forward(self, x):
        y = F.linear(x * self.input_factor, self.signs().to(x.dtype)) * self.weight_scale
        return F.layer_norm(y, (self.out_features,), eps=self.epsilon)


def dense_linear(in_features: int, out_features: int) -> nn.Module:
    return nn.Linear(in_features, out_features, bias=False)


def onebit_linear(epsilon: float) -> Callable[[int, int], nn.Module]:
    return lambda k, n: OneBitLinear(k, n, epsilon)


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        x32 = x.float()
        y = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return (y * self.weight).to(x.dtype)


def rotary_tables(seq_len: int, head_dim: int, base: float, device=None):
    inv = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float64, device=device)
                         / head_dim)
    freqs = torch.outer(torch.arange(seq_len, dtype=torch.float64, device=device), inv)
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos().float(), emb.sin().float()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def causal_attention(q, k, v):
    """q, k, v [B, H, T, hd]: causal softmax attention, scale 1/sqrt(hd)."""
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    t = q.shape[-2]
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
    mask = torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1)
    return torch.softmax(scores.masked_fill(mask, float("-inf")), dim=-1) @ v


class Block(nn.Module):
    def __init__(self, c: LlamaConfig, make_linear):
        super().__init__()
        d = c.d_model
        self.n_heads = c.n_heads
        self.input_layernorm = RMSNorm(d, c.rms_eps)
        self.post_attention_layernorm = RMSNorm(d, c.rms_eps)
        self.self_attn = nn.ModuleDict({m: make_linear(d, d) for m in
                                        ("q_proj", "k_proj", "v_proj", "o_proj")})
        self.mlp = nn.ModuleDict({"gate_proj": make_linear(d, c.ffn),
                                  "up_proj": make_linear(d, c.ffn),
                                  "down_proj": make_linear(c.ffn, d)})

    def forward(self, x, cos, sin):
        b, t, d = x.shape
        hd = d // self.n_heads
        hn = self.input_layernorm(x)

        def heads(y):
            return y.view(b, t, self.n_heads, hd).transpose(1, 2)

        a = self.self_attn
        q, k, v = heads(a["q_proj"](hn)), heads(a["k_proj"](hn)), heads(a["v_proj"](hn))
        q = q * cos.to(q.dtype) + rotate_half(q) * sin.to(q.dtype)
        k = k * cos.to(k.dtype) + rotate_half(k) * sin.to(k.dtype)
        o = causal_attention(q, k, v).transpose(1, 2).reshape(b, t, d)
        x = x + a["o_proj"](o)
        hn = self.post_attention_layernorm(x)
        m = self.mlp
        return x + m["down_proj"](F.silu(m["gate_proj"](hn)) * m["up_proj"](hn))


class Llama(nn.Module):
    """Byte-level LLaMA-style decoder; parameter names are those of HF LLaMA
    (``model.layers.0.self_attn.q_proj.weight`` ...), which onebit's ONNX
    builder uses too."""

    def __init__(self, c: LlamaConfig, make_linear=dense_linear):
        super().__init__()
        self.config = c
        self.model = nn.Module()
        self.model.embed_tokens = nn.Embedding(c.vocab_size, c.d_model)
        self.model.layers = nn.ModuleList(Block(c, make_linear) for _ in range(c.n_layers))
        self.model.norm = RMSNorm(c.d_model, c.rms_eps)
        self.lm_head = nn.Linear(c.d_model, c.vocab_size, bias=False)

    def forward(self, ids, return_hidden: bool = False
                ) -> Tuple[torch.Tensor, Optional[List[torch.Tensor]]]:
        """ids [B, T] -> logits [B, T, V] (and the output of every layer)."""
        c = self.config
        t = ids.shape[1]
        cos, sin = rotary_tables(t, c.d_model // c.n_heads, c.rope_base, ids.device)
        x = self.model.embed_tokens(ids)
        hidden = []
        for layer in self.model.layers:
            x = layer(x, cos, sin)
            hidden.append(x)
        logits = self.lm_head(self.model.norm(x))
        return logits, (hidden if return_hidden else None)

    def linears(self):
        """(name, module) of the projections that become 1-bit layers."""
        for i, layer in enumerate(self.model.layers):
            for name in LLAMA_LINEARS:
                group, proj = name.split(".")
                yield f"model.layers.{i}.{name}", getattr(layer, group)[proj]


def init_teacher(model: Llama, seed: int):
    """GPT-2 style init: N(0, 0.02), output projections scaled by 1/sqrt(2L)."""
    gen = torch.Generator().manual_seed(seed)
    std = 0.02
    for name, p in model.named_parameters():
        if name.endswith("norm.weight") or "layernorm" in name:
            continue
        s = std / math.sqrt(2 * model.config.n_layers) if name.endswith(
            ("o_proj.weight", "down_proj.weight")) else std
        with torch.no_grad():
            p.copy_(torch.randn(p.shape, generator=gen) * s)


def state_dict_numpy(model: Llama):
    """The model's weights as numpy float32 arrays under their HF names; a
    ``OneBitLinear`` in OneBit's inference format: ``weight`` uint8
    [N, ceil(K/8)] packed signs (bit 1 = −1, lowest k in the LSB),
    ``input_factor`` (g) and ``weight_scale`` (h)."""
    from ..packing import ONEBIT_PACKING, pack_signs
    state = {}
    for name, p in model.named_parameters():
        module_name = name.rsplit(".", 1)[0]
        module = model.get_submodule(module_name)
        if isinstance(module, OneBitLinear) and name.endswith(".weight"):
            state[name] = pack_signs(module.signs().detach().cpu().numpy(), ONEBIT_PACKING)
        else:
            state[name] = p.detach().float().cpu().numpy()
    return state


def load_state_dict_numpy(model: Llama, state):
    """Loads a dense model's weights from ``state_dict_numpy``'s output."""
    own = dict(model.named_parameters())
    missing = set(own) - set(state)
    if missing:
        raise KeyError(f"state has no {sorted(missing)[0]!r} (and {len(missing) - 1} more)")
    with torch.no_grad():
        for name, p in own.items():
            p.copy_(torch.from_numpy(state[name]))
