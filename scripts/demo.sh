#!/usr/bin/env bash
# The main job: build a small OneBit LLaMA-style model with python/onebit,
# compile it for this CPU with onebit-compile, run it with onebit-run and
# check its logits against onnxruntime on the same ONNX file.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
PYTHON=${PYTHON:-python3}
out="$BUILD_DIR/demo"
mkdir -p "$out"

echo "== 1. python/onebit builds a LLaMA-style model, 1-bit layers packed (OneBit's format)"
PYTHONPATH=python "$PYTHON" -m onebit export --arch llama --preset llama-tiny \
  --encoding packed --dtype float32 --opset 18 --seed 0 -o "$out/llama-tiny.onnx"
PYTHONPATH=python "$PYTHON" -m onebit inspect "$out/llama-tiny.onnx"

echo "== 2. onebit-compile: import, fuse every 1-bit layer into onebit.linear, lower, link"
"$BUILD_DIR/bin/onebit-compile" "$out/llama-tiny.onnx" -target=cpu \
  -o "$out/llama-tiny.so" --fusion-report 2>&1 | tail -1

echo "== 3. onebit-run on token ids, and the same ONNX in onnxruntime"
PYTHONPATH=python "$PYTHON" - "$out" <<'PY'
import sys
import numpy as np
from onebit import models
out = sys.argv[1]
ids = np.random.default_rng(0).integers(0, 64, size=(1, 8), dtype=np.int64)
np.save(f"{out}/input_ids.npy", ids)
PY
"$BUILD_DIR/bin/onebit-run" "$out/llama-tiny.so" --input "input_ids=$out/input_ids.npy" \
  --output-dir "$out/outputs" --benchmark 20
PYTHONPATH=python "$PYTHON" - "$out" <<'PY'
import sys
import numpy as np
import onnxruntime as ort
out = sys.argv[1]
ids = np.load(f"{out}/input_ids.npy")
ours = np.load(f"{out}/outputs/logits.npy")
ref = ort.InferenceSession(f"{out}/llama-tiny.onnx").run(None, {"input_ids": ids})[0]
error = float(np.max(np.abs(ours - ref)))
print(f"logits {ours.shape}: max |onebit - onnxruntime| = {error:.2e} "
      f"(max |logit| {float(np.max(np.abs(ref))):.2f})")
print("next tokens, onebit     :", ours[0].argmax(-1).tolist())
print("next tokens, onnxruntime:", ref[0].argmax(-1).tolist())
if error > 1e-4 * float(np.max(np.abs(ref))):
    sys.exit("onebit and onnxruntime disagree")
print("OK: the compiled library matches onnxruntime")
PY
