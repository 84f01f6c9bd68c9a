//===- Npy.h - numpy .npy files for onebit-run ------------------*- C++ -*-===//

#ifndef ONEBIT_TOOLS_ONEBIT_RUN_NPY_H
#define ONEBIT_TOOLS_ONEBIT_RUN_NPY_H

#include "onebit/Runtime/onebit_runtime.h"

#include <cstdint>
#include <string>
#include <vector>

namespace onebit_run {

struct NpyArray {
  onebit_dtype dtype = ONEBIT_FLOAT32;
  std::vector<int64_t> shape;
  std::vector<char> data;
};

/// Reads a C-order .npy file (version 1 or 2) of a runtime dtype; on error
/// returns false with `error` set.
bool readNpy(const std::string &path, NpyArray &array, std::string &error);
bool writeNpy(const std::string &path, const NpyArray &array,
              std::string &error);

} // namespace onebit_run

#endif // ONEBIT_TOOLS_ONEBIT_RUN_NPY_H
