#!/usr/bin/env python3
"""The cost of index checks (docs/untrusted-models.md) on a decoding step:
the same decoder compiled with and without them (`--index-checks=false`),
sessions prefilled to the same context, one step timed in the library
(onebit_session_time), rounds alternating between the two.

    python3 bench/index_checks.py [--onnx models/stdlib-onebit-llama/decode.onnx]
        [--target cpu] [--context 128] [--rounds 5] [--iterations 200]

Prints the median step of each and their ratio.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onnx", default=str(ROOT / "models/stdlib-onebit-llama/decode.onnx"))
    parser.add_argument("--target", default="cpu")
    parser.add_argument("--compiler", default=str(ROOT / "build/bin/onebit-compile"))
    parser.add_argument("--context", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=200)
    args = parser.parse_args()
    from onebit.runtime import Model
    with tempfile.TemporaryDirectory() as folder:
        sessions = {}
        for name, flags in (("checks", []), ("no checks", ["--index-checks=false"])):
            library = Path(folder) / f"{name.replace(' ', '-')}.so"
            subprocess.run([args.compiler, args.onnx, f"-target={args.target}", "-o",
                            str(library), *flags], check=True)
            session = Model(str(library)).session()
            session.prefill(list(np.arange(args.context) % 200 + 1))
            sessions[name] = session
        times = {name: [] for name in sessions}
        for _ in range(args.rounds):
            for name, session in sessions.items():
                times[name].append(session.time(7, iterations=args.iterations))
        medians = {name: float(np.median(values)) for name, values in times.items()}
        for name, median in medians.items():
            print(f"{name:10s} {median:9.1f} us per step "
                  f"(rounds: {', '.join(f'{t:.1f}' for t in times[name])})")
        print(f"ratio checks / no checks: {medians['checks'] / medians['no checks']:.3f}")


if __name__ == "__main__":
    sys.exit(main())
