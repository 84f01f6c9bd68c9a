#!/usr/bin/env python3
"""One 1-bit linear layer on the CPU: onebit vs onnxruntime, side by side.

For each shape K->N and batch M, in one run on one machine:
  - onebit: a packed OneBit layer (no LayerNorm/bias) compiled by
    onebit-compile -target=cpu, timed by onebit-run --benchmark (median);
  - onnxruntime MatMul on the dense weight in FP32 and FP16 (median);
  - a memory-read probe: numpy's maximum of 1 GiB split over the threads
    (GB/s).
Prints a markdown table; the packed weight bytes / onebit time is the
effective bandwidth, compared with the probe. Threads: OMP_NUM_THREADS for
onebit, intra_op_num_threads for onnxruntime (both --threads).

With --baseline-build DIR, compares two onebit builds instead (e.g. before
and after a kernel change; no onnxruntime), and with --baseline-flags, the
same build with other onebit-compile flags: each layer is compiled by both,
and the two libraries' onebit-run --benchmark alternate for --rounds rounds,
so that both see the same load; the table gives the minimum time of each,
the least disturbed by other jobs on a shared machine.

For a machine without LLVM (the GPU machine's host CPU), in two steps:
--prepare DIR compiles the layers for --mcpu into DIR, with the OpenMP
runtime the libraries link; --run-prepared DIR times them there, onebit
through onebit.runtime (onebit_model_time, one forward per call, the
median), next to the same onnxruntime peers and probe.
"""

import argparse
import ctypes
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parent.parent
# What the CPU libraries link (lib/Target/CPU/Linker.cpp).
OPENMP_RUNTIME = "/usr/lib/llvm-22/lib/libomp.so.5"
sys.path.insert(0, str(ROOT / "python"))
from onebit import models  # noqa: E402


def median_time(fn, runs, warm_up_seconds=0.2):
    """Median seconds of `runs` calls of `fn`, after calling it for
    `warm_up_seconds` (at least 3 times): a new thread starts on its
    creator's core, and until the OS moves it, two threads share one
    (onebit-run and onebit_model_time warm up as long)."""
    warm_end = time.perf_counter() + warm_up_seconds
    for warm in itertools.count():
        if warm >= 3 and time.perf_counter() >= warm_end:
            break
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def dense_model(k, n, m, dtype):
    elem = TensorProto.FLOAT if dtype == np.float32 else TensorProto.FLOAT16
    w = np.random.default_rng(0).standard_normal((k, n)).astype(dtype)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "dense",
        [helper.make_tensor_value_info("x", elem, [m, k])],
        [helper.make_tensor_value_info("y", elem, [m, n])],
        [onnx.numpy_helper.from_array(w, "w")])
    # IR 8 (what opset 18 needs): newer onnx writes versions older onnxruntime refuses.
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8)


def write_layer(tmp, k, n, m):
    """The packed layer K->N for M rows and its input; returns their paths."""
    config = models.MLPConfig(sizes=[k, n], batch=m, layer_norm=False, bias=False,
                              activation="none")
    built = models.build_mlp(config, encoding="packed", opset=18, seed=0)
    model = tmp / "layer.onnx"
    model.write_bytes(built.model.SerializeToString())
    np.save(tmp / "x.npy", layer_input(k, m))
    return model, tmp / "x.npy"


def layer_input(k, m):
    return np.random.default_rng(1).standard_normal((m, k)).astype(np.float32)


def onebit_times(build, library, inputs, runs, env):
    """(median, min) microseconds of `runs` runs by `build`'s onebit-run."""
    out = subprocess.run([Path(build) / "bin" / "onebit-run", library, "--input",
                          f"x={inputs}", "--benchmark", str(runs)], check=True, env=env,
                         capture_output=True, text=True).stdout
    return (float(out.split("median_us:")[1].split()[0]),
            float(out.split("min_us:")[1].split()[0]))


def layer_cases(args, tmp):
    """(K, N, M, model path, input path) for every shape and batch asked for."""
    for shape in args.shapes.split(","):
        k, n = map(int, shape.split("x"))
        for m in map(int, args.batches.split(",")):
            yield (k, n, m) + write_layer(tmp, k, n, m)


def compare_builds(args, env):
    builds = {"baseline": args.baseline_build or args.build, "onebit": args.build}
    flags = {"baseline": args.baseline_flags.split(), "onebit": args.flags.split()}
    print(f"threads: {args.threads}; min of {args.rounds} x {args.runs} runs each; "
          f"baseline: {builds['baseline']} {args.baseline_flags}")
    print("| K->N | M | baseline min us | onebit min us | speed-up |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for k, n, m, model, inputs in layer_cases(args, tmp):
            best = {}
            for name, build in builds.items():
                subprocess.run([Path(build) / "bin" / "onebit-compile", model,
                                *flags[name], "-o", tmp / f"{name}.so"], check=True)
                best[name] = float("inf")
            for _ in range(args.rounds):
                for name, build in builds.items():
                    _, fastest = onebit_times(build, tmp / f"{name}.so", inputs,
                                              args.runs, env)
                    best[name] = min(best[name], fastest)
            print(f"| {k}->{n} | {m} | {best['baseline']:.0f} | {best['onebit']:.0f} "
                  f"| {best['baseline'] / best['onebit']:.2f}x |", flush=True)


def probe_bandwidth(threads):
    """GB/s of numpy's maximum of 1 GiB of f32 (more than most last-level
    caches) split over `threads` threads (its reductions release the GIL).
    One compare per element keeps it memory-bound; a sum is not: numpy's
    pairwise float64 sum read 16 GB/s where the maximum read 30 (2 threads,
    Xeon under KVM)."""
    data = np.ones(1024 * 1024 * 1024 // 4, dtype=np.float32)
    parts = np.array_split(data, threads)
    with ThreadPoolExecutor(threads) as pool:
        seconds = median_time(lambda: list(pool.map(np.max, parts)), 5)
    return data.nbytes / seconds / 1e9


def plot(rows, path):
    """Bars of microseconds per layer (log scale), onebit against onnxruntime
    FP32 and FP16, one group per (K, N, M) of `rows`."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axis = plt.subplots(figsize=(max(8, 0.45 * len(rows)), 5))
    positions = np.arange(len(rows))
    for offset, key, label in ((-0.27, "onebit", "onebit (1-bit)"),
                               (0.0, "fp32", "onnxruntime FP32"),
                               (0.27, "fp16", "onnxruntime FP16")):
        axis.bar(positions + offset, [r[key] for r in rows], 0.27, label=label)
    axis.set_xticks(positions, [f"{r['k']}->{r['n']} M={r['m']}" for r in rows],
                    fontsize=7, rotation=90)
    axis.set_yscale("log")
    axis.set_ylabel("µs per layer")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def print_comparison(cases, args):
    """The table: for each (K, N, M, x, onebit microseconds) of `cases`, the
    onnxruntime peers on a dense weight of the same shape and the probe;
    with --plot, also a PNG of the same times."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    bandwidth = probe_bandwidth(args.threads)
    print(f"memory-read probe: {bandwidth:.1f} GB/s; threads: {args.threads}")
    print("| K->N | M | onebit us | ORT fp32 us | ORT fp16 us | vs fp32 | vs fp16 |"
          " onebit GB/s (packed) | % of probe |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    for k, n, m, x, ours in cases:
        peers = {}
        for name, dtype in (("fp32", np.float32), ("fp16", np.float16)):
            session = ort.InferenceSession(dense_model(k, n, m, dtype).SerializeToString(),
                                           options)
            feed = {"x": x.astype(dtype)}
            peers[name] = median_time(lambda: session.run(None, feed), args.runs) * 1e6
        packed_bytes = n * ((k + 7) // 8)
        gbs = packed_bytes / (ours * 1e-6) / 1e9
        print(f"| {k}->{n} | {m} | {ours:.0f} | {peers['fp32']:.0f} | {peers['fp16']:.0f} "
              f"| {peers['fp32'] / ours:.1f}x | {peers['fp16'] / ours:.1f}x "
              f"| {gbs:.1f} | {100 * gbs / bandwidth:.0f}% |", flush=True)
        rows.append(dict(k=k, n=n, m=m, onebit=ours, **peers))
    if args.plot:
        plot(rows, args.plot)
        print(f"plot: {args.plot}")


def prepare(args, compiler):
    """Compiles every layer for --mcpu into --prepare, with the OpenMP
    runtime and a manifest, for --run-prepared on another machine."""
    out = Path(args.prepare)
    out.mkdir(parents=True, exist_ok=True)
    cases = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, n, m, model, inputs in layer_cases(args, Path(tmp)):
            stem = f"layer_{k}x{n}_m{m}"
            subprocess.run([compiler, model, f"-mcpu={args.mcpu}", *args.flags.split(),
                            "-o", out / f"{stem}.so"], check=True)
            cases.append({"k": k, "n": n, "m": m, "stem": stem})
    shutil.copy(OPENMP_RUNTIME, out)
    (out / "manifest.json").write_text(json.dumps({"mcpu": args.mcpu, "flags": args.flags,
                                                   "cases": cases}))
    print(f"prepared {len(cases)} layers for -mcpu={args.mcpu} in {out}")


def run_prepared(args):
    """Times the layers of a --prepare directory on this machine."""
    directory = Path(args.run_prepared)
    manifest = json.loads((directory / "manifest.json").read_text())
    # Before the OpenMP runtime starts: it reads its thread count once.
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    # The libraries' run path names the compiler machine's copy.
    ctypes.CDLL(str(directory / Path(OPENMP_RUNTIME).name), mode=ctypes.RTLD_GLOBAL)
    from onebit.runtime import Model

    def onebit_cases():
        for case in manifest["cases"]:
            model = Model(str(directory / f"{case['stem']}.so"))
            x = layer_input(case["k"], case["m"])
            for _ in range(3):
                model.time({"x": x}, 1)
            ours = float(np.median([model.time({"x": x}, 1) for _ in range(args.runs)]))
            yield case["k"], case["n"], case["m"], x, ours

    print(f"layers compiled for -mcpu={manifest['mcpu']} {manifest.get('flags', '')}")
    print_comparison(onebit_cases(), args)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="4096x4096,4096x11008,11008x4096,4096x14336",
                        help="comma list of KxN")
    parser.add_argument("--batches", default="1,4,16")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--build", default=str(ROOT / "build"))
    parser.add_argument("--baseline-build", default=None,
                        help="compare onebit with this build's onebit (no onnxruntime)")
    parser.add_argument("--plot", metavar="PNG",
                        help="also plot the times of the onebit/onnxruntime table "
                             "(needs matplotlib)")
    parser.add_argument("--flags", default="",
                        help="onebit-compile flags of onebit's libraries, e.g. "
                             "--lookup-tables=off")
    parser.add_argument("--baseline-flags", default="",
                        help="onebit-compile flags of the baseline (with or without "
                             "--baseline-build), e.g. --lookup-tables=off")
    parser.add_argument("--rounds", type=int, default=5,
                        help="alternations of the two builds (--baseline-build)")
    parser.add_argument("--prepare", metavar="DIR",
                        help="compile the layers into DIR for --run-prepared elsewhere")
    parser.add_argument("--mcpu", default="native", help="CPU to compile for (--prepare)")
    parser.add_argument("--run-prepared", metavar="DIR",
                        help="time the layers of a --prepare directory here")
    args = parser.parse_args()
    compiler = Path(args.build) / "bin" / "onebit-compile"
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    if args.baseline_build or args.baseline_flags:
        compare_builds(args, env)
        return
    if args.prepare:
        prepare(args, compiler)
        return
    if args.run_prepared:
        run_prepared(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def onebit_cases():
            for k, n, m, model, inputs in layer_cases(args, tmp):
                library = tmp / "layer.so"
                subprocess.run([compiler, model, *args.flags.split(), "-o", library],
                               check=True)
                ours, _ = onebit_times(args.build, library, inputs, args.runs, env)
                yield k, n, m, np.load(inputs), ours

        print_comparison(onebit_cases(), args)


if __name__ == "__main__":
    main()
