"""CPU tests of the OneBit training pipeline (python/onebit/train) on tiny shapes."""
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from onebit import models, reference, svid
from onebit.train import corpus, distill, export, nn
from onebit.train.__main__ import main as train_main
from onebit.weights import StateDictWeights

TINY = dict(vocab_size=256, d_model=16, n_layers=2, n_heads=2, ffn=24, seq_len=12)


def tiny_config(**overrides):
    return models.make_config("llama", **{**TINY, **overrides})


def trained_like_teacher(seed=0):
    teacher = nn.Llama(tiny_config())
    nn.init_teacher(teacher, seed)
    with torch.no_grad():  # norms away from 1 so that copying them is checked
        for name, p in teacher.named_parameters():
            if "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    return teacher


# --- straight-through sign ------------------------------------------------------------

def test_sign_forward_maps_zero_to_plus_one():
    w = torch.tensor([-2.0, -0.0, 0.0, 1e-9, 3.0])
    assert nn.SignSTE.apply(w).tolist() == [-1, 1, 1, 1, 1]


def test_sign_backward_is_onebit_straight_through():
    w = torch.tensor([-2.0, -0.1, 0.0, 0.5, 3.0], requires_grad=True)
    nn.SignSTE.apply(w).mul(torch.arange(1.0, 6.0)).sum().backward()
    expected = torch.arange(1.0, 6.0) * (1.0 + nn.STE_EPSILON - torch.tanh(w.detach()) ** 2)
    assert torch.allclose(w.grad, expected)


def test_onebit_linear_matches_the_numpy_reference():
    lin = nn.OneBitLinear(20, 7)
    with torch.no_grad():
        lin.input_factor.uniform_(0.5, 1.5)
        lin.weight_scale.uniform_(0.5, 1.5)
    x = torch.randn(3, 20)
    s = np.where(lin.weight.detach().numpy() < 0, -1, 1)
    ref = reference.onebit_linear(x.double().numpy(), s, lin.input_factor.detach().double().numpy(),
                                  lin.weight_scale.detach().double().numpy())
    assert np.allclose(lin(x).detach().numpy(), ref, atol=1e-5)


def test_onebit_linear_gradients_reach_latent_g_and_h():
    lin = nn.OneBitLinear(8, 5)
    lin(torch.randn(4, 8)).pow(3).sum().backward()
    for p in (lin.weight, lin.input_factor, lin.weight_scale):
        assert p.grad is not None and p.grad.abs().sum() > 0


# --- SVID initialisation and baselines -------------------------------------------------

@pytest.mark.parametrize("method", ["nmf", "svd"])
def test_student_is_svid_of_the_teacher(method):
    teacher = trained_like_teacher()
    student = distill.student_from_teacher(teacher, method)
    students = dict(student.linears())
    for name, lin in teacher.linears():
        w = lin.weight.detach().double().numpy()
        r = svid.svid(w, method=method)
        s = students[name]
        assert isinstance(s, nn.OneBitLinear)
        assert np.array_equal(s.signs().detach().numpy(), r.signs)
        assert np.allclose(s.weight.detach().abs().numpy(), nn.LATENT_SCALE)
        assert np.allclose(s.input_factor.detach().numpy(), r.g, rtol=1e-5)
        assert np.allclose(s.weight_scale.detach().numpy(), r.h, rtol=1e-5)


def test_student_copies_and_freezes_everything_but_the_projections():
    teacher = trained_like_teacher()
    student = distill.student_from_teacher(teacher)
    t = dict(teacher.named_parameters())
    for name, p in student.named_parameters():
        if "_proj" in name:
            assert p.requires_grad, name
        else:
            assert not p.requires_grad, name
            assert torch.equal(p, t[name]), name


def test_untrained_baselines_replace_the_weights():
    teacher = trained_like_teacher()
    w = teacher.model.layers[0].mlp["up_proj"].weight.detach().double().numpy()
    absmean = distill.absmean_baseline(teacher).model.layers[0].mlp["up_proj"].weight
    assert np.allclose(absmean.detach().numpy(), svid.absmean_baseline(w), atol=1e-6)
    dense = distill.svid_dense_baseline(teacher).model.layers[0].mlp["up_proj"].weight
    assert np.allclose(dense.detach().numpy(), svid.svid(w).reconstruct(), atol=1e-6)
    # the teacher itself is untouched
    assert np.array_equal(teacher.model.layers[0].mlp["up_proj"].weight.detach().double().numpy(), w)


# --- losses -----------------------------------------------------------------------------

def test_kl_is_zero_for_equal_logits_and_matches_the_definition():
    t = torch.randn(2, 3, 11)
    assert distill.kl_teacher_student(t, t).abs() < 1e-6
    s = torch.randn(2, 3, 11)
    pt, ps = torch.softmax(t, -1), torch.softmax(s, -1)
    expected = (pt * (pt.log() - ps.log())).sum(-1).mean()
    assert torch.allclose(distill.kl_teacher_student(s, t), expected, atol=1e-6)
    assert distill.kl_teacher_student(s, t) > 0


def test_hidden_state_loss_compares_directions_and_sums_layers():
    a = [torch.randn(2, 5, 8) for _ in range(3)]
    scaled = [3.0 * h for h in a]
    assert distill.hidden_state_mse(scaled, a) < 1e-10
    b = [torch.randn(2, 5, 8) for _ in range(3)]
    per_layer = [(F.normalize(x, dim=-1) - F.normalize(y, dim=-1)).pow(2).sum(-1).mean()
                 for x, y in zip(a, b)]
    assert torch.allclose(distill.hidden_state_mse(a, b), sum(per_layer))


def test_distillation_loss_weights_the_hidden_term_by_alpha():
    s, t = torch.randn(1, 4, 9), torch.randn(1, 4, 9)
    hs, ht = [torch.randn(1, 4, 6)], [torch.randn(1, 4, 6)]
    total0, kd, hidden = distill.distillation_loss(s, t, hs, ht, 0.0)
    total2, _, _ = distill.distillation_loss(s, t, hs, ht, 2.0)
    assert torch.allclose(total0, kd)
    assert torch.allclose(total2, kd + 2.0 * hidden)


def test_learning_rate_warms_up_then_decays_to_the_floor():
    cfg = distill.TrainConfig(steps=100, lr=1.0, warmup=10, min_lr_ratio=0.1)
    assert distill.learning_rate(cfg, 0) == pytest.approx(0.1)
    assert distill.learning_rate(cfg, 9) == pytest.approx(1.0)
    assert distill.learning_rate(cfg, 10) == pytest.approx(1.0)
    assert distill.learning_rate(cfg, 100) == pytest.approx(0.1)
    rates = [distill.learning_rate(cfg, s) for s in range(10, 101)]
    assert all(a >= b for a, b in zip(rates, rates[1:]))


def test_bits_per_byte_of_a_uniform_model_is_eight():
    model = nn.Llama(tiny_config())
    with torch.no_grad():
        model.lm_head.weight.zero_()
    windows = np.random.default_rng(0).integers(0, 256, (3, 13))
    assert distill.bits_per_byte(model, windows, "cpu") == pytest.approx(8.0, abs=1e-5)


# --- the model math and the export -------------------------------------------------------

def test_teacher_matches_the_numpy_llama_of_the_onnx_builder():
    teacher = trained_like_teacher()
    state = nn.state_dict_numpy(teacher)
    ids = np.random.default_rng(1).integers(0, 256, (1, TINY["seq_len"]))
    logits, hidden = teacher(torch.from_numpy(ids), return_hidden=True)
    assert len(hidden) == TINY["n_layers"]
    ref = _llama_forward_dense(tiny_config(), state, ids)
    assert np.allclose(logits.detach().numpy(), ref, atol=1e-4)


def test_exported_student_state_matches_the_torch_student():
    """The numpy reference of the exported OneBit model (what the ONNX graph
    computes) reproduces the trained student's logits."""
    student = distill.student_from_teacher(trained_like_teacher())
    with torch.no_grad():  # move away from the SVID init, as training would
        for _, lin in student.linears():
            lin.weight.add_(0.02 * torch.randn_like(lin.weight))
            lin.weight_scale.mul_(torch.empty_like(lin.weight_scale).uniform_(0.5, 1.5))
    state = nn.state_dict_numpy(student)
    for name, _ in student.linears():
        assert state[f"{name}.weight"].dtype == np.uint8
    c = tiny_config()
    built = models.BuiltModel("llama", c, np.dtype(np.float32), 18,
                              {n: "packed" for n, _ in student.linears()},
                              StateDictWeights(state))
    ids = np.random.default_rng(2).integers(0, 256, (1, TINY["seq_len"]))
    ref = models.reference_forward(built, ids)
    logits, _ = student(torch.from_numpy(ids))
    assert np.allclose(logits.detach().numpy(), ref, atol=1e-4)


def test_state_shards_round_trip(tmp_path):
    state = {"a": np.arange(10, dtype=np.float32), "b": np.ones((4, 4), np.float32),
             "signs": np.arange(16, dtype=np.uint8)}
    paths = export.save_state(state, str(tmp_path / "s"), dtype=np.float16, shard_bytes=40)
    assert len(paths) > 1
    back = export.load_state(str(tmp_path / "s"))
    assert back["a"].dtype == np.float16 and back["signs"].dtype == np.uint8
    assert all(np.array_equal(back[k].astype(state[k].dtype), state[k]) for k in state)
    teacher = nn.Llama(tiny_config())
    export.save_state(nn.state_dict_numpy(teacher), str(tmp_path / "t"))
    loaded = nn.Llama(tiny_config())
    nn.load_state_dict_numpy(loaded, export.load_state(str(tmp_path / "t")))
    assert all(torch.equal(p, q) for p, q in zip(teacher.parameters(), loaded.parameters()))


# --- the whole pipeline ----------------------------------------------------------------------

def test_run_trains_distils_and_writes_results(tmp_path):
    text = b"".join(b"def f%d(x):\n    return x + %d\n\n" % (i, i) for i in range(400))
    data = np.frombuffer(text, np.uint8)
    corpus.Corpus(data[:-2000], data[-2000:], ["a.py"], ["b.py"], "synthetic").save(
        str(tmp_path / "corpus.npz"))
    out = tmp_path / "out"
    train_main(["run", "--corpus", str(tmp_path / "corpus.npz"), "--out", str(out),
                "--device", "cpu", "--d-model", "16", "--layers", "1", "--heads", "2",
                "--ffn", "24", "--seq-len", "16", "--batch", "8", "--teacher-steps", "200",
                "--teacher-lr", "1e-2",
                "--student-steps", "40", "--eval-every", "50", "--eval-windows", "20"])
    results = json.loads((out / "results.json").read_text())
    bpb = results["bpb"]
    assert set(bpb) == {"teacher", "sign-absmean", "svid-dense", "svid", "svid-svd", "svid+kd"}
    assert all(math.isfinite(v) and v > 0 for v in bpb.values())
    # the teacher learns the repetitive corpus far below its unigram entropy
    assert bpb["teacher"] < results["unigram_bpb"] - 1.0
    teacher_curve = results["curves"]["teacher"]["heldout_bpb"]
    assert teacher_curve[-1][1] < teacher_curve[0][1]
    assert set(results["retained"]) == set(bpb) - {"teacher"}
    state = export.load_state(str(out / "student"))
    assert state["model.layers.0.mlp.up_proj.weight"].dtype == np.uint8
    assert export.load_config(str(out / "config.json")).d_model == 16


# --- helpers ---------------------------------------------------------------------------------

def _llama_forward_dense(c, state, ids):
    """The LLaMA of onebit.models.reference_forward with dense projections."""
    hd = c.d_model // c.n_heads
    cos, sin = reference.rotary_tables(c.seq_len, hd, c.rope_base)
    mask = reference.causal_mask(c.seq_len, -1e9)
    t = state["model.embed_tokens.weight"][ids].astype(np.float64)

    def lin(x, name):
        return x @ state[f"{name}.weight"].T

    for i in range(c.n_layers):
        p = f"model.layers.{i}"
        hn = reference.rms_norm(t, state[f"{p}.input_layernorm.weight"], c.rms_eps)
        q, k, v = (reference.split_heads(lin(hn, f"{p}.self_attn.{m}_proj"), c.n_heads)
                   for m in "qkv")
        q, k = reference.apply_rotary(q, cos, sin), reference.apply_rotary(k, cos, sin)
        a = reference.merge_heads(reference.attention(q, k, v, mask))
        t = t + lin(a, f"{p}.self_attn.o_proj")
        hn = reference.rms_norm(t, state[f"{p}.post_attention_layernorm.weight"], c.rms_eps)
        t = t + lin(reference.swiglu(lin(hn, f"{p}.mlp.gate_proj"), lin(hn, f"{p}.mlp.up_proj")),
                    f"{p}.mlp.down_proj")
    t = reference.rms_norm(t, state["model.norm.weight"], c.rms_eps)
    return t @ state["lm_head.weight"].T
