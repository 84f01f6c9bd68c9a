//===- Normalization.cpp - LayerNormalization and Softmax to TOSA ---------===//

#include "../NodeImporter.h"
#include "OpHelpers.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::onnx_import;

namespace {

/// Moves `axis` last (LayerNorm and Softmax normalise the trailing dims).
LogicalResult convertLayerNormalization(NodeImporter &node) {
  FailureOr<ImportedValue> input = getFloatInput(node);
  if (failed(input))
    return failure();
  RankedTensorType type = input->getType();
  FailureOr<int64_t> axis =
      normalizeAxis(node, node.getInt("axis", -1), type.getRank());
  if (failed(axis))
    return failure();
  // stash_type is the precision of the statistics (and of the Mean and
  // InvStdDev outputs): f32 by default, or f64.
  int64_t stashType = node.getInt("stash_type", onnx::TensorProto::FLOAT);
  if (stashType != onnx::TensorProto::FLOAT &&
      stashType != onnx::TensorProto::DOUBLE)
    return node.emitError() << "stash_type must be FLOAT or DOUBLE, got "
                            << describeONNXType(stashType);
  Type computeType = stashType == onnx::TensorProto::DOUBLE
                         ? node.getBuilder().getF64Type()
                         : node.getBuilder().getF32Type();
  TosaBuilder &tosa = node.getTosa();
  // Normalise over the trailing dims [axis, rank) flattened into one.
  SmallVector<int64_t> flat(type.getShape().take_front(*axis));
  int64_t normalized = 1;
  for (int64_t d : type.getShape().drop_front(*axis))
    normalized *= d;
  flat.push_back(normalized);
  Type elementType = type.getElementType();
  Value x = tosa.cast(tosa.reshape(input->value, flat), computeType);
  Value y = tosa.layerNorm(x, node.getFloat("epsilon", 1e-5f));
  // Mean and InvStdDev, when asked for, are the statistics layerNorm()
  // built: y = (x - mean) * rsqrt(variance + epsilon).
  SmallVector<int64_t> statsShape(type.getShape().take_front(*axis));
  statsShape.append(type.getRank() - *axis, 1);
  auto normalizedY = y.getDefiningOp<tosa::MulOp>();
  if (node.getNumOutputs() > 1 && !node.getNode().output(1).empty())
    node.setOutput(1, tosa.reshape(normalizedY.getInput1()
                                       .getDefiningOp<tosa::SubOp>()
                                       .getInput2(),
                                   statsShape));
  if (node.getNumOutputs() > 2 && !node.getNode().output(2).empty())
    node.setOutput(2, tosa.reshape(normalizedY.getInput2(), statsShape));
  y = tosa.reshape(y, type.getShape());
  for (unsigned index : {1u, 2u}) {
    if (!node.hasInput(index))
      continue;
    FailureOr<ImportedValue> param = node.getInput(index);
    if (failed(param))
      return failure();
    if (failed(broadcastShapes(node, {type, param->getType()})))
      return failure();
    Value p = tosa.cast(param->value, computeType);
    y = index == 1 ? tosa.mul(y, p) : tosa.add(y, p);
  }
  node.setOutput(0, tosa.cast(y, elementType));
  return success();
}

LogicalResult convertSoftmax(NodeImporter &node, bool logarithm) {
  FailureOr<ImportedValue> input = getFloatInput(node);
  if (failed(input))
    return failure();
  RankedTensorType type = input->getType();
  FailureOr<int64_t> axis =
      normalizeAxis(node, node.getInt("axis", -1), type.getRank());
  if (failed(axis))
    return failure();
  TosaBuilder &tosa = node.getTosa();
  Type elementType = type.getElementType();
  // Half precision is computed in f32.
  Value x = elementType.getIntOrFloatBitWidth() < 32
                ? tosa.cast(input->value, node.getBuilder().getF32Type())
                : input->value;
  Value shifted = tosa.sub(x, tosa.reduceMax(x, *axis));
  Value exp = tosa.unary<tosa::ExpOp>(shifted);
  Value sum = tosa.reduceSum(exp, *axis);
  Value y = logarithm ? tosa.sub(shifted, tosa.unary<tosa::LogOp>(sum))
                      : tosa.mul(exp, tosa.unary<tosa::ReciprocalOp>(sum));
  node.setOutput(0, tosa.cast(y, elementType));
  return success();
}

} // namespace

void mlir::onebit::onnx_import::registerNormalizationConverters(
    ConverterMap &map) {
  map["::LayerNormalization"] = convertLayerNormalization;
  map["::Softmax"] = [](NodeImporter &node) {
    return convertSoftmax(node, false);
  };
  map["::LogSoftmax"] = [](NodeImporter &node) {
    return convertSoftmax(node, true);
  };
}
