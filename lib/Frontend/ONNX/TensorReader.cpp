//===- TensorReader.cpp - ONNX tensors to MLIR attributes -----------------===//

#include "TensorReader.h"
#include "ExternalData.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>

using namespace mlir;
using namespace mlir::onebit::onnx_import;

Type mlir::onebit::onnx_import::getElementType(MLIRContext *context,
                                               int32_t onnxType) {
  Builder b(context);
  switch (onnxType) {
  case onnx::TensorProto::FLOAT:
    return b.getF32Type();
  case onnx::TensorProto::FLOAT16:
    return b.getF16Type();
  case onnx::TensorProto::BFLOAT16:
    return b.getBF16Type();
  case onnx::TensorProto::DOUBLE:
    return b.getF64Type();
  case onnx::TensorProto::INT64:
    return b.getI64Type();
  case onnx::TensorProto::INT32:
    return b.getI32Type();
  case onnx::TensorProto::INT16:
    return b.getI16Type();
  case onnx::TensorProto::INT8:
  case onnx::TensorProto::UINT8:
    return b.getI8Type();
  case onnx::TensorProto::UINT16:
    return b.getI16Type();
  case onnx::TensorProto::UINT32:
    return b.getI32Type();
  case onnx::TensorProto::BOOL:
    return b.getI1Type();
  default:
    return nullptr;
  }
}

bool mlir::onebit::onnx_import::isUnsignedType(int32_t onnxType) {
  return onnxType == onnx::TensorProto::UINT8 ||
         onnxType == onnx::TensorProto::UINT16 ||
         onnxType == onnx::TensorProto::UINT32;
}

/// Byte size of one element as ONNX stores it in raw_data.
static int64_t getStorageBytes(Type elementType) {
  if (elementType.isInteger(1))
    return 1;
  return elementType.getIntOrFloatBitWidth() / 8;
}

/// A dense attribute from little-endian raw bytes (bools one per byte).
static DenseElementsAttr getDenseFromRaw(RankedTensorType type,
                                         ArrayRef<char> bytes) {
  if (type.getElementType().isInteger(1)) {
    SmallVector<bool> values(bytes.begin(), bytes.end());
    return DenseElementsAttr::get(type, ArrayRef<bool>(values));
  }
  return DenseElementsAttr::getFromRawBuffer(type, bytes);
}

/// The raw bytes of a tensor stored in the typed repeated fields.
static std::vector<char> getTypedFieldBytes(const onnx::TensorProto &tensor,
                                            Type elementType) {
  std::vector<char> bytes;
  auto append = [&](const auto &value, size_t size) {
    const char *data = reinterpret_cast<const char *>(&value);
    bytes.insert(bytes.end(), data, data + size);
  };
  switch (tensor.data_type()) {
  case onnx::TensorProto::FLOAT:
    for (float value : tensor.float_data())
      append(value, 4);
    break;
  case onnx::TensorProto::DOUBLE:
    for (double value : tensor.double_data())
      append(value, 8);
    break;
  case onnx::TensorProto::INT64:
    for (int64_t value : tensor.int64_data())
      append(value, 8);
    break;
  case onnx::TensorProto::UINT32:
  case onnx::TensorProto::UINT64:
    for (uint64_t value : tensor.uint64_data())
      append(value, getStorageBytes(elementType));
    break;
  default: {
    // int32_data holds int32, and the bit patterns of 8/16-bit types.
    int64_t size = getStorageBytes(elementType);
    for (int32_t value : tensor.int32_data())
      append(value, size);
    break;
  }
  }
  return bytes;
}

FailureOr<SmallVector<int64_t>>
mlir::onebit::onnx_import::checkDims(
    const google::protobuf::RepeatedField<int64_t> &dims, std::string &error) {
  SmallVector<int64_t> shape;
  int64_t elements = 1;
  for (int64_t dim : dims) {
    if (dim < 0) {
      error = "has the negative dimension " + std::to_string(dim);
      return failure();
    }
    if (dim != 0 && elements > INT64_MAX / dim) {
      error = "has more elements than int64 can count";
      return failure();
    }
    elements *= dim;
    shape.push_back(dim);
  }
  return shape;
}

ElementsAttr TensorReader::read(const onnx::TensorProto &tensor,
                                std::string &error) {
  Type elementType = getElementType(context, tensor.data_type());
  if (!elementType) {
    error = "unsupported element type " + std::to_string(tensor.data_type());
    return nullptr;
  }
  FailureOr<SmallVector<int64_t>> shape = checkDims(tensor.dims(), error);
  if (failed(shape))
    return nullptr;
  auto type = RankedTensorType::get(*shape, elementType);
  int64_t elements = type.getNumElements();
  if (elements > INT64_MAX / getStorageBytes(elementType)) {
    error = "has more bytes than int64 can count";
    return nullptr;
  }
  int64_t expectedBytes = elements * getStorageBytes(elementType);

  // External data: mapped from its file, never copied if it becomes a
  // resource.
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    std::unique_ptr<llvm::MemoryBuffer> buffer =
        mapExternalData(tensor, modelDirectory, allowedDirectory,
                        expectedBytes, error);
    if (!buffer)
      return nullptr;
    ArrayRef<char> bytes(buffer->getBufferStart(), expectedBytes);
    if (type.getNumElements() <= resourceThreshold ||
        elementType.isInteger(1))
      return getDenseFromRaw(type, bytes);
    std::shared_ptr<llvm::MemoryBuffer> owner = std::move(buffer);
    AsmResourceBlob blob(
        bytes, /*dataAlignment=*/1,
        [owner](void *, size_t, size_t) mutable { owner.reset(); },
        /*dataIsMutable=*/false);
    return DenseResourceElementsAttr::get(type, tensor.name(),
                                          std::move(blob));
  }

  std::vector<char> typedBytes;
  ArrayRef<char> bytes;
  if (tensor.has_raw_data()) {
    bytes = ArrayRef<char>(tensor.raw_data().data(), tensor.raw_data().size());
  } else {
    typedBytes = getTypedFieldBytes(tensor, elementType);
    bytes = typedBytes;
  }
  if (int64_t(bytes.size()) != expectedBytes) {
    error = "holds " + std::to_string(bytes.size()) + " bytes of data, " +
            "but its shape and type need " + std::to_string(expectedBytes);
    return nullptr;
  }
  if (type.getNumElements() <= resourceThreshold || elementType.isInteger(1))
    return getDenseFromRaw(type, bytes);
  return DenseResourceElementsAttr::get(
      type, tensor.name(),
      HeapAsmResourceBlob::allocateAndCopyInferAlign(bytes));
}
