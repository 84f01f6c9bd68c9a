//===- TensorReader.h - ONNX tensors to MLIR attributes ---------*- C++ -*-===//

#ifndef ONEBIT_LIB_FRONTEND_ONNX_TENSORREADER_H
#define ONEBIT_LIB_FRONTEND_ONNX_TENSORREADER_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include "onnx/onnx_pb.h"

#include <cstdint>
#include <functional>

namespace mlir::onebit::onnx_import {

/// MLIR element type of an ONNX element type (unsigned integers become
/// signless), or null if onebit does not support it.
Type getElementType(MLIRContext *context, int32_t onnxType);
/// Whether an ONNX element type is an unsigned integer.
bool isUnsignedType(int32_t onnxType);

/// The dims of an ONNX tensor or shape as a static shape, or a failure with
/// `error` saying why (a negative dimension, an element count past int64).
FailureOr<SmallVector<int64_t>>
checkDims(const google::protobuf::RepeatedField<int64_t> &dims,
          std::string &error);

/// Reads ONNX tensors, inline or in external data files located relative
/// to `modelDirectory` and lying inside `allowedDirectory` (the model's, or
/// --external-data-dir).
class TensorReader {
public:
  TensorReader(MLIRContext *context, std::string modelDirectory,
               std::string allowedDirectory, int64_t resourceThreshold)
      : context(context), modelDirectory(std::move(modelDirectory)),
        allowedDirectory(std::move(allowedDirectory)),
        resourceThreshold(resourceThreshold) {}

  /// A reader of the same files that makes every tensor dense.
  TensorReader withoutResources() const {
    return TensorReader(context, modelDirectory, allowedDirectory, INT64_MAX);
  }

  /// The tensor as an attribute: dense for small tensors, dense_resource
  /// above the threshold (external data stays memory-mapped). On failure
  /// `error` says why.
  ElementsAttr read(const onnx::TensorProto &tensor, std::string &error);

private:
  MLIRContext *context;
  std::string modelDirectory, allowedDirectory;
  int64_t resourceThreshold;
};

} // namespace mlir::onebit::onnx_import

#endif // ONEBIT_LIB_FRONTEND_ONNX_TENSORREADER_H
