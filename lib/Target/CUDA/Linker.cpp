//===- Linker.cpp - host object + CUDA runtime -> model shared library ----===//

#include "onebit/Target/CPU/CPUTarget.h"
#include "onebit/Target/CUDA/CUDATarget.h"

using namespace mlir;

LogicalResult mlir::onebit::linkCUDASharedLibrary(StringRef object,
                                                  StringRef output,
                                                  Location loc,
                                                  StringRef apiPrefix) {
  // libcuda.so.1 is opened with dlopen when a model opens, so the library
  // loads (and reports a clear error) on machines without a GPU.
  return linkModelSharedLibrary(object, output, loc,
                                "libonebit_runtime_cuda.a", {"-ldl", "-lm"},
                                apiPrefix);
}
