"""Decoding steps with a key/value cache (onebit.decode), in both forms,
against the full-sequence model, all in onnxruntime; the generation loop
and the backend that drives a step with numpy caches."""
import numpy as np
import pytest

from onebit import decode, generate, models


def _config(**overrides):
    values = dict(vocab_size=64, d_model=32, n_layers=2, n_heads=4, ffn=44, seq_len=10)
    values.update(overrides)
    return models.make_config("llama", **values)


@pytest.mark.parametrize("form", decode.FORMS)
@pytest.mark.parametrize("encoding,kv_heads,attention", [
    ("packed", None, "eager"), ("custom", None, "eager"), ("packed", 2, "eager"),
    ("packed", 2, "sdpa")])
def test_decode_steps_reproduce_the_full_model(tmp_path, form, encoding, kv_heads, attention):
    c = _config(n_kv_heads=kv_heads)
    full = models.build_llama(c, encoding=encoding, opset=18)
    path = str(tmp_path / "decode.onnx")
    built = decode.build_llama_decode(c, max_len=16, encoding=encoding, path=path, form=form,
                                      attention=attention)
    assert built.encodings == full.encodings
    ids = np.random.default_rng(0).integers(0, 64, (1, c.seq_len))
    ref = models.run_onnxruntime(full, ids)
    backend = generate.Backend.onnxruntime(path, max_len=16)
    assert isinstance(backend, generate.CacheBackend) and backend.max_len == 16
    assert backend.optimum == (form == "optimum")
    caches = backend._state()
    logits = [backend._step(caches, int(ids[0, pos]), pos) for pos in range(c.seq_len)]
    assert np.abs(np.stack(logits) - ref[0]).max() <= 1e-5 * np.abs(ref).max()


def test_optimum_form_has_hugging_faces_names_and_dynamic_past():
    c = _config(n_kv_heads=2)
    built = decode.build_llama_decode(c, max_len=16, form="optimum")
    inputs = {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim]
              for i in built.model.graph.input}
    outputs = [o.name for o in built.model.graph.output]
    assert inputs["past_key_values.1.value"] == ["batch_size", 2, "past_sequence_length", 8]
    assert inputs["attention_mask"] == ["batch_size",
                                        "past_sequence_length + sequence_length"]
    assert "position_ids" in inputs and "present.1.key" in outputs


def test_cached_generation_prefills_the_prompt_then_decodes_each_token():
    seen = []

    def prefill(ids):
        seen.append(("prefill", list(ids)))
        return np.eye(16)[(ids[-1] + 1) % 16]

    def decode_one(token):
        seen.append(("decode", token))
        return np.eye(16)[(token + 1) % 16]

    streamed = []
    out = generate.generate_cached(prefill, decode_one, [3, 4, 5], 4, max_len=32,
                                   on_token=streamed.append)
    assert out.tokens == streamed == [6, 7, 8, 9]
    assert seen == [("prefill", [3, 4, 5]), ("decode", 6), ("decode", 7), ("decode", 8)]
    assert out.prefill_seconds is not None and out.decode_seconds is not None


def test_cached_generation_stops_when_the_cache_is_full():
    step = lambda t: np.eye(8)[(t + 1) % 8]  # noqa: E731
    out = generate.generate_cached(lambda ids: step(ids[-1]), step, [1, 2], 10, max_len=5)
    assert out.tokens == [3, 4, 5]
    with pytest.raises(ValueError, match="cache holds 5"):
        generate.generate_cached(lambda ids: np.zeros(8), step, [1] * 5, 1, max_len=5)


def test_backends_reject_models_they_cannot_generate_with():
    def run(feeds):
        raise AssertionError("not run")

    f32 = np.float32
    with pytest.raises(ValueError, match="needs an input named input_ids"):
        generate._from_run(run, {"tokens": [1, 8]}, {}, "m", None)
    with pytest.raises(ValueError, match=r"static shape \[1, T\]"):
        generate._from_run(run, {"input_ids": [2, 8]}, {}, "m", None)
    with pytest.raises(ValueError, match="needs input_ids"):
        generate._from_run(run, {"input_ids": [1, 1], "past_key.0": [1, 2, 8, 4]},
                           {"past_key.0": f32}, "m", None)
    with pytest.raises(ValueError, match="give max_len"):
        generate._from_run(run, {"input_ids": ["b", "s"],
                                 "past_key_values.0.key": ["b", 2, "p", 4]},
                           {"past_key_values.0.key": f32}, "m", None)
    with pytest.raises(ValueError, match="static heads and head_dim"):
        generate._from_run(run, {"input_ids": ["b", "s"],
                                 "past_key_values.0.key": ["b", "h", "p", 4]},
                           {"past_key_values.0.key": f32}, "m", 8)
    cached = generate._from_run(run, {"input_ids": [1, 1], "position": [1],
                                      "past_key.0": [1, 2, 8, 4], "past_value.0": [1, 2, 8, 4]},
                                {"past_key.0": f32, "past_value.0": f32}, "m", None)
    assert cached.max_len == 8 and "cache of 8" in cached.mode


def test_decode_builder_rejects_an_empty_cache():
    c = models.make_config("llama")
    with pytest.raises(ValueError, match="max_len must be positive"):
        decode.build_llama_decode(c, max_len=0)
