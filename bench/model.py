#!/usr/bin/env python3
"""A whole compiled model against onnxruntime (on the CPU) on the same ONNX
file: time per forward, in one run, alternating the two.

    python3 bench/model.py MODEL.onnx [--library MODEL.so | --target cpu|cuda] [--rounds 5]

Inputs are generated: token ids from a fixed seed, ``position`` = half the
cache, caches zero (the work of a step does not depend on their values).
onebit is timed with ``Model.time`` (back-to-back forwards in the library)
and with a Python loop of ``Model.run`` (what generation pays per step);
onnxruntime with a Python loop of ``InferenceSession.run``, one thread per
core (its default); ``--skip-onnxruntime`` leaves it out, for models it
cannot hold in memory.

It also prints the bytes of weights one forward reads (every initializer,
but one row per index of a table that a Gather reads, such as the
embeddings) and the rate at which ``Model.time`` reads them; for a CPU
library, next to bench/cpu_linear.py's memory-read probe (numpy's maximum
of 1 GiB on every core), for a CUDA library next to bench/gpu_linear.py's
device-to-device copy bandwidth (torch, 1 GiB), run in the same process.
With ``--library`` and ``--skip-onnxruntime``, the ONNX file is read only
for its initializers' sizes (its external data may be absent), so a
library whose weights were made compressible by bench/repeat_weights.py
can be timed on the GPU machine.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))


def feeds_for(inputs):
    rng = np.random.default_rng(0)
    feeds = {}
    for name, (shape, dtype) in inputs.items():
        if name == "position":
            cache = next(s for n, (s, _) in inputs.items() if n.startswith("past_key."))
            feeds[name] = np.array([cache[2] // 2], np.int64)
        elif np.dtype(dtype).kind == "i":
            feeds[name] = rng.integers(32, 127, size=shape).astype(dtype)
        else:
            feeds[name] = np.zeros(shape, dtype)
    return feeds


def weight_bytes_read(model_path, feeds):
    """Bytes of the initializers one forward reads: all of each, except a
    table that a Gather reads along axis 0 with indices from the feeds, of
    which it reads one row per index."""
    import onnx
    from onnx import helper
    graph = onnx.load(model_path, load_external_data=False).graph
    tensors = {t.name: t for t in graph.initializer}

    def nbytes(t):
        itemsize = np.dtype(helper.tensor_dtype_to_np_dtype(t.data_type)).itemsize
        return int(np.prod(t.dims, dtype=np.int64)) * itemsize

    total = sum(nbytes(t) for t in tensors.values())
    tables = set()
    for node in graph.node:
        axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
        table, indices = node.input[0], node.input[1] if len(node.input) > 1 else ""
        if (node.op_type == "Gather" and axis == 0 and table in tensors
                and indices in feeds and table not in tables):
            tables.add(table)
            size = nbytes(tensors[table])
            total -= size - size // tensors[table].dims[0] * feeds[indices].size
    return total


def loop_us(fn, iterations):
    fn()
    start = time.perf_counter()
    for _ in range(iterations):
        fn()
    return (time.perf_counter() - start) / iterations * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--library", help="compiled model (default: compile MODEL for --target)")
    ap.add_argument("--target", default="cpu", choices=("cpu", "cuda"),
                    help="the library's target (compiled for it without --library)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=0,
                    help="forwards per round (default: about 0.5 s of work)")
    ap.add_argument("--skip-onnxruntime", action="store_true",
                    help="time onebit alone (no comparison of outputs)")
    a = ap.parse_args()
    import onnxruntime as ort
    from onebit.runtime import Model, _numpy_dtype

    library = a.library
    if not library:
        library = os.path.join(tempfile.mkdtemp(), "model.so")
        subprocess.run([os.path.join(a.build, "bin", "onebit-compile"), a.model, f"-target={a.target}",
                        "-o", library], check=True)
    model = Model(library)
    feeds = feeds_for({i.name: (list(i.shape), _numpy_dtype(i.dtype)) for i in model.inputs})
    session = None
    if not a.skip_onnxruntime:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(a.model, options, providers=["CPUExecutionProvider"])
    ours = model.run(feeds)
    if session:
        theirs = session.run(None, feeds)
        err = max(float(np.abs(o - t).max() / max(np.abs(t).max(), 1e-30))
                  for o, t in zip(ours.values(), theirs))
    iterations = a.iterations or max(3, int(0.5e6 / loop_us(lambda: model.run(feeds), 3)))
    lib_us, run_us, ort_us = [], [], []
    for _ in range(a.rounds):
        lib_us.append(model.time(feeds, iterations))
        run_us.append(loop_us(lambda: model.run(feeds), iterations))
        if session:
            ort_us.append(loop_us(lambda: session.run(None, feeds), iterations))
    med = statistics.median
    compared = (f"max relative difference to onnxruntime {err:.1e}" if session
                else "onnxruntime skipped")
    print(f"{os.path.basename(a.model)}: {compared}; "
          f"median of {a.rounds} rounds of {iterations} forwards, {os.cpu_count()} cores")
    print(f"  onebit Model.time     {med(lib_us):10.1f} us")
    print(f"  onebit Model.run loop {med(run_us):10.1f} us")
    if session:
        print(f"  onnxruntime run loop  {med(ort_us):10.1f} us   "
              f"(onebit {med(ort_us) / med(run_us):.2f}x faster)")
    weights = weight_bytes_read(a.model, feeds)
    rate = weights / med(lib_us) / 1e3
    line = f"  weights read per forward {weights / 1e6:.1f} MB: {rate:.2f} GB/s in Model.time"
    if a.target == "cpu":
        from cpu_linear import probe_bandwidth
        probe = probe_bandwidth(os.cpu_count())
        line += f", {100 * rate / probe:.0f}% of the read probe ({probe:.1f} GB/s)"
    else:
        from gpu_linear import copy_bandwidth
        copy = copy_bandwidth()
        line += f", {100 * rate / copy:.0f}% of device-to-device copy bandwidth ({copy:.0f} GB/s)"
    print(line)


if __name__ == "__main__":
    main()
