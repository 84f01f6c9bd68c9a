#!/usr/bin/env python3
"""Rewrites the external data file of an ONNX model as one 64 KiB block of
random fp16 values in [-1, 1) repeated to the same size, so that a library
compiled from the model compresses (`xz -1`) to a few MB: a 7B-shaped
model's 1.35 GB library cannot travel to the GPU machine otherwise.

    python3 bench/repeat_weights.py MODEL.onnx.data

Only for timing. The kernels do not branch on weight values, memory does not
compress, and the fp16 values are normal numbers (no NaN, infinity or
subnormal), so a forward costs what it costs on real weights; its outputs
mean nothing. The packed sign bytes become the bytes of those fp16 values.
"""
import argparse
import os

import numpy as np

BLOCK_BYTES = 64 * 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", help="external data file, rewritten in place")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    block = rng.uniform(-1, 1, BLOCK_BYTES // 2).astype(np.float16).tobytes()
    size = os.path.getsize(args.data)
    with open(args.data, "r+b") as data:
        for _ in range(size // BLOCK_BYTES):
            data.write(block)
        data.write(block[:size % BLOCK_BYTES])
    print(f"{args.data}: {size} bytes of a repeated {BLOCK_BYTES}-byte block")


if __name__ == "__main__":
    main()
