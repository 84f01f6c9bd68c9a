//===- TensorReader.h - ONNX tensors to MLIR attributes ---------*- C++ -*-===//

#ifndef ONEBIT_LIB_FRONTEND_ONNX_TENSORREADER_H
#define ONEBIT_LIB_FRONTEND_ONNX_TENSORREADER_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringRef.h"

#include "onnx/onnx_pb.h"

#include <functional>

namespace mlir::onebit::onnx_import {

/// MLIR element type of an ONNX element type (unsigned integers become
/// signless), or null if onebit does not support it.
Type getElementType(MLIRContext *context, int32_t onnxType);
/// Whether an ONNX element type is an unsigned integer.
bool isUnsignedType(int32_t onnxType);

/// Reads ONNX tensors, inline or in external data files beside the model.
class TensorReader {
public:
  TensorReader(MLIRContext *context, std::string modelDirectory,
               int64_t resourceThreshold)
      : context(context), modelDirectory(std::move(modelDirectory)),
        resourceThreshold(resourceThreshold) {}

  /// The tensor as an attribute: dense for small tensors, dense_resource
  /// above the threshold (external data stays memory-mapped). On failure
  /// `error` says why.
  ElementsAttr read(const onnx::TensorProto &tensor, std::string &error);

private:
  MLIRContext *context;
  std::string modelDirectory;
  int64_t resourceThreshold;
};

} // namespace mlir::onebit::onnx_import

#endif // ONEBIT_LIB_FRONTEND_ONNX_TENSORREADER_H
