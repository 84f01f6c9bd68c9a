"""A byte-level text corpus that exists offline on every machine with Python:
the standard library's own sources, split by file into train and held-out.

``build`` reads the ``*.py`` files of a standard library directory (tests and
third-party packages left out), in sorted order, and assigns each file to the
held-out split when the CRC-32 of its relative path falls in the held-out
fraction, so the split is stable across machines and runs. The corpus is
saved as one ``.npz`` so that the machine that trains reads exactly the bytes
this one evaluates on, whatever its own Python version.
"""
from __future__ import annotations

import os
import sys
import sysconfig
import zlib
from dataclasses import dataclass
from typing import List, Optional

import numpy as np

SKIPPED_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages",
                "__pycache__", "lib2to3"}


@dataclass
class Corpus:
    train: np.ndarray  # uint8 bytes of the train files, concatenated
    heldout: np.ndarray  # uint8 bytes of the held-out files
    train_files: List[str]
    heldout_files: List[str]
    source: str  # where the files came from (for the model card)

    def save(self, path: str):
        np.savez_compressed(path, train=self.train, heldout=self.heldout,
                            train_files=np.array(self.train_files),
                            heldout_files=np.array(self.heldout_files),
                            source=np.array(self.source))

    @classmethod
    def load(cls, path: str) -> "Corpus":
        with np.load(path) as z:
            return cls(z["train"], z["heldout"], z["train_files"].tolist(),
                       z["heldout_files"].tolist(), str(z["source"]))

    def unigram_bits_per_byte(self) -> float:
        """Entropy of the train byte histogram, scored on held-out bytes: the
        bits per byte of a model that ignores all context."""
        counts = np.bincount(self.train, minlength=256).astype(np.float64) + 1.0
        logp = np.log2(counts / counts.sum())
        return float(-logp[self.heldout].mean())


def stdlib_dir() -> str:
    return sysconfig.get_paths()["stdlib"]


def python_files(root: str) -> List[str]:
    """Relative paths of the ``*.py`` files under ``root``, sorted."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS
                             and not d.startswith("test_"))
        for name in filenames:
            if name.endswith(".py") and not name.startswith("test_"):
                found.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(found)


def is_heldout(relpath: str, fraction: float) -> bool:
    return zlib.crc32(relpath.encode()) % 10000 < fraction * 10000


def build(root: Optional[str] = None, heldout_fraction: float = 0.05) -> Corpus:
    root = root or stdlib_dir()
    if not 0 < heldout_fraction < 1:
        raise ValueError("heldout_fraction must be in (0, 1)")
    train, heldout, train_files, heldout_files = [], [], [], []
    for rel in python_files(root):
        with open(os.path.join(root, rel), "rb") as f:
            data = np.frombuffer(f.read(), np.uint8)
        if is_heldout(rel, heldout_fraction):
            heldout.append(data)
            heldout_files.append(rel)
        else:
            train.append(data)
            train_files.append(rel)
    if not train or not heldout:
        raise ValueError(f"{root}: not enough .py files for both splits")
    version = ".".join(map(str, sys.version_info[:3]))
    return Corpus(np.concatenate(train), np.concatenate(heldout), train_files,
                  heldout_files, f"Python {version} standard library ({root})")


def random_windows(data: np.ndarray, batch: int, length: int,
                   rng: np.random.Generator) -> np.ndarray:
    """[batch, length + 1] int64 windows at random offsets (inputs and next bytes)."""
    if len(data) <= length + 1:
        raise ValueError(f"corpus of {len(data)} bytes is shorter than a window of {length + 1}")
    starts = rng.integers(0, len(data) - length - 1, size=batch)
    return np.stack([data[s:s + length + 1] for s in starts]).astype(np.int64)


def eval_windows(data: np.ndarray, length: int, max_windows: Optional[int] = None) -> np.ndarray:
    """Consecutive non-overlapping [n, length + 1] windows covering ``data``
    (each scores ``length`` bytes), the first ``max_windows`` of them."""
    n = (len(data) - 1) // length
    if max_windows is not None:
        n = min(n, max_windows)
    if n == 0:
        raise ValueError(f"corpus of {len(data)} bytes has no window of {length + 1}")
    idx = np.arange(n)[:, None] * length + np.arange(length + 1)[None, :]
    return data[idx].astype(np.int64)
