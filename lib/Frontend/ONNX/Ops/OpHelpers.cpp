//===- OpHelpers.cpp - building blocks shared by the op converters --------===//

#include "OpHelpers.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::onnx_import;

bool mlir::onebit::onnx_import::isFloat(Type elementType) {
  return isa<FloatType>(elementType);
}

bool mlir::onebit::onnx_import::isFloat(Value value) {
  return isFloat(getElementTypeOrSelf(value.getType()));
}

FailureOr<ImportedValue>
mlir::onebit::onnx_import::getFloatInput(NodeImporter &node, unsigned index) {
  FailureOr<ImportedValue> input = node.getInput(index);
  if (failed(input))
    return failure();
  if (!isFloat(input->value))
    return node.emitError() << "needs a float input, got " << input->getType();
  return input;
}

FailureOr<SmallVector<int64_t>> mlir::onebit::onnx_import::broadcastShapes(
    NodeImporter &node, ArrayRef<RankedTensorType> types) {
  size_t rank = 0;
  for (RankedTensorType type : types)
    rank = std::max<size_t>(rank, type.getRank());
  SmallVector<int64_t> shape(rank, 1);
  for (RankedTensorType type : types) {
    size_t lead = rank - type.getRank();
    for (auto [i, dim] : llvm::enumerate(type.getShape())) {
      int64_t &result = shape[lead + i];
      if (result == 1)
        result = dim;
      else if (dim != 1 && dim != result) {
        InFlightDiagnostic diag = node.emitError();
        diag << "cannot broadcast";
        for (auto [k, t] : llvm::enumerate(types))
          diag << (k ? ", " : " ") << t;
        return diag;
      }
    }
  }
  return shape;
}

Value mlir::onebit::onnx_import::buildSelect(TosaBuilder &tosa,
                                             Value condition, Value lhs,
                                             Value rhs) {
  auto rankOf = [](Value v) { return cast<RankedTensorType>(v.getType()).getRank(); };
  int64_t rank = std::max({rankOf(condition), rankOf(lhs), rankOf(rhs)});
  condition = tosa.expandRank(condition, rank);
  lhs = tosa.expandRank(lhs, rank);
  rhs = tosa.expandRank(rhs, rank);
  auto type = TosaBuilder::broadcastType(
      TosaBuilder::broadcastType(cast<RankedTensorType>(condition.getType()),
                                 cast<RankedTensorType>(lhs.getType())),
      cast<RankedTensorType>(rhs.getType()));
  type = type.clone(getElementTypeOrSelf(lhs.getType()));
  return tosa::SelectOp::create(tosa.getBuilder(), tosa.getLoc(), type,
                                condition, lhs, rhs);
}

Value mlir::onebit::onnx_import::widenInteger(TosaBuilder &tosa, Value value,
                                              bool isUnsigned,
                                              unsigned minWidth) {
  auto type = cast<RankedTensorType>(value.getType());
  unsigned width = type.getElementType().getIntOrFloatBitWidth();
  OpBuilder &b = tosa.getBuilder();
  if (!isUnsigned || width == 1) {
    if (width >= minWidth)
      return value;
    return tosa.cast(value, b.getIntegerType(minWidth));
  }
  if (width >= 64)
    return value;
  unsigned wide = std::max(minWidth, width < 32 ? 32u : 64u);
  Type wideType = b.getIntegerType(wide);
  // tosa.cast sign-extends: the mask drops the copies of the top bit.
  Value widened = tosa.cast(value, wideType);
  return tosa.binary<tosa::BitwiseAndOp>(
      widened,
      tosa.constant(getDenseOf(wideType,
                               SmallVector<int64_t>(type.getRank(), 1),
                               {int64_t((uint64_t(1) << width) - 1)})));
}

Value mlir::onebit::onnx_import::castFloatToInt(TosaBuilder &tosa, Value value,
                                                Type intType, bool isUnsigned) {
  auto type = cast<RankedTensorType>(value.getType());
  Type floatType = type.getElementType();
  int64_t rank = type.getRank();
  OpBuilder &b = tosa.getBuilder();
  Value negative = tosa.binary<tosa::GreaterOp>(
      tosa.scalar(floatType, 0.0, rank), value, b.getI1Type());
  Value truncated = buildSelect(tosa, negative,
                                tosa.unary<tosa::CeilOp>(value),
                                tosa.unary<tosa::FloorOp>(value));
  unsigned width = intType.getIntOrFloatBitWidth();
  if (width == 64 || (width == 32 && !isUnsigned))
    return tosa.cast(truncated, intType);
  // Narrow and unsigned targets go through a wider signed type, so that
  // unsigned values past the signed maximum (200 for uint8) keep their bits.
  Type wide = width == 32 ? b.getI64Type() : b.getI32Type();
  return tosa.cast(tosa.cast(truncated, wide), intType);
}

int32_t mlir::onebit::onnx_import::getONNXType(Type elementType,
                                               bool isUnsigned) {
  if (elementType.isF32())
    return onnx::TensorProto::FLOAT;
  if (elementType.isF16())
    return onnx::TensorProto::FLOAT16;
  if (elementType.isBF16())
    return onnx::TensorProto::BFLOAT16;
  if (elementType.isF64())
    return onnx::TensorProto::DOUBLE;
  if (elementType.isInteger(1))
    return onnx::TensorProto::BOOL;
  if (elementType.isInteger(8))
    return isUnsigned ? onnx::TensorProto::UINT8 : onnx::TensorProto::INT8;
  if (elementType.isInteger(16))
    return isUnsigned ? onnx::TensorProto::UINT16 : onnx::TensorProto::INT16;
  if (elementType.isInteger(32))
    return isUnsigned ? onnx::TensorProto::UINT32 : onnx::TensorProto::INT32;
  if (elementType.isInteger(64) && !isUnsigned)
    return onnx::TensorProto::INT64;
  return onnx::TensorProto::UNDEFINED;
}

LogicalResult mlir::onebit::onnx_import::requireOpset(NodeImporter &node,
                                                      int64_t since) {
  if (node.getOpset() >= since)
    return success();
  return node.emitError() << "operator '" << node.getNode().op_type()
                          << "' does not exist in opset " << node.getOpset()
                          << " (it starts at opset " << since << ")";
}

LogicalResult mlir::onebit::onnx_import::checkNotEmpty(NodeImporter &node,
                                                       ArrayRef<int64_t> shape,
                                                       StringRef what) {
  if (!llvm::is_contained(shape, 0))
    return success();
  return node.emitError() << what << " has the shape ["
                          << llvm::make_range(shape.begin(), shape.end())
                          << "], with no elements; empty tensors are not "
                             "supported";
}

DenseElementsAttr mlir::onebit::onnx_import::getDenseOf(
    Type elementType, ArrayRef<int64_t> shape, ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get(shape, elementType);
  assert((values.size() == 1 || int64_t(values.size()) == type.getNumElements()) &&
         "one value (a splat), or one per element");
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    SmallVector<APFloat> floats;
    for (int64_t v : values) {
      APFloat value(static_cast<double>(v));
      bool losesInfo;
      value.convert(floatType.getFloatSemantics(),
                    APFloat::rmNearestTiesToEven, &losesInfo);
      floats.push_back(value);
    }
    return DenseElementsAttr::get(type, floats);
  }
  unsigned width = elementType.getIntOrFloatBitWidth();
  SmallVector<APInt> ints;
  for (int64_t v : values)
    ints.emplace_back(width, uint64_t(v), /*isSigned=*/width > 1,
                      /*implicitTrunc=*/true);
  return DenseElementsAttr::get(type, ints);
}
