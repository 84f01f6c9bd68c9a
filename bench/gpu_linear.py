#!/usr/bin/env python3
"""One 1-bit linear layer on the GPU: onebit vs cuBLAS FP16, side by side.

Two steps, because models are compiled where LLVM/MLIR live and timed where
the GPU is:

  python3 bench/gpu_linear.py prepare --out gpu-bench      # here (no GPU)
  python3 bench/gpu_linear.py run gpu-bench                # on the H100/H200

prepare: for each shape K->N and batch M, an ONNX model with R OneBit
layers (packed encoding, fp16, no LayerNorm/bias) that all read the same
input x and write R outputs, compiled with onebit-compile -target=cuda
--merge-launches=false (one launch per layer, as the peer: independent
layers of one input would otherwise share launches). R is
chosen so the R weight sets together are at least --min-bytes (default
128 MiB, over twice the L2 of an H100 or H200), so every forward reads the
weights from HBM, not L2. The weights are a 64 KiB random block repeated, so
the libraries compress for the trip to the GPU machine: the kernels do not
branch on weight values and HBM does not compress, so this does not change
their time. A few small models with fully random weights are compiled too,
with their ONNX, for a correctness check against onnxruntime (CPU).

run: correctness first (max relative error vs onnxruntime), then for each
library the mean time of one forward over back-to-back CUDA graph replays
(onebit_model_time: device events), divided by R; the peer is torch.matmul
in FP16 (cuBLAS) on R rotating dense [K, N] weights, captured in a CUDA
graph and timed the same way; the device-to-device copy bandwidth of a 1 GiB
buffer (bytes read + written) is measured in the same run. Prints a markdown
table and writes results.json and a PNG plot next to the libraries.

prepare --variant LABEL=FLAGS (repeatable) compiles every timed model once
per variant with those onebit-compile flags (e.g. gemv=--mma-min-rows=2 for
the CUDA-core decode kernel), so one run compares schedules side by side.
plot merges the results.json of several runs into one PNG.
"""
import argparse
import json
import lzma
import math
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

from onebit import encodings  # noqa: E402
from onebit.graph import GraphBuilder, onnx_type  # noqa: E402
from onebit.layer import OneBitLayer, random_layer  # noqa: E402

BLOCK_BYTES = 64 << 10


def tiled_layer(rng, block, name, n, k):
    """A layer whose packed signs repeat `block` (random bytes)."""
    k8 = (k + 7) // 8
    signs = np.resize(block, n * k8).reshape(n, k8)
    g = np.exp(0.25 * rng.standard_normal(k))
    g /= g[0]
    h = np.exp(0.25 * rng.standard_normal(n)) / np.sqrt(k)
    return OneBitLayer(name, signs, k, g, h, None, layer_norm=False)


def layers_model(layers, m, k, dtype=np.float16):
    """x [M, K] -> y0..y{R-1}, one OneBit layer each (packed encoding)."""
    gb = GraphBuilder(opset=18, dtype=dtype)
    x = gb.input("x", onnx_type(dtype), [m, k])
    for i, layer in enumerate(layers):
        y = encodings.emit(gb, x, layer, "packed", x_rank=2)
        gb.output(y, f"y{i}", onnx_type(dtype), [m, layer.out_features])
    return gb.model("gpu_linear")


def compile_model(model, path, build, flags=()):
    onnx_path = path.with_suffix(".onnx")
    onnx_path.write_bytes(model.SerializeToString())
    subprocess.run([str(Path(build) / "bin" / "onebit-compile"), str(onnx_path),
                    "-target=cuda", *flags, "-o", str(path)], check=True)
    return onnx_path


def parse_variants(specs):
    """--variant LABEL=FLAGS (space-separated onebit-compile flags)."""
    if not specs:
        return [("", [])]
    variants = []
    for spec in specs:
        label, _, flags = spec.partition("=")
        variants.append((label, flags.split()))
    return variants


def prepare(args):
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    block = rng.integers(0, 256, size=BLOCK_BYTES, dtype=np.uint8)
    cases = []
    for shape in args.shapes.split(","):
        k, n = map(int, shape.split("x"))
        packed = n * ((k + 7) // 8)
        repeats = max(1, math.ceil(args.min_bytes / packed))
        layers = [tiled_layer(rng, block, f"l{i}", n, k) for i in range(repeats)]
        for m in map(int, args.batches.split(",")):
            for label, flags in parse_variants(args.variant):
                suffix = f"_{label}" if label else ""
                library = out / f"linear_{k}x{n}_m{m}{suffix}.so"
                onnx_path = compile_model(layers_model(layers, m, k), library, args.build,
                                          ["--merge-launches=false", *flags])
                onnx_path.unlink()  # only the library travels
                if args.compress:
                    subprocess.run(["xz", "-1", "-T2", "-f", str(library)], check=True)
                cases.append(dict(k=k, n=n, m=m, repeats=repeats, library=library.name,
                                  variant=label, weight_bytes=packed + 2 * (k + n)))
                print(f"compiled {library.name}: R={repeats}", flush=True)
    checks = []
    if args.skip_checks:
        (out / "cases.json").write_text(json.dumps(dict(cases=cases, checks=checks), indent=1))
        return
    # fp16 with K a multiple of 128: the tensor-core kernel, with int8 digits
    # of the activations (M <= 2, K a multiple of 256; in chunks: K = 11008,
    # 16384), one accumulator per sign bit (M <= 8) or shifted sign pairs
    # (K = 384, 896; M > 8), each lane loading its activations directly
    # (9 <= M <= 16), K split across warps (N = 40, 64, 300), K staged in
    # chunks (M = 40, K = 896); f32, or K = 1056: the decode kernel.
    for k, n, m, dtype in ((4096, 1000, 1, np.float16), (4096, 1000, 3, np.float16),
                           (16384, 300, 1, np.float16), (11008, 64, 2, np.float16),
                           (4096, 1000, 2, np.float32), (8192, 300, 4, np.float32),
                           (1024, 64, 1, np.float16), (2080, 40, 1, np.float32),
                           (1056, 300, 2, np.float16),
                           (4096, 1000, 8, np.float16), (384, 1000, 5, np.float16),
                           (2048, 300, 16, np.float16), (4096, 1000, 12, np.float16),
                           (896, 40, 40, np.float16),
                           (4096, 1000, 512, np.float16)):
        layer = random_layer(rng, "check", n, k, layer_norm=False)
        name = f"check_{k}x{n}_m{m}_{np.dtype(dtype).name}"
        library = out / f"{name}.so"
        compile_model(layers_model([layer], m, k, dtype), library, args.build,
                      args.check_flags.split())
        checks.append(dict(k=k, n=n, m=m, dtype=np.dtype(dtype).name, library=library.name,
                           onnx=library.with_suffix(".onnx").name))
    (out / "cases.json").write_text(json.dumps(dict(cases=cases, checks=checks), indent=1))


def check(out, checks):
    import onnxruntime as ort
    from onebit.runtime import Model
    failures = 0
    for c in checks:
        x = np.random.default_rng(1).standard_normal((c["m"], c["k"])).astype(c["dtype"])
        session = ort.InferenceSession(str(out / c["onnx"]), providers=["CPUExecutionProvider"])
        expected = session.run(None, {"x": x})[0].astype(np.float32)
        got = Model(str(out / c["library"])).run({"x": x})["y0"].astype(np.float32)
        error = float(np.max(np.abs(got - expected)) / (np.max(np.abs(expected)) + 1e-30))
        limit = 1e-2 if c["dtype"] == "float16" else 1e-4
        ok = error <= limit
        failures += not ok
        print(f"check {c['library']}: max error / max |y| = {error:.2e} "
              f"({'ok' if ok else 'FAILED'}, limit {limit:g})", flush=True)
    return failures


def time_cublas(k, n, m, repeats, iterations):
    import torch
    x = torch.randn(m, k, dtype=torch.float16, device="cuda")
    weights = [torch.randn(k, n, dtype=torch.float16, device="cuda") for _ in range(repeats)]
    outputs = [torch.empty(m, n, dtype=torch.float16, device="cuda") for _ in range(repeats)]

    def forward():
        for w, y in zip(weights, outputs):
            torch.matmul(x, w, out=y)

    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        for _ in range(3):
            forward()
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        forward()
    graph.replay()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        graph.replay()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) * 1e3 / iterations / repeats


def copy_bandwidth():
    import torch
    source = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    target = torch.empty_like(source)
    for _ in range(3):
        target.copy_(source)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(10):
        target.copy_(source)
    end.record()
    end.synchronize()
    seconds = start.elapsed_time(end) / 1e3 / 10
    return 2 * source.numel() / seconds / 1e9


def run(args):
    import torch
    from onebit.runtime import Model
    out = Path(args.dir)
    plan = json.loads((out / "cases.json").read_text())
    for packed in out.glob("*.so.xz"):
        with lzma.open(packed) as source:
            packed.with_suffix("").write_bytes(source.read())
    print(f"device: {torch.cuda.get_device_name()}")
    failures = check(out, plan["checks"])
    bandwidth = copy_bandwidth()
    print(f"device-to-device copy: {bandwidth:.0f} GB/s (read + write)\n")
    print("| K->N | M | R | onebit us/layer | cuBLAS FP16 us/layer | speedup "
          "| onebit GB/s (signs+g+h) | % of copy |")
    print("|---|---|---|---|---|---|---|---|")
    results = []
    peers = {}
    for c in plan["cases"]:
        model = Model(str(out / c["library"]))
        x = np.random.default_rng(1).standard_normal((c["m"], c["k"])).astype(np.float16)
        ours = model.time({"x": x}, args.iterations) / c["repeats"]
        model.close()
        key = (c["k"], c["n"], c["m"], c["repeats"])
        if key not in peers:
            peers[key] = time_cublas(*key, args.iterations)
        peer = peers[key]
        gbs = c["weight_bytes"] / (ours * 1e-6) / 1e9
        results.append(dict(c, onebit_us=ours, cublas_us=peer, onebit_gbs=gbs,
                            copy_gbs=bandwidth))
        label = f"{c['k']}->{c['n']}" + (f" ({c['variant']})" if c.get("variant") else "")
        print(f"| {label} | {c['m']} | {c['repeats']} | {ours:.2f} | {peer:.2f} "
              f"| {peer / ours:.1f}x | {gbs:.0f} | {100 * gbs / bandwidth:.0f}% |", flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    plot(results, out / "gpu_linear.png")
    return failures


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axis = plt.subplots(figsize=(max(8, 0.3 * len(results)), 5))
    labels = [f"{r['k']}->{r['n']}\nM={r['m']}" + (f"\n{r['variant']}" if r.get("variant") else "")
              for r in results]
    positions = np.arange(len(results))
    axis.bar(positions - 0.2, [r["onebit_us"] for r in results], 0.4, label="onebit (1-bit)")
    axis.bar(positions + 0.2, [r["cublas_us"] for r in results], 0.4, label="cuBLAS FP16")
    axis.set_xticks(positions, [label.replace("\n", " ") for label in labels], fontsize=7,
                    rotation=90)
    axis.set_yscale("log")
    axis.set_ylabel("µs per layer")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare", help="build and compile the models (no GPU needed)")
    p.add_argument("--out", required=True)
    p.add_argument("--shapes", default="4096x4096,4096x11008,11008x4096,8192x28672,16384x16384",
                   help="comma list of KxN")
    p.add_argument("--batches", default="1,4")
    p.add_argument("--min-bytes", type=int, default=128 << 20)
    p.add_argument("--build", default=str(ROOT / "build"))
    p.add_argument("--compress", action="store_true",
                   help="xz the timed libraries (run unpacks them)")
    p.add_argument("--variant", action="append", metavar="LABEL=FLAGS",
                   help="also compile each timed model with these onebit-compile flags, "
                        "labelled (repeatable; e.g. mma=--mma-min-rows=1)")
    p.add_argument("--skip-checks", action="store_true",
                   help="no correctness models (when another run has them)")
    p.add_argument("--check-flags", default="",
                   help="onebit-compile flags for the correctness models")
    r = commands.add_parser("run", help="check and time the libraries (on the GPU machine)")
    r.add_argument("dir")
    r.add_argument("--iterations", type=int, default=50)
    g = commands.add_parser("plot", help="one plot of the results.json of several runs")
    g.add_argument("results", nargs="+")
    g.add_argument("-o", "--output", required=True)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args)
    elif args.command == "plot":
        plot([r for path in args.results for r in json.loads(Path(path).read_text())],
             Path(args.output))
    else:
        sys.exit(1 if run(args) else 0)


if __name__ == "__main__":
    main()
