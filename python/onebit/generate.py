"""Text generation with a byte-level decoder: a full-sequence model
``input_ids`` [1, T] -> ``logits`` [1, T, 256], or a decoding step with a
key/value cache (``Backend`` says which kinds).

A full-sequence model runs on the last T tokens of the context, right-padded,
and its logits are read at the last real position: the model is causal, so
padding after that position cannot change them. A decoder appends the prompt,
then one token per step. Greedy decoding picks the
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
    prefill_seconds: Optional[float] = None  # the prompt, up to the first token
    decode_seconds: Optional[float] = None  # the tokens after the first

    @property
    def tokens_per_second(self) -> float:
        return len(self.tokens) / self.seconds if self.seconds > 0 else float("inf")

    @property
    def prefill_tokens_per_second(self) -> float:
        return len(self.prompt) / self.prefill_seconds if self.prefill_seconds else float("inf")

    @property
    def decode_tokens_per_second(self) -> float:
        steps = len(self.tokens) - 1
        return steps / self.decode_seconds if self.decode_seconds else float("inf")

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
             stop: Optional[int] = None,
             on_token: Optional[Callable[[int], None]] = None) -> Generation:
    """Appends ``n_tokens`` tokens to ``prompt`` (stops early at ``stop``);
    ``on_token`` sees each token as it is produced."""
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
        if on_token:
            on_token(token)
        if stop is not None and token == stop:
            break
    return Generation(list(prompt), generated, time.perf_counter() - start)


def generate_cached(prefill: Callable[[List[int]], np.ndarray],
                    decode: Callable[[int], np.ndarray], prompt: List[int], n_tokens: int,
                    max_len: int, top_k: Optional[int] = None, temperature: float = 1.0,
                    seed: int = 0, stop: Optional[int] = None,
                    on_token: Optional[Callable[[int], None]] = None) -> Generation:
    """Generation with a decoder that keeps its own key/value cache:
    ``prefill(prompt)`` and ``decode(token)`` append tokens and return the
    last one's logits [V]. Stops when the cache of ``max_len`` positions is
    full; ``on_token`` sees each token as it is produced."""
    if not prompt:
        raise ValueError("the prompt must hold at least one token")
    if len(prompt) >= max_len:
        raise ValueError(f"the prompt has {len(prompt)} tokens; the model's cache holds "
                         f"{max_len} positions")
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    logits = prefill(list(prompt))
    prefilled = time.perf_counter()
    generated = []
    for _ in range(min(n_tokens, max_len - len(prompt))):
        token = next_token(logits, top_k, temperature, rng)
        generated.append(token)
        if on_token:
            on_token(token)
        if (stop is not None and token == stop) or len(generated) == n_tokens \
                or len(prompt) + len(generated) == max_len:
            break
        logits = decode(token)
    end = time.perf_counter()
    return Generation(list(prompt), generated, end - start, prefilled - start,
                      end - prefilled)


def _is_cache_input(name: str) -> bool:
    return name.startswith(("past_key.", "past_value.", "past_key_values."))


class Backend:
    """What generates text: a compiled model or an ONNX file in
    onnxruntime. ``open`` picks the kind:

    - a full-sequence model (``input_ids`` [1, T] -> ``logits`` [1, T, V]),
      run on a sliding window of T tokens;
    - a decoding step whose key/value cache travels through its inputs and
      outputs, in onebit's form (``past_key.i`` in, ``key.i`` out,
      ``position``) or Hugging Face's (``past_key_values.i.key`` in,
      ``present.i.key`` out, ``attention_mask``, ``position_ids``): an ONNX
      file, or a library compiled with ``--resident-cache=false``; the
      caches are numpy arrays here, fed one token at a time;
    - a library whose cache stays in it: a runtime ``Session``.
    """

    name = ""
    mode = ""

    @staticmethod
    def open(path: str, max_len: Optional[int] = None) -> "Backend":
        """The backend for a compiled library (.so) or an .onnx file;
        ``max_len``: a decoder's positions (default: its window)."""
        if str(path).endswith(".onnx"):
            return Backend.onnxruntime(str(path), max_len)
        return Backend.onebit(str(path), max_len)

    @staticmethod
    def onebit(library: str, max_len: Optional[int] = None) -> "Backend":
        from .runtime import Model, _numpy_dtype
        model = Model(library)
        if model.is_decoder:
            return SessionBackend(model, max_len, f"onebit ({library})")
        return _from_run(model.run, {i.name: list(i.shape) for i in model.inputs},
                         {i.name: _numpy_dtype(i.dtype) for i in model.inputs},
                         f"onebit ({library})", max_len)

    @staticmethod
    def onnxruntime(onnx_path: str, max_len: Optional[int] = None) -> "Backend":
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        dtypes = {"tensor(float)": np.float32, "tensor(float16)": np.float16,
                  "tensor(int64)": np.int64, "tensor(int32)": np.int32}
        return _from_run(lambda feeds: dict(zip(names, session.run(None, feeds))),
                         {i.name: list(i.shape) for i in session.get_inputs()},
                         {i.name: dtypes.get(i.type) for i in session.get_inputs()},
                         f"onnxruntime ({onnx_path})", max_len)

    def generate(self, prompt: List[int], n_tokens: int, **kwargs) -> Generation:
        raise NotImplementedError


def _from_run(run, inputs: dict, dtypes: dict, name: str, max_len) -> Backend:
    if any(_is_cache_input(k) for k in inputs):
        return CacheBackend(run, inputs, dtypes, name, max_len)
    return WindowBackend(run, inputs, name)


class WindowBackend(Backend):
    def __init__(self, run: Callable[[dict], dict], inputs: dict, name: str):
        self.run, self.name = run, name
        shape = inputs.get("input_ids")
        if shape is None:
            raise ValueError(f"{name}: a generating model needs an input named input_ids")
        _check_shape(name, shape)
        self.context = shape[1]
        self.mode = f"window of {self.context}"

    def generate(self, prompt: List[int], n_tokens: int, **kwargs) -> Generation:
        return generate(lambda ids: self.run({"input_ids": ids})["logits"], prompt,
                        n_tokens, self.context, **kwargs)


class CacheBackend(Backend):
    """A decoding step driven one token at a time with numpy caches, in
    either form (module docstring of onebit.decode)."""

    def __init__(self, run: Callable[[dict], dict], inputs: dict, dtypes: dict, name: str,
                 max_len: Optional[int] = None):
        self.run, self.name = run, name
        if "input_ids" not in inputs:
            raise ValueError(f"{name}: a generating model needs an input named input_ids")
        self.caches = {k: v for k, v in inputs.items() if _is_cache_input(k)}
        self.dtypes = dtypes
        self.optimum = any(k.startswith("past_key_values.") for k in self.caches)
        if not self.optimum:
            if "position" not in inputs or len(inputs["input_ids"]) != 2:
                raise ValueError(f"{name}: a cached step in onebit's form needs "
                                 "input_ids [1, 1], a position and past_key.i / "
                                 "past_value.i inputs")
            rows = next(iter(self.caches.values()))[2]
            if not isinstance(rows, int):
                raise ValueError(f"{name}: onebit's form has caches of static rows")
            self.max_len = min(rows, max_len or rows)
        else:
            if not max_len:
                raise ValueError(f"{name}: Hugging Face's form sets no window: give max_len")
            self.max_len = max_len
        for key, shape in self.caches.items():
            if len(shape) != 4 or not all(isinstance(d, int) for d in (shape[1], shape[3])):
                raise ValueError(f"{name}: cache input {key} must be [batch, heads, rows, "
                                 f"head_dim] with static heads and head_dim, got {shape}")
        self.mode = f"key/value cache of {self.max_len} (numpy)"

    def _state(self):
        if self.optimum:
            return {k: np.zeros((1, s[1], 0, s[3]), self.dtypes[k])
                    for k, s in self.caches.items()}
        return {k: np.zeros(s, self.dtypes[k]) for k, s in self.caches.items()}

    def _step(self, caches, token: int, position: int) -> np.ndarray:
        feeds = {"input_ids": np.array([[token]], np.int64)}
        if self.optimum:
            feeds["attention_mask"] = np.ones((1, position + 1), np.int64)
            feeds["position_ids"] = np.array([[position]], np.int64)
            out = self.run({**feeds, **caches})
            for key in caches:
                layer, kind = key[len("past_key_values."):].split(".")
                caches[key] = out[f"present.{layer}.{kind}"]
        else:
            feeds["position"] = np.array([position], np.int64)
            out = self.run({**feeds, **caches})
            for key, cache in caches.items():
                cache[:, :, position] = out[key[len("past_"):]][:, :, 0]
        return np.asarray(out["logits"]).reshape(-1, np.asarray(out["logits"]).shape[-1])[-1]

    def generate(self, prompt: List[int], n_tokens: int, **kwargs) -> Generation:
        caches = self._state()
        position = [0]

        def append(ids):
            for token in ids:
                logits = self._step(caches, token, position[0])
                position[0] += 1
            return logits

        return generate_cached(append, lambda t: append([t]), prompt, n_tokens,
                               self.max_len, **kwargs)


class SessionBackend(Backend):
    """A compiled decoder whose cache stays in the library."""

    def __init__(self, model, max_len: Optional[int], name: str):
        self.session = model.session(max_len or 0)
        self.name = name
        self.max_len = self.session.max_len
        self.mode = f"session of {self.max_len} positions"

    def generate(self, prompt: List[int], n_tokens: int, **kwargs) -> Generation:
        self.session.reset()
        return generate_cached(self.session.prefill, self.session.decode, prompt, n_tokens,
                               self.max_len, **kwargs)


def _check_shape(path, shape):
    if len(shape) != 2 or shape[0] != 1 or not isinstance(shape[1], int):
        raise ValueError(f"{path}: generation needs input_ids of static shape [1, T], "
                         f"got {list(shape)}")
