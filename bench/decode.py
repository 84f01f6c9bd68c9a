#!/usr/bin/env python3
"""Decoding a LLaMA-7B-shaped OneBit model with its key/value cache in the
library (a session), against PyTorch FP16 on the same GPU in the same run.

    # here (the compiler's machine): export, make the weights compressible,
    # compile, pack (a 7B library does not travel otherwise)
    python3 bench/decode.py prepare --out decode-bench [--window 4160]
    # on the GPU machine (numpy, torch with CUDA; PYTHONPATH=python)
    python3 bench/decode.py run decode-bench [--contexts 128,1024,4096]
    # the same decoder on this CPU (OMP_NUM_THREADS threads), in a fresh
    # process after the export
    python3 bench/decode.py prepare --out decode-cpu --target cpu
    OMP_NUM_THREADS=2 python3 bench/decode.py cpu decode-cpu [--contexts 128,1024]

For each context P the session is prefilled with P tokens, then timed:
- `library`: one decoding step at position P repeated in the library
  (onebit_session_time: CUDA graph replays timed with device events);
- `python`: `Session.decode(token, logits=False)` in a Python loop, host
  work included (the position and token go up, the next token comes back);
- the PyTorch FP16 peer: the same shapes (fp16 nn.Linear weights through
  cuBLAS, RMSNorm, rotary, a static cache of `window` rows written with
  index_copy_, scaled_dot_product_attention over it with a mask), one CUDA
  graph per step, replayed back to back.
Then the prefill of 512 tokens (onebit: `Session.prefill`, one-token
steps, and with `prepare --prefill-tokens T` the same decoder compiled for
steps of T tokens; PyTorch: one forward of 512 tokens, causal SDPA), the
bytes a step reads (weights, with
one embedding row, plus the cache rows that exist) against the
device-to-device copy bandwidth (torch, 1 GiB), and the kernels of one
onebit step and their time (torch.profiler, CUDA graphs off for it).
Outputs of the 1-bit model mean nothing (bench/repeat_weights.py); kernels
do not branch on values. Timing only: correctness is
scripts/cuda_device_check.py's.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

LLAMA_7B = dict(vocab_size=32000, d_model=4096, n_layers=32, n_heads=32, ffn=11008)


def export(out, window):
    """The 7B-shaped decoder, fp16, weights made compressible."""
    from onebit import decode, models
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / "llama7b-decode.onnx"
    decode.build_llama_decode(models.LlamaConfig(**LLAMA_7B), max_len=window, dtype="float16",
                              path=str(onnx_path), external_data=True,
                              location="llama7b-decode.onnx.data")
    subprocess.run([sys.executable, str(ROOT / "bench" / "repeat_weights.py"),
                    str(onnx_path) + ".data"], check=True)
    return onnx_path


def prepare(args):
    out = Path(args.out)
    onnx_path = export(out, args.window)
    variants = dict(v.split("=", 1) for v in args.variant)
    libraries = [("", "")] + [(f"-{name}", flags) for name, flags in variants.items()]
    if args.prefill_tokens:
        libraries.append((f"-t{args.prefill_tokens}",
                          f"--input-shape input_ids=1x{args.prefill_tokens}"))
    for suffix, flags in libraries:
        library = out / (f"llama7b-decode{suffix}.so" if args.target == "cuda"
                         else "llama7b-decode-cpu.so")
        start = time.perf_counter()
        subprocess.run([args.compiler, str(onnx_path), f"-target={args.target}", "-o",
                        str(library)] + flags.split(), check=True)
        print(f"compiled {library} ({flags or 'default flags'}) in "
              f"{time.perf_counter() - start:.1f} s", flush=True)
        if args.target == "cuda":
            subprocess.run(["xz", "-f", "-6", "-T2", str(library)], check=True)
    (out / "config.json").write_text(json.dumps({"window": args.window, **LLAMA_7B,
                                                 "variants": variants,
                                                 "prefill_tokens": args.prefill_tokens}))
    if args.target == "cuda":
        # The bench reads the ONNX file for its weights' sizes only.
        os.remove(str(onnx_path) + ".data")


def weight_bytes(onnx_path, vocab):
    """Bytes of the initializers a step reads: all, but one row of the
    embedding table."""
    import onnx
    from onnx import helper
    total = 0
    for t in onnx.load(str(onnx_path), load_external_data=False).graph.initializer:
        size = int(np.prod(t.dims, dtype=np.int64)) * np.dtype(
            helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize
        if t.name == "model.embed_tokens.weight":
            size //= vocab
        total += size
    return total


def copy_bandwidth(torch):
    x = torch.empty(2 ** 30, dtype=torch.uint8, device="cuda")
    y = torch.empty_like(x)
    for _ in range(3):
        y.copy_(x)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(10):
        y.copy_(x)
    end.record()
    torch.cuda.synchronize()
    seconds = start.elapsed_time(end) / 1e3 / 10
    del x, y
    return 2 * 2 ** 30 / seconds


class TorchLlama:
    """LLaMA-7B shapes in PyTorch FP16 with a static cache: what a user runs
    (cuBLAS products, SDPA over the cache window with a mask)."""

    def __init__(self, torch, config, window):
        self.torch, self.c, self.window = torch, config, window
        d, f, v = config["d_model"], config["ffn"], config["vocab_size"]
        self.heads, self.head_dim = config["n_heads"], d // config["n_heads"]
        gen = torch.Generator(device="cuda").manual_seed(0)

        def w(*shape):
            return (torch.randn(*shape, device="cuda", generator=gen, dtype=torch.float16)
                    / np.sqrt(shape[-1]))
        self.embed = w(v, d)
        self.layers = [dict(qkv=w(3 * d, d), o=w(d, d), gate_up=w(2 * f, d), down=w(d, f),
                            n1=torch.ones(d, device="cuda", dtype=torch.float16),
                            n2=torch.ones(d, device="cuda", dtype=torch.float16))
                       for _ in range(config["n_layers"])]
        self.norm = torch.ones(d, device="cuda", dtype=torch.float16)
        self.lm_head = w(v, d)
        shape = (1, self.heads, window, self.head_dim)
        self.k = [torch.zeros(shape, device="cuda", dtype=torch.float16)
                  for _ in self.layers]
        self.v = [torch.zeros(shape, device="cuda", dtype=torch.float16)
                  for _ in self.layers]
        inv = 1.0 / (10000 ** (torch.arange(0, self.head_dim, 2, device="cuda").float()
                               / self.head_dim))
        angles = torch.arange(window, device="cuda").float()[:, None] * inv[None]
        self.cos = torch.cat([angles.cos()] * 2, -1).half()
        self.sin = torch.cat([angles.sin()] * 2, -1).half()

    def rms(self, x, weight):
        x32 = x.float()
        return (x32 * self.torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + 1e-6)).half() \
            * weight

    def rope(self, x, positions):
        cos, sin = self.cos[positions][None, None], self.sin[positions][None, None]
        half = x.shape[-1] // 2
        rotated = self.torch.cat([-x[..., half:], x[..., :half]], -1)
        return x * cos + rotated * sin

    def forward(self, ids, positions, mask):
        """ids [1, T], positions [T] (on the GPU), mask [T, window] bool."""
        F = self.torch.nn.functional
        T = ids.shape[1]
        x = self.embed[ids]
        for i, layer in enumerate(self.layers):
            h = self.rms(x, layer["n1"])
            q, k, v = (h @ layer["qkv"].t()).split(self.c["d_model"], -1)
            q, k, v = (t.view(1, T, self.heads, self.head_dim).transpose(1, 2)
                       for t in (q, k, v))
            q, k = self.rope(q, positions), self.rope(k, positions)
            self.k[i].index_copy_(2, positions, k)
            self.v[i].index_copy_(2, positions, v)
            a = F.scaled_dot_product_attention(q, self.k[i], self.v[i], attn_mask=mask)
            x = x + a.transpose(1, 2).reshape(1, T, -1) @ layer["o"].t()
            h = self.rms(x, layer["n2"])
            gate, up = (h @ layer["gate_up"].t()).split(self.c["ffn"], -1)
            x = x + (F.silu(gate) * up) @ layer["down"].t()
        return self.rms(x, self.norm)[:, -1] @ self.lm_head.t()


def time_torch(torch, model, context, window, iterations):
    """One step at position `context` as a CUDA graph, replayed."""
    ids = torch.zeros((1, 1), dtype=torch.long, device="cuda")
    positions = torch.tensor([context], device="cuda")
    mask = (torch.arange(window, device="cuda") <= context)[None]
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            model.forward(ids, positions, mask)
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        model.forward(ids, positions, mask)
    for _ in range(3):
        graph.replay()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        graph.replay()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) * 1e3 / iterations


def time_torch_prefill(torch, model, tokens, window):
    ids = torch.zeros((1, tokens), dtype=torch.long, device="cuda")
    positions = torch.arange(tokens, device="cuda")
    mask = torch.arange(window, device="cuda")[None] <= positions[:, None]
    for _ in range(2):
        model.forward(ids, positions, mask)
    # The median of five forwards: a single one varied 2x between runs.
    times = []
    for _ in range(5):
        torch.cuda.synchronize()
        start = time.perf_counter()
        model.forward(ids, positions, mask)
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e6)
    return sorted(times)[len(times) // 2]


def count_kernels(torch, session, token):
    """Kernels and their GPU time in one decoding step (graphs and dependent
    launches off: with them a kernel's time would include its wait), and
    the step's kernels in launch order."""
    from torch.profiler import ProfilerActivity, profile
    session.decode(token, logits=False)
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        session.decode(token, logits=False)
        torch.cuda.synchronize()
    names, order = {}, []
    for event in prof.events():
        if event.device_time > 0 and not event.name.startswith("Memcpy"):
            entry = names.setdefault(event.name, [0, 0.0])
            entry[0] += 1
            entry[1] += event.device_time
            order.append((event.time_range.start, event.name, event.device_time))
    return names, [(name, t) for _, name, t in sorted(order)]


def unpack(folder, suffix=""):
    library = folder / f"llama7b-decode{suffix}.so"
    if not library.exists():
        subprocess.run(["xz", "-d", "-k", str(library) + ".xz"], check=True)
    return library


def run_variants(args):
    """The step of each variant `prepare --variant` compiled, against the
    default flags, alternating in one process, `--rounds` times."""
    from onebit.runtime import Model
    folder = Path(args.dir)
    config = json.loads((folder / "config.json").read_text())
    names = ["default"] + list(config.get("variants", {}))
    sessions = {}
    for name in names:
        suffix = "" if name == "default" else f"-{name}"
        sessions[name] = Model(unpack(folder, suffix)).session(config["window"])
    contexts = [int(c) for c in args.contexts.split(",")]
    for context in contexts:
        ids = np.random.default_rng(context).integers(0, config["vocab_size"], context)
        for session in sessions.values():
            session.reset()
            for start in range(0, context, 512):
                session.prefill(ids[start:start + 512], logits=False)
        for round_ in range(args.rounds):
            times = {name: session.time(17, iterations=args.iterations)
                     for name, session in sessions.items()}
            print(f"context {context}, round {round_ + 1}: " + ", ".join(
                f"{name} {us:.1f} us" for name, us in times.items()), flush=True)


def run(args):
    import torch
    from onebit.runtime import Model
    folder = Path(args.dir)
    config = json.loads((folder / "config.json").read_text())
    window = config["window"]
    library = unpack(folder)
    contexts = [int(c) for c in args.contexts.split(",")]
    print(f"GPU: {torch.cuda.get_device_name()}")
    bandwidth = copy_bandwidth(torch)
    weights = weight_bytes(folder / "llama7b-decode.onnx", config["vocab_size"])
    head_dim = config["d_model"] // config["n_heads"]
    print(f"device-to-device copy: {bandwidth / 1e9:.0f} GB/s; weights read per step "
          f"{weights / 1e6:.1f} MB")
    model = Model(library)
    session = model.session(window)
    token = 17
    rows = {}
    for context in contexts:
        session.reset()
        # The prefill's cost grows with its length: chunks of 512 keep the
        # session's prompt buffer small.
        ids = np.random.default_rng(context).integers(0, config["vocab_size"], context)
        for start in range(0, context, 512):
            session.prefill(ids[start:start + 512], logits=False)
        library_us = session.time(token, iterations=args.iterations)
        steps = min(args.iterations, window - context - 1)
        start = time.perf_counter()
        next_token = token
        for _ in range(steps):
            next_token = session.decode(next_token, logits=False)
        python_us = (time.perf_counter() - start) / steps * 1e6
        cache = 2 * config["n_layers"] * config["n_heads"] * (context + 1) * head_dim * 2
        rows[context] = dict(library_us=library_us, python_us=python_us,
                             bytes=weights + cache)
        print(f"context {context}: library {library_us:.1f} us, python {python_us:.1f} us, "
              f"{(weights + cache) / 1e6:.1f} MB read, "
              f"{(weights + cache) / (library_us * 1e-6) / bandwidth:.0%} of copy bandwidth",
              flush=True)
    session.reset()
    ids = np.random.default_rng(0).integers(0, config["vocab_size"], 512)
    session.prefill(ids[:8], logits=False)
    session.reset()
    start = time.perf_counter()
    session.prefill(ids, logits=False)
    onebit_prefill_us = (time.perf_counter() - start) * 1e6
    print(f"prefill 512: onebit {onebit_prefill_us / 1e3:.1f} ms", flush=True)
    chunk = config.get("prefill_tokens")
    chunked_prefill_us = chunked_step_us = None
    if chunk:
        # The same decoder compiled for steps of `chunk` tokens: 512 / chunk
        # steps (docs/decoding.md), each reading the weights once.
        chunked = Model(unpack(folder, f"-t{chunk}")).session(512 + chunk)
        chunked.prefill(ids[:8], logits=False)
        chunked.reset()
        start = time.perf_counter()
        chunked.prefill(ids, logits=False)
        chunked_prefill_us = (time.perf_counter() - start) * 1e6
        # What the library's decode steps then cost: one token padded to T.
        chunked_step_us = chunked.time(token, iterations=args.iterations)
        del chunked
        print(f"prefill 512 in steps of {chunk}: onebit {chunked_prefill_us / 1e3:.1f} ms; "
              f"its decode step at 512: {chunked_step_us:.1f} us", flush=True)
    os.environ["ONEBIT_CUDA_GRAPHS"] = "0"
    os.environ["ONEBIT_CUDA_DEPENDENT_LAUNCH"] = "0"
    profiled = Model(library).session(window)
    profiled.prefill([token] * 1024, logits=False)
    kernels, order = count_kernels(torch, profiled, token)
    total = sum(n for n, _ in kernels.values())
    print(f"one step at context 1024, graphs off: {total} kernels "
          f"({total / config['n_layers']:.1f} per layer), "
          f"{sum(t for _, t in kernels.values()):.0f} us of GPU time")
    for name, (n, t) in sorted(kernels.items(), key=lambda item: -item[1][1]):
        print(f"  {name}: {n} kernels, {t:.0f} us")
    per_layer = (len(order) - 8) // config["n_layers"]
    print("the kernels of the second layer, in order: " + ", ".join(
        f"{name} {t:.1f}" for name, t in order[4 + per_layer:4 + 3 * per_layer]))
    del profiled, session, model

    peer = TorchLlama(torch, config, window)
    for context in contexts:
        torch_us = time_torch(torch, peer, context, window, args.iterations)
        r = rows[context]
        print(f"context {context}: PyTorch FP16 {torch_us:.1f} us; onebit library "
              f"{r['library_us']:.1f} us ({torch_us / r['library_us']:.2f}x), python "
              f"{r['python_us']:.1f} us ({torch_us / r['python_us']:.2f}x)", flush=True)
        r["torch_us"] = torch_us
    torch_prefill_us = time_torch_prefill(torch, peer, 512, window)
    print(f"prefill 512: PyTorch FP16 {torch_prefill_us / 1e3:.1f} ms, onebit "
          f"{onebit_prefill_us / 1e3:.1f} ms ({torch_prefill_us / onebit_prefill_us:.2f}x)")
    if chunked_prefill_us:
        print(f"prefill 512: onebit in steps of {chunk} {chunked_prefill_us / 1e3:.1f} ms "
              f"({torch_prefill_us / chunked_prefill_us:.2f}x PyTorch FP16)")
    if args.json:
        Path(args.json).write_text(json.dumps({
            "gpu": torch.cuda.get_device_name(), "copy_bandwidth": bandwidth,
            "contexts": {str(c): r for c, r in rows.items()},
            "prefill_512_us": {"onebit": onebit_prefill_us, "torch": torch_prefill_us,
                               "onebit_chunked": chunked_prefill_us, "chunk": chunk,
                               "chunked_step_us": chunked_step_us},
            "kernels_per_step": total, "layers": config["n_layers"]}, indent=1))


def plot(args):
    """docs/images/decode.png from `run --json`."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    results = json.loads(Path(args.json).read_text())
    contexts = sorted(results["contexts"], key=int)
    rows = [results["contexts"][c] for c in contexts]
    x = np.arange(len(contexts))
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for offset, key, label in ((-0.27, "library_us", "onebit (library)"),
                               (0, "python_us", "onebit (Python loop)"),
                               (0.27, "torch_us", "PyTorch FP16 (CUDA graph)")):
        left.bar(x + offset, [r[key] / 1e3 for r in rows], 0.27, label=label)
    left.set(xticks=x, xticklabels=contexts, xlabel="context (tokens in the cache)",
             ylabel="ms per token", title=f"LLaMA-7B shape, decode, {results['gpu']}")
    left.legend()
    share = [r["bytes"] / (r["library_us"] * 1e-6) / results["copy_bandwidth"] for r in rows]
    right.bar(x, [100 * v for v in share], 0.5)
    right.set(xticks=x, xticklabels=contexts, xlabel="context", ylim=(0, 100),
              ylabel="% of device-to-device copy bandwidth",
              title="bytes a step reads (weights + valid cache rows) / time")
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)


def run_cpu(args):
    """The decoder that `prepare --target cpu` compiled, on this machine's
    CPU: session steps at each context against the memory-read probe
    (numpy's maximum of 1 GiB over the threads, bench/cpu_linear.py).
    onnxruntime would need the model in FP32 (27 GB), more than such
    machines hold: it is left out."""
    sys.path.insert(0, str(ROOT / "bench"))
    from cpu_linear import probe_bandwidth
    from onebit.runtime import Model
    folder = Path(args.dir)
    config = json.loads((folder / "config.json").read_text())
    threads = int(os.environ.get("OMP_NUM_THREADS", os.cpu_count()))
    probe = probe_bandwidth(threads)
    weights = weight_bytes(folder / "llama7b-decode.onnx", config["vocab_size"])
    head_dim = config["d_model"] // config["n_heads"]
    print(f"CPU: {threads} threads, read probe {probe:.1f} GB/s; weights read per step "
          f"{weights / 1e6:.1f} MB")
    session = Model(folder / "llama7b-decode-cpu.so").session(config["window"])
    rng = np.random.default_rng(0)
    for context in [int(c) for c in args.contexts.split(",")]:
        session.reset()
        start = time.perf_counter()
        session.prefill(rng.integers(0, config["vocab_size"], context), logits=False)
        prefill = time.perf_counter() - start
        step_us = session.time(17, iterations=args.iterations)
        read = weights + 2 * config["n_layers"] * config["n_heads"] * (context + 1) \
            * head_dim * 2
        rate = read / (step_us * 1e-6) / 1e9
        print(f"context {context}: step {step_us / 1e3:.1f} ms, {read / 1e6:.1f} MB read, "
              f"{rate:.1f} GB/s = {rate / probe:.0%} of the probe (prefill of {context}: "
              f"{prefill:.1f} s)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="export, compile and pack the 7B decoder (no GPU)")
    p.add_argument("--out", required=True)
    p.add_argument("--window", type=int, default=4160)
    p.add_argument("--target", choices=("cuda", "cpu"), default="cuda")
    p.add_argument("--compiler", default=str(ROOT / "build/bin/onebit-compile"))
    p.add_argument("--prefill-tokens", type=int, default=0, metavar="T",
                   help="also compile the decoder for steps of T tokens, to time prefill")
    p.add_argument("--variant", action="append", default=[], metavar="NAME=FLAGS",
                   help="also compile with these onebit-compile flags (cuda; for `variants`)")
    r = sub.add_parser("run", help="time it and the PyTorch peer on the GPU")
    r.add_argument("dir")
    r.add_argument("--contexts", default="128,1024,4096")
    r.add_argument("--iterations", type=int, default=50)
    r.add_argument("--json", help="also write the results here (for plot)")
    v = sub.add_parser("variants", help="time the variants against the default flags")
    v.add_argument("dir")
    v.add_argument("--contexts", default="1024")
    v.add_argument("--iterations", type=int, default=50)
    v.add_argument("--rounds", type=int, default=2)
    g = sub.add_parser("plot", help="the PNG of a run's --json")
    g.add_argument("json")
    g.add_argument("-o", "--output", default=str(ROOT / "docs" / "images" / "decode.png"))
    c = sub.add_parser("cpu", help="time what prepare --target cpu compiled, on this CPU")
    c.add_argument("dir")
    c.add_argument("--contexts", default="128,1024")
    c.add_argument("--iterations", type=int, default=5)
    args = parser.parse_args()
    return {"prepare": prepare, "run": run, "variants": run_variants, "cpu": run_cpu,
            "plot": plot}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
