"""One decoding step with a key/value cache (onebit.decode) against the
full-sequence model, both in onnxruntime."""
import numpy as np
import pytest

from onebit import decode, generate, models


@pytest.mark.parametrize("encoding", ["packed", "custom"])
def test_decode_steps_reproduce_the_full_model(tmp_path, encoding):
    c = models.make_config("llama", vocab_size=64, d_model=32, n_layers=2, n_heads=4, ffn=44,
                           seq_len=10)
    full = models.build_llama(c, encoding=encoding, opset=18)
    path = str(tmp_path / "decode.onnx")
    built = decode.build_llama_decode(c, max_len=16, encoding=encoding, path=path)
    assert built.encodings == full.encodings
    ids = np.random.default_rng(0).integers(0, 64, (1, c.seq_len))
    ref = models.run_onnxruntime(full, ids)
    backend = generate.Backend.onnxruntime(path)
    assert backend.cached and backend.context == 16
    logits = []
    caches = {k: np.zeros(shape, np.float32) for k, (shape, _) in backend.caches.items()}
    for pos in range(c.seq_len):
        out = backend.run({"input_ids": ids[:, pos:pos + 1], "position": np.array([pos]),
                           **caches})
        for name, cache in caches.items():
            cache[:, :, pos] = out[name[len("past_"):]][:, :, 0]
        logits.append(out["logits"][0, 0])
    assert np.abs(np.stack(logits) - ref[0]).max() <= 1e-5 * np.abs(ref).max()


def test_cached_generation_feeds_the_prompt_then_each_token():
    seen = []

    def step(token, position):
        seen.append((token, position))
        logits = np.zeros(16)
        logits[(token + 1) % 16] = 1
        return logits

    out = generate.generate_cached(step, [3, 4, 5], 4, max_len=32)
    assert out.tokens == [6, 7, 8, 9]
    assert seen == [(3, 0), (4, 1), (5, 2), (6, 3), (7, 4), (8, 5)]


def test_cached_generation_stops_when_the_cache_is_full():
    out = generate.generate_cached(lambda t, p: np.eye(8)[(t + 1) % 8], [1, 2], 10, max_len=5)
    assert out.tokens == [3, 4, 5]
    with pytest.raises(ValueError, match="cache holds 5"):
        generate.generate_cached(lambda t, p: np.zeros(8), [1] * 5, 1, max_len=5)


def test_backend_rejects_models_it_cannot_generate_with():
    def run(feeds):
        raise AssertionError("not run")

    with pytest.raises(ValueError, match="needs an input named input_ids"):
        generate.Backend(run, {"tokens": [1, 8]}, {}, "m")
    with pytest.raises(ValueError, match=r"static shape \[1, T\]"):
        generate.Backend(run, {"input_ids": [2, 8]}, {}, "m")
    with pytest.raises(ValueError, match="past_key.i / past_value.i"):
        generate.Backend(run, {"input_ids": [1, 1], "position": [1]}, {}, "m")
    with pytest.raises(ValueError, match="past_key.i / past_value.i"):
        generate.Backend(run, {"input_ids": [1, 4], "position": [1],
                               "past_key.0": [1, 2, 8, 4]}, {"past_key.0": np.float32}, "m")
    cached = generate.Backend(run, {"input_ids": [1, 1], "position": [1],
                                    "past_key.0": [1, 2, 8, 4], "past_value.0": [1, 2, 8, 4]},
                              {"past_key.0": np.float32, "past_value.0": np.float32}, "m")
    assert cached.cached and cached.context == 8 and "cache of 8" in cached.mode


def test_decode_builder_rejects_an_empty_cache():
    c = models.make_config("llama")
    with pytest.raises(ValueError, match="max_len must be positive"):
        decode.build_llama_decode(c, max_len=0)
