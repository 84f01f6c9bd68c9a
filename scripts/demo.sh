#!/usr/bin/env bash
# The main job: compile the committed demo model (a byte-level OneBit student
# distilled from an FP teacher, docs/quality.md) for this CPU, and generate
# text from a prompt, greedily and by top-k sampling, checking every token
# against onnxruntime running the same ONNX file.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
PYTHON=${PYTHON:-python3}
# One decoding step with a key/value cache of 256 positions (model.onnx
# beside it is the same student as a full-sequence model).
MODEL=models/stdlib-onebit-llama/decode.onnx
out="$BUILD_DIR/demo"
mkdir -p "$out"
export PYTHONPATH=python

echo "== 1. the model: 42 OneBit layers (packed signs, g, h, LayerNorm), FP embeddings and lm_head"
"$PYTHON" -m onebit inspect "$MODEL" | tail -1

echo "== 2. onebit-compile: import, fuse every 1-bit layer into onebit.linear, lower, link"
"$BUILD_DIR/bin/onebit-compile" "$MODEL" -target=cpu -o "$out/student.so" --fusion-report 2>&1 | tail -1

prompt=$'class Stack:\n    def push(self, item):\n        '
echo "== 3. greedy generation (each token checked against onnxruntime)"
"$PYTHON" -m onebit generate "$out/student.so" --prompt "$prompt" --tokens 160 --check "$MODEL"
echo "== 4. top-k sampling (k = 8, temperature 0.8, seed 0; checked against onnxruntime)"
"$PYTHON" -m onebit generate "$out/student.so" --prompt "$prompt" --tokens 160 \
  --top-k 8 --temperature 0.8 --seed 0 --check "$MODEL"
