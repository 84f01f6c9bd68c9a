//===- Reduction.cpp - ReduceMean/Sum/Max and CumSum to TOSA --------------===//

#include "../NodeImporter.h"
#include "OpHelpers.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::onnx_import;

namespace {

enum class Reduction { Sum, Mean, Max };

/// The maximum of bools: tosa.reduce_max takes no i1.
Value buildReduceAny(TosaBuilder &tosa, Value input, int32_t axis) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = 1;
  return tosa::ReduceAnyOp::create(tosa.getBuilder(), tosa.getLoc(),
                                   type.clone(shape), input,
                                   tosa.getBuilder().getI32IntegerAttr(axis));
}

LogicalResult convertReduce(NodeImporter &node, Reduction kind) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  RankedTensorType type = input->getType();
  // Axes are an input from opset 18 (13 for ReduceSum), an attribute before.
  bool axesAsInput = kind == Reduction::Sum || node.getOpset() >= 18;
  SmallVector<int64_t> axes;
  if (axesAsInput && node.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> known =
        node.getKnownInts(1, "the axes input");
    if (failed(known))
      return failure();
    axes = *known;
  } else if (auto attr = node.getInts("axes")) {
    axes = *attr;
  }
  if (axes.empty()) {
    if (node.getInt("noop_with_empty_axes", 0)) {
      node.setOutput(0, *input);
      return success();
    }
    for (int64_t i = 0; i < type.getRank(); ++i)
      axes.push_back(i);
  }
  SmallVector<bool> reduced(type.getRank(), false);
  for (int64_t axis : axes) {
    FailureOr<int64_t> a = normalizeAxis(node, axis, type.getRank());
    if (failed(a))
      return failure();
    reduced[*a] = true;
  }
  TosaBuilder &tosa = node.getTosa();
  Type elementType = type.getElementType();
  bool isFloatType = isFloat(elementType);
  if (elementType.isInteger(1) && (kind != Reduction::Max ||
                                   node.getOpset() < 20))
    return node.emitError() << "does not take bool inputs"
                            << (kind == Reduction::Max ? " before opset 20"
                                                       : "");
  if (kind == Reduction::Mean && !isFloatType)
    return node.emitError() << "supports float inputs only";
  // Half-precision sums accumulate in f32; unsigned maxima compare widened
  // to a signed type.
  Value y = input->value;
  if (isFloatType && kind != Reduction::Max &&
      elementType.getIntOrFloatBitWidth() < 32)
    y = tosa.cast(y, node.getBuilder().getF32Type());
  if (kind == Reduction::Max)
    y = widenInteger(tosa, y, input->isUnsigned, 0);
  int64_t count = 1;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (!reduced[i])
      continue;
    count *= type.getDimSize(i);
    if (kind != Reduction::Max)
      y = tosa.reduceSum(y, i);
    else if (elementType.isInteger(1))
      y = buildReduceAny(tosa, y, i);
    else
      y = tosa.reduceMax(y, i);
  }
  if (kind == Reduction::Mean)
    y = tosa.mul(y, tosa.scalar(getElementTypeOrSelf(y.getType()),
                                1.0 / count, type.getRank()));
  y = tosa.cast(y, elementType);
  if (!node.getInt("keepdims", 1)) {
    SmallVector<int64_t> shape;
    for (int64_t i = 0; i < type.getRank(); ++i)
      if (!reduced[i])
        shape.push_back(type.getDimSize(i));
    y = tosa.reshape(y, shape);
  }
  node.setOutput(0, y, input->isUnsigned);
  return success();
}

/// y shifted by `offset` along `axis`: zeros first, the last `offset`
/// elements dropped.
Value shiftAlong(TosaBuilder &tosa, Value y, int64_t axis, int64_t offset) {
  auto type = cast<RankedTensorType>(y.getType());
  SmallVector<int64_t> zeroShape(type.getShape());
  zeroShape[axis] = offset;
  Value zeros = tosa.constant(
      getDenseOf(type.getElementType(), zeroShape, {0}));
  SmallVector<int64_t> begin(type.getRank(), 0), size(type.getShape());
  size[axis] -= offset;
  return tosa.concat({zeros, tosa.slice(y, begin, size)}, axis);
}

Value reverseAlong(TosaBuilder &tosa, Value y, int64_t axis) {
  return tosa::ReverseOp::create(tosa.getBuilder(), tosa.getLoc(),
                                 y.getType(), y,
                                 tosa.getBuilder().getI32IntegerAttr(axis));
}

/// CumSum (opset 14) as a log-step scan: after the step of offset s each
/// element holds the sum of the 2s elements ending at it. Exact for
/// integers; half-precision floats accumulate in f32.
LogicalResult convertCumSum(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  FailureOr<SmallVector<int64_t>> axisValues =
      node.getKnownInts(1, "the axis input of CumSum");
  if (failed(axisValues))
    return failure();
  RankedTensorType type = input->getType();
  if (axisValues->size() != 1)
    return node.emitError() << "the axis input must be a scalar";
  if (type.getRank() == 0)
    return node.emitError() << "needs an input of rank 1 or more";
  FailureOr<int64_t> axis =
      normalizeAxis(node, axisValues->front(), type.getRank());
  if (failed(axis))
    return failure();
  Type elementType = type.getElementType();
  if (elementType.isInteger(1))
    return node.emitError() << "does not take bool inputs";
  TosaBuilder &tosa = node.getTosa();
  Value y = input->value;
  if (isFloat(elementType) && elementType.getIntOrFloatBitWidth() < 32)
    y = tosa.cast(y, node.getBuilder().getF32Type());
  bool reverse = node.getInt("reverse", 0);
  int64_t length = type.getDimSize(*axis);
  if (reverse)
    y = reverseAlong(tosa, y, *axis);
  if (node.getInt("exclusive", 0)) {
    if (length == 1) {
      node.setOutput(0, tosa.constant(getDenseOf(elementType,
                                                 type.getShape(), {0})),
                     input->isUnsigned);
      return success();
    }
    y = shiftAlong(tosa, y, *axis, 1);
  }
  for (int64_t offset = 1; offset < length; offset *= 2)
    y = tosa.add(y, shiftAlong(tosa, y, *axis, offset));
  if (reverse)
    y = reverseAlong(tosa, y, *axis);
  node.setOutput(0, tosa.cast(y, elementType), input->isUnsigned);
  return success();
}

} // namespace

void mlir::onebit::onnx_import::registerReductionConverters(ConverterMap &map) {
  map["::ReduceSum"] = [](NodeImporter &node) {
    return convertReduce(node, Reduction::Sum);
  };
  map["::ReduceMean"] = [](NodeImporter &node) {
    return convertReduce(node, Reduction::Mean);
  };
  map["::ReduceMax"] = [](NodeImporter &node) {
    return convertReduce(node, Reduction::Max);
  };
  map["::CumSum"] = convertCumSum;
}
