import os
import sys

import numpy as np
import pytest

# Run from a checkout without `pip install -e python`.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

FP32_TOL = 1e-5  # max|Δ| / max|ref|, documented in docs/onnx-convention.md §9
FP16_LAYER_TOL = 5e-3
FP16_MODEL_TOL = 1e-2


def rel_max_err(out, ref):
    out = np.asarray(out, np.float64)
    ref = np.asarray(ref, np.float64)
    return float(np.abs(out - ref).max() / max(np.abs(ref).max(), 1e-30))


def run_model(model, feeds):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.log_severity_level = 3
    src = model.SerializeToString() if not isinstance(model, str) else model
    sess = ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
