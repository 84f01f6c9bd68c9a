"""onebit: reference math, ONNX interchange convention and model builders
for 1-bit LLMs (OneBit, BiLLM, GreenBit). See docs/onnx-convention.md.

Importing the package needs only numpy; the ONNX parts (encodings, models,
detect, cli) import onnx when they are used. torch is never required.
"""
__version__ = "0.1.0"

from .packing import (ONEBIT_PACKING, ONEBIT_PACKING_INT8, SignPacking, pack_signs,  # noqa: F401
                      packed_width, unpack_signs)
