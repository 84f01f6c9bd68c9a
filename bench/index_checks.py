#!/usr/bin/env python3
"""The cost of index checks (docs/untrusted-models.md) on a decoding step:
the same decoder with and without them (`--index-checks=false`), sessions
prefilled to the same context, rounds alternating between the two. Each
round times the prefill (one call), one step in the library
(onebit_session_time) and steps from Python (Session.decode).

    # compile here and time here (CPU)
    OMP_NUM_THREADS=2 python3 bench/index_checks.py compile \\
        [--onnx models/stdlib-onebit-llama/decode.onnx] [--target cpu] [--context 128]
    # time libraries compiled elsewhere (the GPU machine has no compiler):
    # the device check's -long decoders, both ways
    python3 bench/index_checks.py libraries CHECKS.so NO_CHECKS.so --context 1200

Prints each measure's rounds and median, for both.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))


def time_both(libraries, args):
    from onebit.runtime import Model
    models = {name: Model(str(path)) for name, path in libraries.items()}
    prompt = [int(t) for t in np.random.default_rng(4).integers(1, 200, args.context)]
    results = {name: {"prefill_ms": [], "library_step_us": [], "python_step_us": []}
               for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            session = model.session(args.max_len)
            start = time.perf_counter()
            session.prefill(prompt)
            results[name]["prefill_ms"].append((time.perf_counter() - start) * 1e3)
            results[name]["library_step_us"].append(session.time(7, iterations=args.iterations))
            start = time.perf_counter()
            for _ in range(args.python_steps):
                session.decode(7, logits=False)
            results[name]["python_step_us"].append(
                (time.perf_counter() - start) / args.python_steps * 1e6)
    for name, measures in results.items():
        for measure, values in measures.items():
            print(f"{name:10s} {measure:16s} median {np.median(values):9.1f} "
                  f"(rounds: {', '.join(f'{v:.1f}' for v in values)})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("compile", help="compile the decoder both ways, then time here")
    c.add_argument("--onnx", default=str(ROOT / "models/stdlib-onebit-llama/decode.onnx"))
    c.add_argument("--target", default="cpu")
    c.add_argument("--compiler", default=str(ROOT / "build/bin/onebit-compile"))
    c.add_argument("--flags", default="", help="more onebit-compile flags, space-separated")
    lib = sub.add_parser("libraries", help="time two libraries compiled elsewhere")
    lib.add_argument("checks")
    lib.add_argument("no_checks")
    for p in (c, lib):
        p.add_argument("--context", type=int, default=128)
        p.add_argument("--max-len", type=int, default=0,
                       help="session positions (default: the decoder's window)")
        p.add_argument("--rounds", type=int, default=4)
        p.add_argument("--iterations", type=int, default=200)
        p.add_argument("--python-steps", type=int, default=50)
    args = parser.parse_args()
    if args.command == "libraries":
        return time_both({"checks": args.checks, "no checks": args.no_checks}, args)
    with tempfile.TemporaryDirectory() as folder:
        libraries = {}
        for name, flags in (("checks", []), ("no checks", ["--index-checks=false"])):
            library = Path(folder) / f"{name.replace(' ', '-')}.so"
            subprocess.run([args.compiler, args.onnx, f"-target={args.target}", "-o",
                            str(library), *args.flags.split(), *flags], check=True)
            libraries[name] = library
        return time_both(libraries, args)


if __name__ == "__main__":
    sys.exit(main())
