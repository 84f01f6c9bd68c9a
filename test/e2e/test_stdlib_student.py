"""The committed demo model (models/stdlib-onebit-llama, a OneBit student
distilled from a byte-level teacher, docs/quality.md) compiled for this CPU,
as the full-sequence model and as a decoder whose key/value cache stays in
the library (a session): logits and greedy text match onnxruntime on the
same ONNX files."""

import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

from onebit import generate
from onebit.runtime import Model

MODEL = ROOT / "models" / "stdlib-onebit-llama" / "model.onnx"
DECODE = ROOT / "models" / "stdlib-onebit-llama" / "decode.onnx"
PROMPT = b"class Stack:\n    def push(self, item):\n        "


@pytest.fixture(scope="module")
def library(onebit_compile, tmp_path_factory):
    out = tmp_path_factory.mktemp("student") / "model.so"
    onebit_compile(MODEL, "-target=cpu", "-o", out)
    return out


@pytest.fixture(scope="module")
def decode_library(onebit_compile, tmp_path_factory):
    out = tmp_path_factory.mktemp("student") / "decode.so"
    onebit_compile(DECODE, "-target=cpu", "-o", out)
    return out


def _prompt_ids(length):
    return np.frombuffer((PROMPT * 4)[:length], np.uint8).astype(np.int64)[None]


def test_logits_match_onnxruntime(library):
    ort = generate.Backend.onnxruntime(str(MODEL))
    ids = _prompt_ids(ort.context)
    ours = Model(str(library)).run({"input_ids": ids})["logits"]
    ref = ort.run({"input_ids": ids})["logits"]
    assert ours.shape == ref.shape == (1, ort.context, 256)
    assert np.abs(ours - ref).max() <= 1e-4 * np.abs(ref).max()


def test_cached_steps_reproduce_the_full_model(decode_library):
    """Each token a session decodes gives the full-sequence model's logits
    at its position (onnxruntime on model.onnx)."""
    full = generate.Backend.onnxruntime(str(MODEL))
    ids = _prompt_ids(full.context)
    ref = full.run({"input_ids": ids})["logits"][0]
    session = Model(str(decode_library)).session()
    assert session.max_len == 256 and session.vocab_size == 256
    for pos in range(0, 48):
        logits = session.decode(int(ids[0, pos]))
        assert session.position == pos + 1
        assert np.abs(logits - ref[pos]).max() <= 1e-4 * np.abs(ref).max(), pos
    # A prefill of the same prompt from the start gives the same last logits.
    session.reset()
    again = session.prefill(ids[0, :48])
    assert np.abs(again - logits).max() <= 1e-5 * np.abs(ref).max()


def test_cached_greedy_text_is_onnxruntimes_token_for_token(decode_library):
    ours = generate.Backend.onebit(str(decode_library)).generate(list(PROMPT), 96)
    ref = generate.Backend.onnxruntime(str(DECODE)).generate(list(PROMPT), 96)
    assert ours.tokens == ref.tokens


def test_greedy_text_is_onnxruntimes_token_for_token(library):
    ours = generate.Backend.onebit(str(library)).generate(list(PROMPT), 48)
    ref = generate.Backend.onnxruntime(str(MODEL)).generate(list(PROMPT), 48)
    assert ours.tokens == ref.tokens
    # a trained model writes Python: mostly printable ASCII
    assert sum(32 <= t < 127 or t == 10 for t in ours.tokens) >= 40


@pytest.mark.parametrize("kind", ["window", "cached"])
def test_generate_command_checks_against_onnxruntime(kind, library, decode_library):
    lib, onnx_file = (library, MODEL) if kind == "window" else (decode_library, DECODE)
    result = subprocess.run(
        [sys.executable, "-m", "onebit", "generate", str(lib), "--prompt", PROMPT.decode(),
         "--tokens", "24", "--top-k", "5", "--temperature", "0.8", "--check", str(onnx_file)],
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
