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


def generate_cached(step: Callable[[int, int], np.ndarray], prompt: List[int], n_tokens: int,
                    max_len: int, top_k: Optional[int] = None, temperature: float = 1.0,
                    seed: int = 0, stop: Optional[int] = None) -> Generation:
    """Generation with a one-token step ``step(token, position) -> logits [V]``
    that keeps its own key/value cache: the prompt is fed one token at a time,
    then each new token. Stops when the cache of ``max_len`` positions is full."""
    if not prompt:
        raise ValueError("the prompt must hold at least one token")
    if len(prompt) >= max_len:
        raise ValueError(f"the prompt has {len(prompt)} tokens; the model's cache holds "
                         f"{max_len} positions")
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for position, token in enumerate(prompt):
        logits = step(token, position)
    generated = []
    for position in range(len(prompt), min(max_len, len(prompt) + n_tokens)):
        token = next_token(logits, top_k, temperature, rng)
        generated.append(token)
        if (stop is not None and token == stop) or len(generated) == n_tokens:
            break
        logits = step(token, position)
    return Generation(list(prompt), generated, time.perf_counter() - start)


class Backend:
    """A compiled model or an ONNX file in onnxruntime that generates text:
    either a full-sequence model (``input_ids`` [1, T] -> ``logits``
    [1, T, V]), run on a sliding window of T tokens, or a one-token step with
    a key/value cache (``onebit.decode``: inputs ``input_ids`` [1, 1],
    ``position`` and ``past_key.i`` / ``past_value.i``)."""

    def __init__(self, run: Callable[[dict], dict], inputs: dict, dtypes: dict, name: str):
        self.run, self.inputs, self.name = run, inputs, name
        shape = inputs.get("input_ids")
        if shape is None:
            raise ValueError(f"{name}: a generating model needs an input named input_ids")
        _check_shape(name, shape)
        self.cached = "position" in inputs
        if self.cached:
            self.caches = {k: (v, dtypes[k]) for k, v in inputs.items()
                           if k.startswith(("past_key.", "past_value."))}
            if not self.caches or shape[1] != 1:
                raise ValueError(f"{name}: a cached step needs input_ids [1, 1] and "
                                 "past_key.i / past_value.i inputs")
            self.context = next(iter(self.caches.values()))[0][2]
        else:
            self.context = shape[1]

    @classmethod
    def onebit(cls, library: str) -> "Backend":
        from .runtime import Model, _numpy_dtype
        model = Model(library)
        return cls(model.run, {i.name: list(i.shape) for i in model.inputs},
                   {i.name: _numpy_dtype(i.dtype) for i in model.inputs}, f"onebit ({library})")

    @classmethod
    def onnxruntime(cls, onnx_path: str) -> "Backend":
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        dtypes = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
        return cls(lambda feeds: dict(zip(names, session.run(None, feeds))),
                   {i.name: list(i.shape) for i in session.get_inputs()},
                   {i.name: dtypes.get(i.type) for i in session.get_inputs()},
                   f"onnxruntime ({onnx_path})")

    @property
    def mode(self) -> str:
        return (f"key/value cache of {self.context}" if self.cached
                else f"window of {self.context}")

    def generate(self, prompt: List[int], n_tokens: int, **kwargs) -> Generation:
        if not self.cached:
            return generate(lambda ids: self.run({"input_ids": ids})["logits"], prompt,
                            n_tokens, self.context, **kwargs)
        caches = {k: np.zeros(shape, dtype) for k, (shape, dtype) in self.caches.items()}

        def step(token, position):
            out = self.run({"input_ids": np.array([[token]], np.int64),
                            "position": np.array([position], np.int64), **caches})
            for name, cache in caches.items():
                cache[:, :, position] = out[name[len("past_"):]][:, :, 0]
            return out["logits"][0, -1]

        return generate_cached(step, prompt, n_tokens, self.context, **kwargs)


def _check_shape(path, shape):
    if len(shape) != 2 or shape[0] != 1 or not isinstance(shape[1], int):
        raise ValueError(f"{path}: generation needs input_ids of static shape [1, T], "
                         f"got {list(shape)}")
