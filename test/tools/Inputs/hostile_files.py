#!/usr/bin/env python3
"""Writes the hostile files of onebit-run-hostile-files.test into DIR:
.npy files with lying headers and damaged copies of LIBRARY."""

import os
import struct
import sys

import numpy as np

directory, library = sys.argv[1], sys.argv[2]
np.save(os.path.join(directory, "x.npy"), np.arange(32, dtype=np.float32).reshape(2, 16))


def npy(name, header, data=b"\0" * 128, length=None):
    header = header.encode()
    size = len(header) if length is None else length
    with open(os.path.join(directory, name), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", size) + header + data)


npy("huge-shape.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }\n")
npy("negative-shape.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, -16), }\n")
npy("overflow-shape.npy",
    "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }\n")
npy("long-header.npy", "{'descr': '<f4', 'shape': (2, 16), }\n", data=b"", length=60000)
npy("big-endian.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 16), }\n")
npy("no-shape.npy", "{'descr': '<f4', 'fortran_order': False, }\n")

with open(library, "rb") as f:
    image = f.read()
with open(os.path.join(directory, "truncated.so"), "wb") as f:
    f.write(image[:len(image) // 2])
# The ELF and program headers only, no section headers: the segments lie
# past the end.
(phoff,) = struct.unpack_from("<Q", image, 32)
(phnum,) = struct.unpack_from("<H", image, 56)
headers = bytearray(image[:phoff + phnum * 56])
struct.pack_into("<H", headers, 60, 0)
with open(os.path.join(directory, "headers-only.so"), "wb") as f:
    f.write(headers)
damaged = bytearray(image)
struct.pack_into("<Q", damaged, 32, len(image) * 4)
with open(os.path.join(directory, "bad-phoff.so"), "wb") as f:
    f.write(damaged)
# A 32-bit ELF header (EI_CLASS 1) on the same bytes.
with open(os.path.join(directory, "elf32.so"), "wb") as f:
    f.write(image[:4] + b"\x01" + image[5:])
