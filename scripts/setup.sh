#!/usr/bin/env bash
# Installs everything onebit needs on a fresh Debian 12 machine and builds it.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools lld-22 libomp-22-dev clang
  # clang's sanitizer runtimes: test/tools/sanitized-file-readers.test
  libclang-rt-14-dev
  cmake ninja-build
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler
  # Debian's CPU PyTorch (with its own numpy and onnx) for the training
  # pipeline's tests, run by /usr/bin/python3 (python/tests_torch)
  python3-torch python3-onnx python3-pytest
)
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if ! $PYTHON -c "import onnx, onnxruntime, numpy, pytest, onebit" >/dev/null 2>&1; then
  echo "setup: installing Python packages"
  $PYTHON -m pip install -q onnx onnxruntime numpy pytest
  $PYTHON -m pip install -q -e python
fi

scripts/build.sh
