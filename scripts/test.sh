#!/usr/bin/env bash
# Sets up and builds onebit, runs every test suite (lit, ONNX node tests,
# pytest for python/ and the end-to-end tests) and ends
# with one line totalling them all: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
PYTHON=${PYTHON:-python3}

scripts/setup.sh || { echo "setup or build failed"; echo "0 passed, 1 failed"; exit 1; }

results="$BUILD_DIR/test-results"
rm -rf "$results" && mkdir -p "$results"

echo "== lit"
"${LIT:-/usr/lib/llvm-22/bin/lit}" -sv --xunit-xml-output "$results/lit.xml" "$BUILD_DIR/test"

echo "== ONNX node tests (libonnx-testdata)"
"$PYTHON" scripts/onnx_node_tests.py --junit "$results/onnx-node.xml"

echo "== pytest"
# Separate runs: each suite has its own conftest module.
"$PYTHON" -m pytest -q python/tests --junitxml "$results/pytest-python.xml"
"$PYTHON" -m pytest -q test/e2e --junitxml "$results/pytest-e2e.xml"

echo "== pytest (training pipeline, PyTorch on the CPU)"
# Debian's python3-torch belongs to Debian's python3, which may not be $PYTHON.
TORCH_PYTHON=${TORCH_PYTHON:-/usr/bin/python3}
"$TORCH_PYTHON" -m pytest -q -p no:cacheprovider python/tests_torch \
  --junitxml "$results/pytest-torch.xml"

"$PYTHON" scripts/summarize_tests.py "$results"/*.xml
