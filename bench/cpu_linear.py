#!/usr/bin/env python3
"""One 1-bit linear layer on the CPU: onebit vs onnxruntime, side by side.

For each shape K->N and batch M, in one run on one machine:
  - onebit: a packed OneBit layer (no LayerNorm/bias) compiled by
    onebit-compile -target=cpu, timed by onebit-run --benchmark (median);
  - onnxruntime MatMul on the dense weight in FP32 and FP16 (median);
  - a memory-read probe: numpy summing a 256 MiB array (GB/s).
Prints a markdown table; the packed weight bytes / onebit time is the
effective bandwidth, compared with the probe. Threads: OMP_NUM_THREADS for
onebit, intra_op_num_threads for onnxruntime (both --threads).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
from onebit import models  # noqa: E402


def median_time(fn, runs):
    for _ in range(3):
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
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def probe_bandwidth():
    data = np.ones(256 * 1024 * 1024 // 8, dtype=np.float64)
    seconds = median_time(lambda: data.sum(), 5)
    return data.nbytes / seconds / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="4096x4096,4096x11008,11008x4096,4096x14336",
                        help="comma list of KxN")
    parser.add_argument("--batches", default="1,4,16")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--build", default=str(ROOT / "build"))
    args = parser.parse_args()
    compiler = Path(args.build) / "bin" / "onebit-compile"
    runner = Path(args.build) / "bin" / "onebit-run"
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads

    bandwidth = probe_bandwidth()
    print(f"memory-read probe: {bandwidth:.1f} GB/s; threads: {args.threads}")
    print("| K->N | M | onebit us | ORT fp32 us | ORT fp16 us | vs fp32 | vs fp16 |"
          " onebit GB/s (packed) | % of probe |")
    print("|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for shape in args.shapes.split(","):
            k, n = map(int, shape.split("x"))
            for m in map(int, args.batches.split(",")):
                config = models.MLPConfig(sizes=[k, n], batch=m, layer_norm=False, bias=False,
                                          activation="none")
                built = models.build_mlp(config, encoding="packed", opset=18, seed=0)
                model = tmp / "layer.onnx"
                model.write_bytes(built.model.SerializeToString())
                library = tmp / "layer.so"
                subprocess.run([compiler, model, "-o", library], check=True)
                x = np.random.default_rng(1).standard_normal((m, k)).astype(np.float32)
                np.save(tmp / "x.npy", x)
                out = subprocess.run([runner, library, "--input", f"x={tmp / 'x.npy'}",
                                      "--benchmark", str(args.runs)], check=True, env=env,
                                     capture_output=True, text=True).stdout
                ours = float(out.split("median_us:")[1].split()[0])
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


if __name__ == "__main__":
    main()
