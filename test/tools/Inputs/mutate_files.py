#!/usr/bin/env python3
"""Writes COUNT mutants of each FILE into DIR (random bytes overwritten,
the file cut short or grown), keeping each extension: inputs for the
sanitized readers of sanitized-file-readers.test. Seeded, so that a
failure reproduces."""

import os
import random
import sys

directory, count, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rng = random.Random(7)
for path in files:
    data = open(path, "rb").read()
    stem, extension = os.path.splitext(os.path.basename(path))
    for i in range(count):
        mutant = bytearray(data)
        kind = rng.choice(["bytes", "header", "cut", "grow"])
        if kind == "bytes":
            for _ in range(rng.randint(1, 16)):
                mutant[rng.randrange(len(mutant))] = rng.randrange(256)
        elif kind == "header":
            # The first 128 bytes: .npy header text, ELF and program headers.
            for _ in range(rng.randint(1, 4)):
                mutant[rng.randrange(min(128, len(mutant)))] = rng.randrange(256)
        elif kind == "cut":
            mutant = mutant[:rng.randrange(len(mutant))]
        else:
            mutant += bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        with open(os.path.join(directory, f"{stem}.{i}{extension}"), "wb") as f:
            f.write(bytes(mutant))
