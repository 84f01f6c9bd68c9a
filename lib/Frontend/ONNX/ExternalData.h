//===- ExternalData.h - initializer bytes from external files ---*- C++ -*-===//
//
// A model file is untrusted input: its external data may name any path.
// Bytes are read only from regular files whose real path (symlinks
// resolved) lies inside the model's directory (or the one the user
// allows), at an offset and length parsed
// strictly and checked against the file's size before it is mapped.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_FRONTEND_ONNX_EXTERNALDATA_H
#define ONEBIT_LIB_FRONTEND_ONNX_EXTERNALDATA_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MemoryBuffer.h"

#include "onnx/onnx_pb.h"

#include <memory>
#include <string>

namespace mlir::onebit::onnx_import {

/// Maps the `expectedBytes` bytes that `tensor`'s external_data entries
/// locate, relative to `modelDirectory`, inside `allowedDirectory`, or
/// returns null with `error` saying why.
std::unique_ptr<llvm::MemoryBuffer>
mapExternalData(const onnx::TensorProto &tensor, llvm::StringRef modelDirectory,
                llvm::StringRef allowedDirectory, uint64_t expectedBytes,
                std::string &error);

/// Fails with `error` unless `path` is a regular file (not a FIFO, device
/// or directory, which would hang or exhaust memory when read whole).
bool checkRegularFile(llvm::StringRef path, std::string &error);

} // namespace mlir::onebit::onnx_import

#endif // ONEBIT_LIB_FRONTEND_ONNX_EXTERNALDATA_H
