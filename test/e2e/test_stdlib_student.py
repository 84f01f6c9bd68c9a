"""The committed demo model (models/stdlib-onebit-llama, a OneBit student
distilled from a byte-level teacher, docs/quality.md) compiled for this CPU:
its logits and its greedy text match onnxruntime on the same ONNX file."""

import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

from onebit import generate
from onebit.runtime import Model

MODEL = ROOT / "models" / "stdlib-onebit-llama" / "model.onnx"
PROMPT = b"class Stack:\n    def push(self, item):\n        "


@pytest.fixture(scope="module")
def library(onebit_compile, tmp_path_factory):
    out = tmp_path_factory.mktemp("student") / "model.so"
    onebit_compile(MODEL, "-target=cpu", "-o", out)
    return out


def test_logits_match_onnxruntime(library):
    ort = generate.Backend.onnxruntime(str(MODEL))
    ids = np.frombuffer((PROMPT * 4)[:ort.window], np.uint8).astype(np.int64)[None]
    ours = Model(str(library)).run({"input_ids": ids})["logits"]
    ref = ort.forward(ids)
    assert ours.shape == ref.shape == (1, ort.window, 256)
    assert np.abs(ours - ref).max() <= 1e-4 * np.abs(ref).max()


def test_greedy_text_is_onnxruntimes_token_for_token(library):
    ours = generate.Backend.onebit(str(library)).generate(list(PROMPT), 48)
    ref = generate.Backend.onnxruntime(str(MODEL)).generate(list(PROMPT), 48)
    assert ours.tokens == ref.tokens
    # a trained model writes Python: mostly printable ASCII
    assert sum(32 <= t < 127 or t == 10 for t in ours.tokens) >= 40


def test_generate_command_checks_against_onnxruntime(library):
    result = subprocess.run(
        [sys.executable, "-m", "onebit", "generate", str(library), "--prompt", PROMPT.decode(),
         "--tokens", "24", "--top-k", "5", "--temperature", "0.8", "--check", str(MODEL)],
        capture_output=True, text=True, cwd=ROOT / "python")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tokens/s" in result.stdout
    assert "generated the same 24 tokens" in result.stdout


def test_generate_rejects_a_model_without_a_static_window(tmp_path):
    import onnx
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [helper.make_node("Identity", ["input_ids"], ["logits"])], "g",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, "T"])],
        [helper.make_tensor_value_info("logits", TensorProto.INT64, [1, "T"])])
    path = tmp_path / "dynamic.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), path)
    with pytest.raises(ValueError, match=r"static shape \[1, T\]"):
        generate.Backend.onnxruntime(str(path))
