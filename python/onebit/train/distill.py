"""Teacher training, SVID initialisation, knowledge distillation, baselines
and the held-out metric (bits per byte), in PyTorch.

The student follows OneBit (arXiv 2402.11295, and its code, see
../shared/reference/formats.md §1): q/k/v/o and gate/up/down become
``OneBitLinear``; the latent weight starts at sign(W)·0.01 and g, h at the
rank-1 fit of |W| (NMF, or SVD as the alternative); embeddings, norms and
lm_head are the teacher's and stay frozen. The loss is the paper's Eq. 9:
KL(teacher ‖ student) on the logits plus α times the sum over layers of the
mean squared distance between L2-normalised hidden states (α = 1, the paper's
setting; its ablation in Table 6 also shows KL alone is worse).
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from .. import svid as svid_math
from . import corpus as corpus_mod
from .nn import LATENT_SCALE, Llama, OneBitLinear, init_teacher, onebit_linear

LN2 = math.log(2.0)


@dataclass
class TrainConfig:
    steps: int
    batch: int = 64
    seq_len: int = 256
    lr: float = 1e-3
    min_lr_ratio: float = 0.1
    warmup: int = 100
    weight_decay: float = 0.1
    betas: tuple = (0.9, 0.95)
    grad_clip: float = 1.0
    eval_every: int = 250
    eval_windows: int = 64  # held-out windows for the curve (the final metric uses all)
    log_every: int = 25


@dataclass
class Curve:
    """Training log: (step, loss) every log_every steps and (step, held-out
    bits per byte) every eval_every steps, with wall time."""
    loss: List[tuple] = field(default_factory=list)
    heldout_bpb: List[tuple] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self):
        return dict(loss=self.loss, heldout_bpb=self.heldout_bpb, seconds=self.seconds)


def autocast(device):
    if torch.device(device).type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to min_lr_ratio · lr at the last step."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


# --- the metric ---------------------------------------------------------------------

@torch.no_grad()
def bits_per_byte(model: Llama, windows: np.ndarray, device, batch: int = 32) -> float:
    """Mean next-byte cross-entropy over ``windows`` [n, T + 1], in bits."""
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(windows), batch):
        w = torch.from_numpy(windows[i:i + batch]).to(device)
        with autocast(device):
            logits, _ = model(w[:, :-1])
        nll = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]),
                              w[:, 1:].reshape(-1), reduction="sum")
        total += float(nll)
        count += w[:, 1:].numel()
    model.train()
    return total / count / LN2


# --- losses -------------------------------------------------------------------------

def kl_teacher_student(student_logits, teacher_logits):
    """KL(p_teacher ‖ p_student) per token, averaged over tokens (nats)."""
    v = student_logits.shape[-1]
    s = F.log_softmax(student_logits.float().reshape(-1, v), dim=-1)
    t = F.log_softmax(teacher_logits.float().reshape(-1, v), dim=-1)
    return (t.exp() * (t - s)).sum(-1).mean()


def hidden_state_mse(student_hidden, teacher_hidden):
    """Σ over layers of mean over tokens of ‖ĥ_T − ĥ_S‖², ĥ = h / ‖h‖₂."""
    total = 0.0
    for s, t in zip(student_hidden, teacher_hidden):
        s = F.normalize(s.float(), dim=-1)
        t = F.normalize(t.float(), dim=-1)
        total = total + (s - t).pow(2).sum(-1).mean()
    return total


def distillation_loss(student_logits, teacher_logits, student_hidden, teacher_hidden,
                      alpha: float):
    """OneBit's Eq. 9: L_KD + α · L_HS. Returns (total, kd, hs)."""
    kd = kl_teacher_student(student_logits, teacher_logits)
    hs = hidden_state_mse(student_hidden, teacher_hidden)
    return kd + alpha * hs, kd, hs


# --- students and baselines -----------------------------------------------------------

def student_from_teacher(teacher: Llama, method: str = "nmf") -> Llama:
    """The OneBit student: the teacher with every projection replaced by an
    SVID-initialised ``OneBitLinear``; everything else copied and frozen."""
    c = teacher.config
    student = Llama(c, onebit_linear(c.epsilon)).to(next(teacher.parameters()).device)
    own = dict(student.named_parameters())
    for name, p in teacher.named_parameters():
        if name in own and own[name].shape == p.shape and "_proj" not in name:
            own[name].data.copy_(p.data)
            own[name].requires_grad_(False)
    student_layers = dict(student.linears())
    for name, lin in teacher.linears():
        w = lin.weight.detach().double().cpu().numpy()
        r = svid_math.svid(w, method=method)
        target: OneBitLinear = student_layers[name]
        dev = target.weight.device
        target.weight.data.copy_(torch.from_numpy(r.signs * LATENT_SCALE).to(dev))
        target.input_factor.data.copy_(torch.from_numpy(r.g).to(dev))
        target.weight_scale.data.copy_(torch.from_numpy(r.h).to(dev))
    return student


def replace_dense_weights(teacher: Llama, approximate: Callable[[np.ndarray], np.ndarray]) -> Llama:
    """A copy of the teacher whose projection weights W are ``approximate(W)``
    (same architecture, no post-LayerNorm): for the untrained baselines."""
    model = copy.deepcopy(teacher)
    for _, lin in model.linears():
        w = lin.weight.detach().double().cpu().numpy()
        lin.weight.data.copy_(torch.from_numpy(approximate(w)).to(lin.weight))
    return model


def absmean_baseline(teacher: Llama) -> Llama:
    """Naive binarisation: sign(W) with a per-row absmean scale."""
    return replace_dense_weights(teacher, svid_math.absmean_baseline)


def svid_dense_baseline(teacher: Llama, method: str = "nmf") -> Llama:
    """W ≈ S ⊙ h gᵀ from SVID, used in the teacher's architecture."""
    return replace_dense_weights(teacher, lambda w: svid_math.svid(w, method=method).reconstruct())


# --- training loops -----------------------------------------------------------------

def _run(model, params, cfg: TrainConfig, data: np.ndarray, heldout: np.ndarray, device,
         seed: int, step_loss: Callable, log: Optional[Callable] = None,
         optimizer_kind: str = "adamw") -> Curve:
    rng = np.random.default_rng(seed)
    params = [p for p in params if p.requires_grad]
    if optimizer_kind == "adamw":
        opt = torch.optim.AdamW(params, lr=cfg.lr, betas=cfg.betas,
                                weight_decay=cfg.weight_decay)
    else:  # OneBit's student: Adam, no weight decay
        opt = torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas)
    eval_w = corpus_mod.eval_windows(heldout, cfg.seq_len, cfg.eval_windows)
    curve = Curve()
    start = time.time()
    model.train()
    for step in range(cfg.steps):
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg, step)
        batch = torch.from_numpy(corpus_mod.random_windows(data, cfg.batch, cfg.seq_len, rng))
        batch = batch.to(device, non_blocking=True)
        loss, parts = step_loss(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        last = step + 1 == cfg.steps
        if step % cfg.log_every == 0 or last:
            entry = (step, loss.item(), *[float(p) for p in parts], time.time() - start)
            curve.loss.append(entry)
        if (step + 1) % cfg.eval_every == 0 or last:
            bpb = bits_per_byte(model, eval_w, device)
            curve.heldout_bpb.append((step + 1, bpb, time.time() - start))
            if log:
                log(f"step {step + 1}/{cfg.steps} loss {loss.item():.4f} held-out "
                    f"{bpb:.4f} bits/byte ({time.time() - start:.0f} s)")
    curve.seconds = time.time() - start
    return curve


def train_teacher(config, cfg: TrainConfig, corpus: corpus_mod.Corpus, device, seed: int,
                  log=None):
    torch.manual_seed(seed)
    model = Llama(config)
    init_teacher(model, seed)
    model.to(device)

    def step_loss(batch):
        with autocast(device):
            logits, _ = model(batch[:, :-1])
        loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]),
                               batch[:, 1:].reshape(-1))
        return loss, ()

    curve = _run(model, model.parameters(), cfg, corpus.train, corpus.heldout, device, seed,
                 step_loss, log)
    return model, curve


def distill(teacher: Llama, student: Llama, cfg: TrainConfig, corpus: corpus_mod.Corpus,
            device, seed: int, alpha: float = 1.0, log=None) -> Curve:
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)

    def step_loss(batch):
        ids = batch[:, :-1]
        with torch.no_grad(), autocast(device):
            t_logits, t_hidden = teacher(ids, return_hidden=True)
        with autocast(device):
            s_logits, s_hidden = student(ids, return_hidden=True)
        total, kd, hs = distillation_loss(s_logits, t_logits, s_hidden, t_hidden, alpha)
        return total, (kd, hs)

    return _run(student, student.parameters(), cfg, corpus.train, corpus.heldout, device,
                seed + 1, step_loss, log, optimizer_kind="adam")
