"""Decoders whose key/value cache stays in the library, compiled for this
CPU from both forms users export (onebit's and Hugging Face Optimum's):
sessions against onnxruntime running the same ONNX step token by token
(logits and greedy tokens), the appends, and the bounds of the C API."""

import ctypes
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

from onebit import decode, generate, models
from onebit.runtime import Model, RuntimeError_

MAX_LEN = 24
PROMPT = [5, 17, 3, 60, 22, 9, 41]


def _build(tmp, form, dtype="float32", kv_heads=2, attention="eager"):
    c = models.make_config("llama", vocab_size=256, d_model=64, n_layers=2, n_heads=4,
                           ffn=96, seq_len=8, n_kv_heads=kv_heads)
    path = tmp / f"{form}-{dtype}-{kv_heads}-{attention}.onnx"
    decode.build_llama_decode(c, max_len=MAX_LEN, dtype=dtype, path=str(path), form=form,
                              seed=3, attention=attention)
    return path

def _check_against_onnxruntime(session, path, dtype, ids):
    """`ids` through `session`: the prompt (PROMPT, their start) in one
    prefill, then one token per step; the logits after each against
    onnxruntime stepping the ONNX decoder at `path` one token at a time."""
    ref = generate.Backend.onnxruntime(str(path), MAX_LEN)
    caches = ref._state()
    tolerance = 1e-4 if dtype == "float32" else 1e-2
    for pos, token in enumerate(ids):
        expected = ref._step(caches, token, pos)
        if pos < len(PROMPT) - 1:
            continue
        got = session.prefill(PROMPT) if pos == len(PROMPT) - 1 else session.decode(token)
        assert session.position == pos + 1
        scale = max(1.0, float(np.abs(expected).max()))
        assert np.abs(got - expected).max() <= tolerance * scale, pos


@pytest.fixture(scope="module")
def compiled(tmp_path_factory, onebit_compile):
    """(onnx, library) per (form, dtype, kv_heads), compiled once."""
    tmp = tmp_path_factory.mktemp("decoding")
    cache = {}

    def get(form, dtype="float32", kv_heads=2, attention="eager"):
        key = (form, dtype, kv_heads, attention)
        if key not in cache:
            path = _build(tmp, form, dtype, kv_heads, attention)
            library = path.with_suffix(".so")
            extra = ["--max-seq-len", MAX_LEN] if form == "optimum" else []
            onebit_compile(path, "-target=cpu", "-o", library, *extra)
            cache[key] = path, library
        return cache[key]
    return get


@pytest.mark.parametrize("form,dtype,kv_heads,attention", [
    ("onebit", "float32", 2, "eager"), ("optimum", "float32", 2, "eager"),
    ("onebit", "float32", None, "eager"), ("optimum", "float32", 1, "eager"),
    ("onebit", "float16", 2, "eager"), ("optimum", "float16", 2, "eager"),
    ("optimum", "float32", 2, "sdpa"), ("optimum", "float16", None, "sdpa")])
def test_session_logits_match_onnxruntime_step_by_step(compiled, form, dtype, kv_heads,
                                                       attention):
    """attention="sdpa": Q and Kᵀ scaled by head_dim^-1/4 each and NaN
    probabilities zeroed, as torch exports scaled_dot_product_attention."""
    path, library = compiled(form, dtype, kv_heads, attention)
    model = Model(library)
    assert model.is_decoder and model.window == MAX_LEN
    assert [i.name for i in model.inputs] == ["input_ids", "position"]
    ids = PROMPT + [int(i) for i in np.random.default_rng(1).integers(0, 256, 12)]
    _check_against_onnxruntime(model.session(), path, dtype, ids)


@pytest.mark.parametrize("form", decode.FORMS)
def test_greedy_tokens_match_onnxruntime(compiled, form):
    path, library = compiled(form)
    ours = generate.Backend.onebit(str(library))
    assert isinstance(ours, generate.SessionBackend)
    out = ours.generate(PROMPT, MAX_LEN)
    ref = generate.Backend.onnxruntime(str(path), ours.max_len).generate(PROMPT, MAX_LEN)
    assert out.tokens == ref.tokens and len(out.tokens) == MAX_LEN - len(PROMPT)


def test_sessions_are_independent_and_reset(compiled):
    _, library = compiled("onebit")
    model = Model(library)
    first, second = model.session(), model.session(MAX_LEN // 2)
    assert second.max_len == MAX_LEN // 2
    a = first.prefill(PROMPT)
    second.prefill([1, 2, 3])
    first.reset()
    assert first.position == 0
    np.testing.assert_allclose(first.prefill(PROMPT), a, rtol=0, atol=1e-6)
    first.reset()
    token = first.prefill(PROMPT, logits=False)
    assert token == int(np.argmax(a))


@pytest.mark.parametrize("ids,message", [
    ([-1], r"token id -1 \(at 0 of 1\) is outside the vocabulary \[0, 256\)"),
    ([3, 256], r"token id 256 \(at 1 of 2\) is outside the vocabulary \[0, 256\)"),
    ([2**40], r"outside the vocabulary"),
    ([1] * (MAX_LEN + 1), r"25 tokens at position 0 do not fit the session's 24 positions"),
])
def test_out_of_range_ids_and_positions_are_errors(compiled, ids, message):
    _, library = compiled("onebit")
    session = Model(library).session()
    with pytest.raises(RuntimeError_, match=message):
        session.prefill(ids)
    assert session.position == 0
    session.prefill([1] * (MAX_LEN - 1))
    session.decode(2)
    with pytest.raises(RuntimeError_, match="1 tokens at position 24 do not fit"):
        session.decode(3)


def test_session_and_model_misuse_are_errors(compiled, tmp_path, onebit_compile):
    _, library = compiled("onebit")
    model = Model(library)
    with pytest.raises(RuntimeError_, match="holds 1 to 24 positions"):
        model.session(MAX_LEN + 1)
    with pytest.raises(RuntimeError_, match="run it through a session"):
        model.run({"input_ids": np.zeros((1, 1), np.int64),
                   "position": np.zeros(1, np.int64)})
    built = models.build("mlp", encoding="packed", dtype="float32", opset=18, seed=2)
    path = tmp_path / "mlp.onnx"
    path.write_bytes(built.model.SerializeToString())
    onebit_compile(path, "-o", tmp_path / "mlp.so")
    mlp = Model(tmp_path / "mlp.so")
    assert mlp.window == -1 and not mlp.is_decoder
    with pytest.raises(RuntimeError_, match="not a decoding step"):
        mlp.session()


def test_session_c_api_handles_null(compiled):
    _, library = compiled("onebit")
    lib = ctypes.CDLL(str(library))
    lib.onebit_session_create.restype = ctypes.c_void_p
    lib.onebit_session_last_error.restype = ctypes.c_char_p
    lib.onebit_session_last_error.argtypes = [ctypes.c_void_p]
    assert lib.onebit_session_create(None, ctypes.c_int64(4)) is None
    assert lib.onebit_session_last_error(None) == b"session is NULL"
    lib.onebit_session_prefill.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64,
                                           ctypes.c_void_p, ctypes.c_void_p]
    assert lib.onebit_session_prefill(None, None, 1, None, None) == 1
    model = Model(library)
    session = model.session()
    assert lib.onebit_session_prefill(session._handle, None, 1, None, None) == 1
    assert lib.onebit_session_last_error(session._handle) == \
        b"a prefill needs at least one token id"


def test_optimum_form_without_window_takes_the_sessions_max_len(tmp_path, onebit_compile):
    path = _build(tmp_path, "optimum")
    onebit_compile(path, "-o", tmp_path / "any.so")
    model = Model(tmp_path / "any.so")
    assert model.window == 0
    with pytest.raises(RuntimeError_, match="give the most positions"):
        model.session()
    session = model.session(16)
    ref = generate.Backend.onnxruntime(str(path), 16)
    assert generate.SessionBackend(model, 16, "s").generate(PROMPT, 8).tokens == \
        ref.generate(PROMPT, 8).tokens
    assert session.max_len == 16


def test_window_beyond_onebits_cache_is_a_compile_error(tmp_path, onebit_compile):
    path = _build(tmp_path, "onebit")
    result = onebit_compile(path, "-o", tmp_path / "x.so", "--max-seq-len", MAX_LEN + 1,
                            check=False)
    assert result.returncode != 0
    assert "--max-seq-len 25 is more than the 24 rows of the decoder's cache" in result.stderr


def test_cache_as_inputs_and_outputs_still_compiles(tmp_path, onebit_compile):
    path = _build(tmp_path, "onebit")
    onebit_compile(path, "-o", tmp_path / "io.so", "--resident-cache=false")
    model = Model(tmp_path / "io.so")
    assert not model.is_decoder and any(i.name == "past_key.0" for i in model.inputs)
    ours = generate.Backend.onebit(str(tmp_path / "io.so"))
    assert isinstance(ours, generate.CacheBackend)
    ref = generate.Backend.onnxruntime(str(path))
    assert ours.generate(PROMPT, 10).tokens == ref.generate(PROMPT, 10).tokens


@pytest.mark.parametrize("form", decode.FORMS)
def test_generate_command_checks_against_onnxruntime(compiled, form):
    path, library = compiled(form)
    result = subprocess.run(
        [sys.executable, "-m", "onebit", "generate", str(library), "--prompt", "hi",
         "--tokens", "12", "--top-k", "4", "--temperature", "0.7", "--check", str(path)],
        capture_output=True, text=True, cwd=ROOT / "python")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "prompt of 2 tokens" in result.stdout and "decode" in result.stdout
    assert "generated the same 12 tokens" in result.stdout


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_next_token_is_the_argmax_of_the_logits(compiled, dtype):
    """logits=False: the library's argmax (on the fp16 bits, no logits
    converted) is the token the logits give."""
    _, library = compiled("onebit", dtype)
    model = Model(library)
    with_logits, tokens_only = model.session(), model.session()
    token = 5
    for _ in range(MAX_LEN - 1):
        logits = with_logits.decode(token)
        token = tokens_only.decode(token, logits=False)
        assert token == int(np.argmax(logits))


def test_generate_command_reports_errors_without_a_traceback(compiled, tmp_path):
    path, library = compiled("optimum")
    for args, message in [
            ([str(path)], "Hugging Face's form sets no window: give max_len"),
            ([str(library), "--max-len", str(MAX_LEN + 1)], "holds 1 to 24 positions")]:
        result = subprocess.run(
            [sys.executable, "-m", "onebit", "generate", *args, "--prompt", "hi",
             "--tokens", "3"], capture_output=True, text=True, cwd=ROOT / "python")
        assert result.returncode == 1
        assert message in result.stderr and "Traceback" not in result.stderr


def test_session_rejects_a_decoder_with_inputs_it_cannot_feed(tmp_path, onebit_compile):
    import onnx
    from onnx import TensorProto, helper
    path = _build(tmp_path, "onebit")
    model = onnx.load(str(path))
    model.graph.input.append(
        helper.make_tensor_value_info("temperature", TensorProto.FLOAT, [1]))
    onnx.save(model, str(tmp_path / "extra.onnx"))
    onebit_compile(tmp_path / "extra.onnx", "-o", tmp_path / "extra.so")
    compiled = Model(tmp_path / "extra.so")
    assert compiled.is_decoder
    with pytest.raises(RuntimeError_, match="this decoder takes 'temperature'"):
        compiled.session()


@pytest.mark.parametrize("form,dtype", [("onebit", "float32"), ("optimum", "float32"),
                                        ("onebit", "float16")])
def test_steps_of_several_tokens_match_onnxruntime(tmp_path, onebit_compile, form, dtype):
    """A decoder compiled for 4 new tokens per step (--input-shape
    input_ids=1x4): the prompt in steps of 4 (the last one padded), then one
    token per step padded to 4, against onnxruntime one token at a time.
    The new rows of a step attend to each other causally; the padding's
    rows, past the position, are written over by the next step."""
    path = _build(tmp_path, form, dtype)
    library = tmp_path / "t4.so"
    onebit_compile(path, "-target=cpu", "-o", library, "--input-shape", "input_ids=1x4",
                   "--max-seq-len", MAX_LEN)
    model = Model(library)
    assert model.inputs[0].shape == (1, 4)
    with pytest.raises(RuntimeError_, match="less the padding of its steps of 4 tokens"):
        model.session(MAX_LEN)
    session = model.session()
    assert session.max_len == MAX_LEN - 3
    ids = PROMPT + [int(i) for i in np.random.default_rng(2).integers(0, 256, 14)]
    assert len(ids) == session.max_len
    _check_against_onnxruntime(session, path, dtype, ids)
    with pytest.raises(RuntimeError_, match="do not fit"):
        session.decode(1)
