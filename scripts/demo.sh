#!/usr/bin/env bash
# The main job: compile the committed demo model (a byte-level OneBit student
# distilled from an FP teacher, docs/quality.md) for this CPU, check its
# logits against onnxruntime, and generate text from a prompt, greedily and
# by top-k sampling, checking every token against onnxruntime.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
PYTHON=${PYTHON:-python3}
MODEL=models/stdlib-onebit-llama/model.onnx
out="$BUILD_DIR/demo"
mkdir -p "$out"
export PYTHONPATH=python

echo "== 1. the model: 42 OneBit layers (packed signs, g, h, LayerNorm), FP embeddings and lm_head"
"$PYTHON" -m onebit inspect "$MODEL" | tail -1

echo "== 2. onebit-compile: import, fuse every 1-bit layer into onebit.linear, lower, link"
"$BUILD_DIR/bin/onebit-compile" "$MODEL" -target=cpu -o "$out/student.so" --fusion-report 2>&1 | tail -1

echo "== 3. onebit-run on 128 bytes of text, and the same ONNX in onnxruntime"
"$PYTHON" - "$out" <<'PY'
import sys
import numpy as np
text = b"import os\n\n\ndef walk(top):\n    for name in os.listdir(top):\n" * 3
np.save(f"{sys.argv[1]}/input_ids.npy", np.frombuffer(text[:128], np.uint8).astype(np.int64)[None])
PY
"$BUILD_DIR/bin/onebit-run" "$out/student.so" --input "input_ids=$out/input_ids.npy" \
  --output-dir "$out/outputs" --benchmark 20
"$PYTHON" - "$out" "$MODEL" <<'PY'
import sys
import numpy as np
import onnxruntime as ort
out, model = sys.argv[1:]
ids = np.load(f"{out}/input_ids.npy")
ours = np.load(f"{out}/outputs/logits.npy")
ref = ort.InferenceSession(model).run(None, {"input_ids": ids})[0]
error = float(np.max(np.abs(ours - ref)))
print(f"logits {ours.shape}: max |onebit - onnxruntime| = {error:.2e} "
      f"(max |logit| {float(np.max(np.abs(ref))):.2f})")
if error > 1e-4 * float(np.max(np.abs(ref))):
    sys.exit("onebit and onnxruntime disagree")
print("OK: the compiled library matches onnxruntime")
PY

prompt=$'class Stack:\n    def push(self, item):\n        '
echo "== 4. greedy generation (each token checked against onnxruntime)"
"$PYTHON" -m onebit generate "$out/student.so" --prompt "$prompt" --tokens 160 --check "$MODEL"
echo "== 5. top-k sampling (k = 8, temperature 0.8, seed 0; checked against onnxruntime)"
"$PYTHON" -m onebit generate "$out/student.so" --prompt "$prompt" --tokens 160 \
  --top-k 8 --temperature 0.8 --seed 0 --check "$MODEL"
