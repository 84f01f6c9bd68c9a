"""Text generation over a fixed-window model (onebit.generate)."""
import numpy as np
import pytest

from onebit import generate


def counting_model(window, vocab=256):
    """Logits that favour (last real token + 1): exposes which position is read."""
    calls = []

    def forward(ids):
        assert ids.shape == (1, window) and ids.dtype == np.int64
        calls.append(ids.copy())
        logits = np.zeros((1, window, vocab), np.float32)
        for t in range(window):
            logits[0, t, (ids[0, t] + 1) % vocab] = 1.0
        return logits

    return forward, calls


def test_greedy_reads_the_last_real_position_and_pads_after_it():
    forward, calls = counting_model(window=8)
    out = generate.generate(forward, [10, 20, 30], 4, window=8)
    assert out.tokens == [31, 32, 33, 34]
    assert calls[0].tolist() == [[10, 20, 30, 0, 0, 0, 0, 0]]
    assert out.prompt == [10, 20, 30]


def test_the_window_slides_over_long_contexts():
    forward, calls = counting_model(window=4)
    out = generate.generate(forward, list(range(1, 7)), 3, window=4)
    assert out.tokens == [7, 8, 9]
    assert calls[0].tolist() == [[3, 4, 5, 6]]
    assert calls[-1].tolist() == [[5, 6, 7, 8]]


def test_stop_token_ends_generation():
    forward, _ = counting_model(window=4)
    assert generate.generate(forward, [5], 10, window=4, stop=7).tokens == [6, 7]


def test_greedy_breaks_ties_at_the_lowest_index():
    assert generate.next_token(np.array([0.0, 2.0, 2.0, 1.0]), None, 1.0, None) == 1


def test_top_k_samples_only_the_k_best_and_is_reproducible():
    logits = np.array([5.0, 4.0, 3.0, -50.0, 4.5])
    draws = [generate.next_token(logits, 2, 1.0, np.random.default_rng(s)) for s in range(200)]
    assert set(draws) == {0, 4}
    again = [generate.next_token(logits, 2, 1.0, np.random.default_rng(s)) for s in range(200)]
    assert draws == again
    # a low temperature is nearly greedy
    cold = [generate.next_token(logits, 3, 0.01, np.random.default_rng(s)) for s in range(50)]
    assert set(cold) == {0}
    with pytest.raises(ValueError, match="temperature"):
        generate.next_token(logits, 2, 0.0, np.random.default_rng(0))


def test_generation_text_decodes_bytes():
    g = generate.Generation([104], [105, 0xC3, 0xA9, 0xFF], 0.5)
    assert g.text() == "ié\ufffd"
    assert g.tokens_per_second == 8.0


def test_empty_prompt_is_rejected():
    forward, _ = counting_model(window=4)
    with pytest.raises(ValueError, match="prompt"):
        generate.generate(forward, [], 3, window=4)
