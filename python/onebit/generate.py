"""Text generation with a byte-level decoder compiled with a fixed input
shape ``input_ids`` [1, T] -> ``logits`` [1, T, 256].

Each step runs the model on the last T tokens of the context, right-padded,
and reads the logits at the last real position: the model is causal, so
padding after that position cannot change them. Greedy decoding picks the
arg-max (lowest index on ties); top-k sampling draws from the k most likely
bytes at ``temperature`` with a seeded generator, so both are reproducible
and any two backends that agree on the logits produce the same bytes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, List, Optional

import numpy as np

Forward = Callable[[np.ndarray], np.ndarray]  # ids [1, T] int64 -> logits [1, T, V]
PAD = 0


@dataclass
class Generation:
    prompt: List[int]
    tokens: List[int]  # the generated tokens, prompt excluded
    seconds: float

    @property
    def tokens_per_second(self) -> float:
        return len(self.tokens) / self.seconds if self.seconds > 0 else float("inf")

    def text(self) -> str:
        return bytes(self.tokens).decode("utf-8", errors="replace")


def next_token(logits: np.ndarray, top_k: Optional[int], temperature: float,
               rng: Optional[np.random.Generator]) -> int:
    """Greedy when ``top_k`` is None (or 1), else top-k sampling."""
    logits = np.asarray(logits, np.float64)
    if not top_k or top_k == 1:
        return int(np.argmax(logits))
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    k = min(top_k, logits.size)
    best = np.argsort(-logits, kind="stable")[:k]
    z = logits[best] / temperature
    p = np.exp(z - z.max())
    return int(best[rng.choice(k, p=p / p.sum())])


def generate(forward: Forward, prompt: List[int], n_tokens: int, window: int,
             top_k: Optional[int] = None, temperature: float = 1.0, seed: int = 0,
             stop: Optional[int] = None) -> Generation:
    """Appends ``n_tokens`` tokens to ``prompt`` (stops early at ``stop``)."""
    if not prompt:
        raise ValueError("the prompt must hold at least one token")
    rng = np.random.default_rng(seed)
    context = list(prompt)
    generated = []
    start = time.perf_counter()
    for _ in range(n_tokens):
        visible = context[-window:]
        ids = np.full((1, window), PAD, np.int64)
        ids[0, :len(visible)] = visible
        logits = forward(ids)
        token = next_token(logits[0, len(visible) - 1], top_k, temperature, rng)
        generated.append(token)
        context.append(token)
        if stop is not None and token == stop:
            break
    return Generation(list(prompt), generated, time.perf_counter() - start)


class Backend:
    """A compiled model or an ONNX file in onnxruntime, as ``forward`` plus
    the sequence length ``window`` its input was built with."""

    def __init__(self, forward: Forward, window: int, name: str):
        self.forward, self.window, self.name = forward, window, name

    @classmethod
    def onebit(cls, library: str) -> "Backend":
        from .runtime import Model
        model = Model(library)
        (inp,), out = model.inputs, model.outputs[0]
        _check_shape(library, inp.shape)
        return cls(lambda ids: model.run({inp.name: ids})[out.name], inp.shape[1],
                   f"onebit ({library})")

    @classmethod
    def onnxruntime(cls, onnx_path: str) -> "Backend":
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        (inp,) = session.get_inputs()
        _check_shape(onnx_path, inp.shape)
        return cls(lambda ids: session.run(None, {inp.name: ids})[0], inp.shape[1],
                   f"onnxruntime ({onnx_path})")

    def generate(self, prompt: List[int], n_tokens: int, **kwargs) -> Generation:
        return generate(self.forward, prompt, n_tokens, self.window, **kwargs)


def _check_shape(path, shape):
    if len(shape) != 2 or shape[0] != 1 or not isinstance(shape[1], int):
        raise ValueError(f"{path}: generation needs one input of static shape [1, T], "
                         f"got {list(shape)}")
