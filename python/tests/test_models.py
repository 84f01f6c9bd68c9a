import json
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from conftest import FP16_MODEL_TOL, FP32_TOL, rel_max_err

from onebit import models as M
from onebit.encodings import ENCODINGS

N_LINEARS = {"mlp": 3, "llama": 14, "opt": 12}  # tiny configs: 3 layers / 2 blocks × 7 / × 6
TOL = {"float32": FP32_TOL, "float16": FP16_MODEL_TOL}


def strip(layer):
    """Comparable form: no byte count; epsilon to 3 digits (it is found as stored:
    a float32 attribute, or an fp16 constant in the opset < 17 decomposition)."""
    d = {k: v for k, v in layer.items() if k != "nbytes"}
    if d.get("epsilon") is not None:
        d["epsilon"] = float(f"{d['epsilon']:.2e}")
    return d


def check_built(b, dtype):
    onnx.checker.check_model(b.model, full_check=True)
    x = b.sample_input()
    y = M.run_onnxruntime(b, x)
    assert y.dtype == np.dtype(dtype) and np.isfinite(y).all()
    assert rel_max_err(y, M.reference_forward(b, x)) <= TOL[dtype]
    return y


@pytest.mark.parametrize("arch", ["mlp", "llama", "opt"])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("opset", [13, 17, 21])
def test_builders_run_and_match_reference(arch, dtype, encoding, opset):
    b = M.build(arch, encoding=encoding, dtype=dtype, opset=opset, seed=3)
    check_built(b, dtype)
    layers = M.list_onebit_layers(b)
    assert len(layers) == N_LINEARS[arch]
    assert {l["encoding"] for l in layers} == {encoding}
    meta = M.list_onebit_layers(b, structural=False)
    assert [strip(l) for l in layers] == [strip(l) for l in meta]


def test_same_seed_same_function_across_encodings():
    outs = [M.run_onnxruntime(b, b.sample_input()) for b in
            (M.build("llama", encoding=e, seed=5) for e in ("packed", "folded", "custom"))]
    assert np.allclose(outs[0], outs[1], atol=1e-5) and np.allclose(outs[0], outs[2], atol=1e-5)


def test_per_layer_encodings():
    per_linear = [ENCODINGS[i % len(ENCODINGS)] for i in range(14)]
    b = M.build("llama", encoding=per_linear)
    check_built(b, "float32")
    assert [l["encoding"] for l in M.list_onebit_layers(b)] == per_linear

    b = M.build("opt", encoding=["merged", "custom"])  # one per block
    got = [l["encoding"] for l in M.list_onebit_layers(b)]
    assert got == ["merged"] * 6 + ["custom"] * 6

    pick = lambda name, i: "folded" if "mlp" in name else "packed_int8"  # noqa: E731
    b = M.build("llama", encoding=pick, dtype="float16")
    check_built(b, "float16")
    assert [l["encoding"] for l in M.list_onebit_layers(b)] == (
        ["packed_int8"] * 4 + ["folded"] * 3) * 2
    with pytest.raises(ValueError, match="entries"):
        M.build("llama", encoding=["packed"] * 3)


def test_variants():
    cfg = M.make_config("llama", layer_norm=False, mask="where", n_layers=1, batch=2)
    b = M.build("llama", cfg, encoding="custom")
    check_built(b, "float32")
    assert not any(l["layer_norm"] for l in M.list_onebit_layers(b))
    cfg = M.make_config("mlp", sizes=[12, 20, 7], seq_len=5, activation="silu", bias=False)
    for enc in ("folded", "merged"):
        b = M.build("mlp", cfg, encoding=enc, dtype="float16", ln_bias_input=False)
        check_built(b, "float16")
    b = M.build("opt", encoding="packed", opset=13, ln_square="pow")
    check_built(b, "float32")
    assert "Pow" in {n.op_type for n in b.model.graph.node}


def test_llama_graph_uses_pytorch_style_ops():
    b = M.build("llama", opset=18)
    ops = {n.op_type for n in b.model.graph.node}
    for op in ("Gather", "Pow", "ReduceMean", "Sqrt", "Reciprocal", "Softmax", "Sigmoid",
               "Neg", "Concat", "Slice"):
        assert op in ops
    ins = {i.name: i for i in b.model.graph.input}
    assert ins["input_ids"].type.tensor_type.elem_type == onnx.TensorProto.INT64


def test_external_data(tmp_path):
    path = str(tmp_path / "llama.onnx")
    b = M.build("llama", encoding="folded", dtype="float16", path=path, external_data=True)
    assert b.model is None and os.path.exists(path + ".data")
    m = onnx.load(path, load_external_data=False)
    assert any(t.data_location == onnx.TensorProto.EXTERNAL for t in m.graph.initializer)
    onnx.checker.check_model(path)
    x = b.sample_input()
    y = M.run_onnxruntime(b, x)
    assert rel_max_err(y, M.reference_forward(b, x)) <= FP16_MODEL_TOL
    assert len(M.list_onebit_layers(path)) == 14
    # onnx's own loader resolves the data file too
    full = onnx.load(path)
    assert np.allclose(M.run_onnxruntime(full, x, "input_ids"), y)


def test_in_memory_save(tmp_path):
    path = str(tmp_path / "mlp.onnx")
    b = M.build("mlp", path=path)
    assert b.model is not None and os.path.getsize(path) > 0
    assert len(M.list_onebit_layers(path)) == 3


def test_presets():
    c = M.make_config("llama", "llama-7b")
    assert (c.d_model, c.n_layers, c.n_heads, c.ffn, c.vocab_size) == (4096, 32, 32, 11008, 32000)
    c = M.make_config("opt", "opt-1.3b", seq_len=64)
    assert c.d_model == 2048 and c.seq_len == 64
    with pytest.raises(ValueError):
        M.make_config("opt", "llama-7b")


def test_metadata_is_json():
    b = M.build("opt")
    meta = {p.key: p.value for p in b.model.metadata_props}
    assert json.loads(meta["onebit.config"])["n_layers"] == 2 and meta["onebit.arch"] == "opt"


def test_import_needs_no_torch_or_onnx():
    code = ("import sys, onebit, onebit.svid, onebit.billm, onebit.greenbit, onebit.reference; "
            "assert 'torch' not in sys.modules and 'onnx' not in sys.modules")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(__file__)))
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
