import json

import numpy as np
import pytest
from conftest import FP16_MODEL_TOL, FP32_TOL, rel_max_err

from onebit import models as M
from onebit import safetensors as st
from onebit.convert import detect_arch, quantize_state_dict
from onebit.packing import ONEBIT_PACKING_INT8, pack_signs
from onebit.weights import StateDictWeights


def llama_state(rng, d=32, ffn=40, layers=2, vocab=50, tied=False):
    s = {"model.embed_tokens.weight": rng.standard_normal((vocab, d)),
         "model.norm.weight": 1 + 0.1 * rng.standard_normal(d)}
    if not tied:
        s["lm_head.weight"] = rng.standard_normal((vocab, d)) / np.sqrt(d)
    for i in range(layers):
        p = f"model.layers.{i}"
        for m in "qkvo":
            s[f"{p}.self_attn.{m}_proj.weight"] = 0.02 * rng.standard_normal((d, d))
        s[f"{p}.mlp.gate_proj.weight"] = 0.02 * rng.standard_normal((ffn, d))
        s[f"{p}.mlp.up_proj.weight"] = 0.02 * rng.standard_normal((ffn, d))
        s[f"{p}.mlp.down_proj.weight"] = 0.02 * rng.standard_normal((d, ffn))
        s[f"{p}.input_layernorm.weight"] = np.ones(d)
        s[f"{p}.post_attention_layernorm.weight"] = np.ones(d)
    return {k: v.astype(np.float32) for k, v in s.items()}


def opt_state(rng, d=32, ffn=64, layers=1, vocab=40, maxpos=16):
    p0 = "model.decoder"
    s = {f"{p0}.embed_tokens.weight": rng.standard_normal((vocab, d)),
         f"{p0}.embed_positions.weight": 0.1 * rng.standard_normal((maxpos + 2, d)),
         f"{p0}.final_layer_norm.weight": np.ones(d), f"{p0}.final_layer_norm.bias": np.zeros(d)}
    for i in range(layers):
        p = f"{p0}.layers.{i}"
        for m, (n, k) in {"self_attn.q_proj": (d, d), "self_attn.k_proj": (d, d),
                          "self_attn.v_proj": (d, d), "self_attn.out_proj": (d, d),
                          "fc1": (ffn, d), "fc2": (d, ffn)}.items():
            s[f"{p}.{m}.weight"] = 0.02 * rng.standard_normal((n, k))
            s[f"{p}.{m}.bias"] = 0.01 * rng.standard_normal(n)
        for ln in ("self_attn_layer_norm", "final_layer_norm"):
            s[f"{p}.{ln}.weight"] = np.ones(d)
            s[f"{p}.{ln}.bias"] = np.zeros(d)
    return {k: v.astype(np.float16) for k, v in s.items()}


def test_safetensors_round_trip(tmp_path, rng):
    d = {"a": rng.standard_normal((3, 4)).astype(np.float32), "b": np.arange(5, dtype=np.int8),
         "c": rng.standard_normal(7).astype(np.float16), "d": np.array([True, False])}
    path = str(tmp_path / "x.safetensors")
    st.save(d, path, {"format": "np"})
    f = st.load(path)
    assert set(f) == set(d) and f.metadata == {"format": "np"}
    for k in d:
        assert f[k].dtype == d[k].dtype and np.array_equal(f[k], d[k])


def test_safetensors_bf16(tmp_path):
    vals = np.array([1.0, -2.5, 3.140625], np.float32)
    raw = (vals.view(np.uint32) >> 16).astype(np.uint16)
    hdr = json.dumps({"w": {"dtype": "BF16", "shape": [3], "data_offsets": [0, 6]}}).encode()
    path = tmp_path / "b.safetensors"
    path.write_bytes(len(hdr).to_bytes(8, "little") + hdr + raw.tobytes())
    assert np.array_equal(st.load(str(path))["w"], vals)


def test_detect_arch(rng):
    assert detect_arch(llama_state(rng, layers=1)) == "llama"
    assert detect_arch(opt_state(rng)) == "opt"
    assert detect_arch({"layers.0.weight": np.zeros((2, 2))}) == "mlp"
    with pytest.raises(ValueError):
        detect_arch({"foo": np.zeros(1)})


@pytest.mark.parametrize("fmt", ["npz", "safetensors"])
def test_quantize_llama(tmp_path, rng, fmt):
    state = llama_state(rng, tied=(fmt == "npz"))
    path = str(tmp_path / f"ckpt.{fmt}")
    if fmt == "npz":
        np.savez(path, **state)
    else:
        st.save(state, path)
    (tmp_path / "config.json").write_text(json.dumps({"num_attention_heads": 4,
                                                      "rms_norm_eps": 1e-5}))
    b = quantize_state_dict(path, seq_len=6, encoding="packed")
    assert b.arch == "llama" and b.config.n_heads == 4 and b.config.ffn == 40
    assert b.config.rms_eps == 1e-5
    x = b.sample_input()
    assert rel_max_err(M.run_onnxruntime(b, x), M.reference_forward(b, x)) <= FP32_TOL
    errs = b.weights.errors
    assert len(errs) == 14 and all(0.5 < e < 0.62 for e in errs.values())
    assert len(M.list_onebit_layers(b)) == 14


def test_quantize_opt_fp16(rng):
    b = quantize_state_dict(opt_state(rng), heads=4, seq_len=8, dtype="float16",
                            encoding="custom")
    assert b.config.max_positions == 16
    x = b.sample_input()
    assert rel_max_err(M.run_onnxruntime(b, x), M.reference_forward(b, x)) <= FP16_MODEL_TOL
    assert [l["bias"] for l in M.list_onebit_layers(b)] == [True] * 6


def test_quantize_svid_without_layer_norm_approximates_fp(rng):
    # without OneBit's LayerNorm the SVID model approximates the FP MLP itself
    w0 = rng.standard_normal((24, 16)) * np.exp(rng.standard_normal(24))[:, None]
    w1 = rng.standard_normal((8, 24))
    state = {"layers.0.weight": w0, "layers.1.weight": w1}
    b = quantize_state_dict(state, config_overrides={"layer_norm": False, "activation": "none"},
                            method="svd")
    assert b.config.sizes == [16, 24, 8] and not b.config.bias
    x = b.sample_input()
    y = M.run_onnxruntime(b, x)
    fp = x.astype(np.float64) @ w0.T @ w1.T
    assert rel_max_err(y, M.reference_forward(b, x)) <= FP32_TOL
    assert np.linalg.norm(y - fp) / np.linalg.norm(fp) < 0.9


def test_onebit_checkpoint_is_taken_as_is(rng):
    s = np.where(rng.random((12, 16)) < 0.5, -1, 1)
    g, h = rng.random(16) + 0.5, rng.random(12) + 0.5
    state = {"layers.0.weight": pack_signs(s, ONEBIT_PACKING_INT8),
             "layers.0.weight_scale": h.astype(np.float32),
             "layers.0.input_factor": g.astype(np.float32)}
    b = M.build_mlp(M.make_config("mlp", sizes=[16, 12], bias=False),
                    weights=StateDictWeights(state))
    layer = b.weights.onebit("layers.0", 12, 16)
    assert np.array_equal(layer.dense_signs(), s) and np.allclose(layer.g, g)
    x = b.sample_input()
    assert rel_max_err(M.run_onnxruntime(b, x), M.reference_forward(b, x)) <= FP32_TOL


def test_quantize_needs_heads(rng):
    with pytest.raises(ValueError, match="heads"):
        quantize_state_dict(llama_state(rng, layers=1))
