//===- Elementwise.cpp - element-wise ONNX ops to TOSA --------------------===//
//
// One converter per element-wise ONNX op, each short, and their registry at
// the end: over 600 lines because the ops are many, not because one is
// long.
//
//===----------------------------------------------------------------------===//

#include "../NodeImporter.h"
#include "../TensorReader.h"
#include "OpHelpers.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::onnx_import;

namespace {

/// Reads every input of a node whose inputs share one element type and
/// broadcast together (ONNX requires both).
FailureOr<SmallVector<ImportedValue>> getBroadcastInputs(NodeImporter &node,
                                                         unsigned minInputs) {
  if (node.getNumInputs() < minInputs)
    return node.emitError() << "needs at least " << minInputs << " input"
                            << (minInputs == 1 ? "" : "s") << ", got "
                            << node.getNumInputs();
  SmallVector<ImportedValue> inputs;
  SmallVector<RankedTensorType> types;
  for (unsigned i = 0; i < node.getNumInputs(); ++i) {
    FailureOr<ImportedValue> input = node.getInput(i);
    if (failed(input))
      return failure();
    if (!inputs.empty() &&
        (input->getType().getElementType() != types.front().getElementType() ||
         input->isUnsigned != inputs.front().isUnsigned))
      return node.emitError()
             << "operands have different element types ("
             << describeONNXType(getONNXType(types.front().getElementType(),
                                             inputs.front().isUnsigned))
             << " and "
             << describeONNXType(getONNXType(input->getType().getElementType(),
                                             input->isUnsigned))
             << ")";
    inputs.push_back(*input);
    types.push_back(input->getType());
  }
  if (failed(broadcastShapes(node, types)))
    return failure();
  return inputs;
}

/// Converts a node of two inputs with `build`, after checking that both
/// have the same element type and broadcast.
LogicalResult convertBinary(
    NodeImporter &node,
    function_ref<FailureOr<Value>(TosaBuilder &, Value, Value)> build,
    bool resultUnsigned = false) {
  if (node.getNumInputs() != 2)
    return node.emitError() << "needs 2 inputs, got " << node.getNumInputs();
  FailureOr<SmallVector<ImportedValue>> inputs = getBroadcastInputs(node, 2);
  if (failed(inputs))
    return failure();
  const ImportedValue &lhs = (*inputs)[0], &rhs = (*inputs)[1];
  FailureOr<Value> result = build(node.getTosa(), lhs.value, rhs.value);
  if (failed(result))
    return failure();
  node.setOutput(0, *result, resultUnsigned || lhs.isUnsigned);
  return success();
}

template <typename OpTy>
OpConverter binaryConverter() {
  return [](NodeImporter &node) {
    return convertBinary(node, [](TosaBuilder &tosa, Value l, Value r) {
      return FailureOr<Value>(tosa.binary<OpTy>(l, r));
    });
  };
}

/// Bitwise and logical ops: the same bits whatever the signedness. The
/// Bitwise* ops exist from opset 18.
template <typename OpTy>
OpConverter integerBinaryConverter(bool boolOnly) {
  return [boolOnly](NodeImporter &node) {
    if (!boolOnly && failed(requireOpset(node, 18)))
      return failure();
    FailureOr<ImportedValue> lhs = node.getInput(0);
    if (failed(lhs))
      return failure();
    Type elementType = lhs->getType().getElementType();
    if (boolOnly ? !elementType.isInteger(1)
                 : !isa<IntegerType>(elementType) || elementType.isInteger(1))
      return LogicalResult(node.emitError()
                           << "needs " << (boolOnly ? "bool" : "integer")
                           << " inputs, got " << lhs->getType());
    return convertBinary(node, [](TosaBuilder &tosa, Value l, Value r) {
      return FailureOr<Value>(tosa.binary<OpTy>(l, r));
    });
  };
}

/// Less, Greater and friends. TOSA compares signed: unsigned operands are
/// first widened to a signed type that holds them.
template <typename OpTy>
OpConverter comparisonConverter(bool swap) {
  return [swap](NodeImporter &node) {
    FailureOr<ImportedValue> lhs = node.getInput(0);
    if (failed(lhs))
      return failure();
    bool isUnsigned = lhs->isUnsigned;
    return convertBinary(node, [&](TosaBuilder &tosa, Value l, Value r) {
      if (swap)
        std::swap(l, r);
      l = widenInteger(tosa, l, isUnsigned, 0);
      r = widenInteger(tosa, r, isUnsigned, 0);
      return FailureOr<Value>(
          tosa.binary<OpTy>(l, r, tosa.getBuilder().getI1Type()));
    }, /*resultUnsigned=*/false);
  };
}

template <typename OpTy>
OpConverter floatUnaryConverter() {
  return [](NodeImporter &node) -> LogicalResult {
    FailureOr<ImportedValue> input = getFloatInput(node);
    if (failed(input))
      return failure();
    node.setOutput(0, node.getTosa().unary<OpTy>(input->value));
    return success();
  };
}

/// Integer division truncating toward zero, on the i32/i64 tosa.intdiv
/// takes: narrower and unsigned operands are widened, the quotient is
/// narrowed back (it always fits).
Value buildIntDiv(TosaBuilder &tosa, Value lhs, Value rhs, bool isUnsigned) {
  Type elementType = getElementTypeOrSelf(lhs.getType());
  Value l = widenInteger(tosa, lhs, isUnsigned, 32);
  Value r = widenInteger(tosa, rhs, isUnsigned, 32);
  return tosa.cast(tosa.binary<tosa::IntDivOp>(l, r), elementType);
}

LogicalResult convertDiv(NodeImporter &node) {
  FailureOr<ImportedValue> lhs = node.getInput(0);
  if (failed(lhs))
    return failure();
  bool isUnsigned = lhs->isUnsigned;
  if (lhs->getType().getElementType().isInteger(1))
    return node.emitError() << "does not take bool inputs";
  return convertBinary(node, [&](TosaBuilder &tosa, Value l, Value r) {
    // Floats: TOSA has no division; x * (1 / y) is its documented form
    // (and what the LayerNorm fusion matches).
    if (isFloat(l))
      return FailureOr<Value>(
          tosa.mul(l, tosa.unary<tosa::ReciprocalOp>(r)));
    return FailureOr<Value>(buildIntDiv(tosa, l, r, isUnsigned));
  });
}

/// Integer Mod: the remainder of truncating division (fmod=1, C's %), or
/// with the sign of the divisor (fmod=0, Python's %).
Value buildIntMod(TosaBuilder &tosa, Value lhs, Value rhs, bool isUnsigned,
                  bool fmod) {
  Type elementType = getElementTypeOrSelf(lhs.getType());
  OpBuilder &b = tosa.getBuilder();
  Value l = widenInteger(tosa, lhs, isUnsigned, 32);
  Value r = widenInteger(tosa, rhs, isUnsigned, 32);
  Value quotient = tosa.binary<tosa::IntDivOp>(l, r);
  Value remainder = tosa.sub(l, tosa.mul(quotient, r));
  if (!fmod && !isUnsigned) {
    Type wide = getElementTypeOrSelf(remainder.getType());
    int64_t rank = cast<RankedTensorType>(remainder.getType()).getRank();
    Value zero = tosa.scalar(wide, 0, rank);
    Value nonZero = tosa.unary<tosa::LogicalNotOp>(
        tosa.binary<tosa::EqualOp>(remainder, zero, b.getI1Type()));
    Value signsDiffer = tosa.binary<tosa::LogicalXorOp>(
        tosa.binary<tosa::GreaterOp>(zero, remainder, b.getI1Type()),
        tosa.binary<tosa::GreaterOp>(zero, r, b.getI1Type()));
    remainder = buildSelect(
        tosa, tosa.binary<tosa::LogicalAndOp>(nonZero, signsDiffer),
        tosa.add(remainder, r), remainder);
  }
  return tosa.cast(remainder, elementType);
}

/// Float fmod, exact like C's fmod wherever the quotient has fewer than 29
/// bits: computed in f64, where q * y is exact for f32 operands, with one
/// correction for a quotient rounded to the next integer.
Value buildFloatMod(TosaBuilder &tosa, Value lhs, Value rhs) {
  Type elementType = getElementTypeOrSelf(lhs.getType());
  OpBuilder &b = tosa.getBuilder();
  Type f64 = b.getF64Type();
  auto [x0, y0] = tosa.equalRanks(lhs, rhs);
  Value x = tosa.cast(x0, f64), y = tosa.cast(y0, f64);
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  Value zero = tosa.scalar(f64, 0.0, rank);
  Value ratio = tosa.mul(x, tosa.unary<tosa::ReciprocalOp>(y));
  Value quotient = buildSelect(
      tosa, tosa.binary<tosa::GreaterOp>(zero, ratio, b.getI1Type()),
      tosa.unary<tosa::CeilOp>(ratio), tosa.unary<tosa::FloorOp>(ratio));
  Value remainder = tosa.sub(x, tosa.mul(quotient, y));
  // The remainder has the dividend's sign and |r| < |y|; a quotient one too
  // large or too small breaks one of them.
  Value xNegative = tosa.binary<tosa::GreaterOp>(zero, x, b.getI1Type());
  Value absY = tosa.unary<tosa::AbsOp>(y);
  Value step = buildSelect(tosa, xNegative, tosa.negate(absY), absY);
  Value rNegative = tosa.binary<tosa::GreaterOp>(zero, remainder, b.getI1Type());
  Value rNonZero = tosa.unary<tosa::LogicalNotOp>(
      tosa.binary<tosa::EqualOp>(remainder, zero, b.getI1Type()));
  Value tooLarge = tosa.binary<tosa::LogicalAndOp>(
      rNonZero, tosa.binary<tosa::LogicalXorOp>(rNegative, xNegative));
  remainder = buildSelect(tosa, tooLarge, tosa.add(remainder, step), remainder);
  Value tooSmall = tosa.binary<tosa::GreaterEqualOp>(
      tosa.unary<tosa::AbsOp>(remainder), absY, b.getI1Type());
  remainder = buildSelect(tosa, tooSmall, tosa.sub(remainder, step), remainder);
  return tosa.cast(remainder, elementType);
}

LogicalResult convertMod(NodeImporter &node) {
  FailureOr<ImportedValue> lhs = node.getInput(0);
  if (failed(lhs))
    return failure();
  bool fmod = node.getInt("fmod", 0);
  bool isUnsigned = lhs->isUnsigned;
  Type elementType = lhs->getType().getElementType();
  if (elementType.isInteger(1))
    return node.emitError() << "does not take bool inputs";
  if (isFloat(elementType) && !fmod)
    return node.emitError() << "needs fmod=1 for float inputs (the ONNX "
                               "spec requires it)";
  // An unsigned value modulo a constant power of two keeps its low bits:
  // one bitwise_and (the bit extraction of docs/onnx-convention.md §3.2
  // below opset 18, which onebit-fuse-linear then recognises).
  FailureOr<ImportedValue> rhs = node.getInput(1);
  if (failed(rhs))
    return failure();
  if (isUnsigned && rhs->known && rhs->known.isSplat() &&
      rhs->getType().getElementType() == elementType) {
    APInt divisor = rhs->known.getSplatValue<APInt>();
    if (divisor.isPowerOf2())
      return convertBinary(node, [&](TosaBuilder &tosa, Value l, Value) {
        Value mask = tosa.constant(DenseElementsAttr::get(
            cast<RankedTensorType>(rhs->value.getType()), divisor - 1));
        return FailureOr<Value>(tosa.binary<tosa::BitwiseAndOp>(l, mask));
      });
  }
  return convertBinary(node, [&](TosaBuilder &tosa, Value l, Value r) {
    if (isFloat(l))
      return FailureOr<Value>(buildFloatMod(tosa, l, r));
    return FailureOr<Value>(buildIntMod(tosa, l, r, isUnsigned, fmod));
  });
}

LogicalResult convertPow(NodeImporter &node) {
  FailureOr<ImportedValue> base = node.getInput(0);
  FailureOr<ImportedValue> exponent = node.getInput(1);
  if (failed(base) || failed(exponent))
    return failure();
  if (failed(broadcastShapes(node, {base->getType(), exponent->getType()})))
    return failure();
  Type elementType = base->getType().getElementType();
  Type exponentType = exponent->getType().getElementType();
  if (elementType.isInteger(1) || exponentType.isInteger(1))
    return node.emitError() << "does not take bool inputs";
  TosaBuilder &tosa = node.getTosa();
  // x^2 (RMSNorm's square) is a multiply: exact and cheap.
  if (exponent->known && exponent->known.isSplat() &&
      isa<FloatType>(exponent->known.getElementType()) &&
      exponent->known.getSplatValue<APFloat>().convertToDouble() == 2.0 &&
      exponent->getType().getRank() <= base->getType().getRank() &&
      isFloat(elementType)) {
    node.setOutput(0, tosa.mul(base->value, base->value));
    return success();
  }
  Value exponentValue =
      isFloat(exponentType)
          ? exponent->value
          : widenInteger(tosa, exponent->value, exponent->isUnsigned, 0);
  if (isFloat(elementType)) {
    Value power = tosa.cast(exponentValue, elementType);
    node.setOutput(0, tosa.binary<tosa::PowOp>(base->value, power));
    return success();
  }
  // Integer bases: pow in f64 (exact for every result below 2^53), then
  // truncated like onnxruntime's cast of std::pow.
  Type f64 = node.getBuilder().getF64Type();
  Value x = tosa.cast(widenInteger(tosa, base->value, base->isUnsigned, 0), f64);
  Value power = tosa.binary<tosa::PowOp>(x, tosa.cast(exponentValue, f64));
  node.setOutput(0,
                 castFloatToInt(tosa, power, elementType, base->isUnsigned),
                 base->isUnsigned);
  return success();
}

LogicalResult convertSqrt(NodeImporter &node) {
  FailureOr<ImportedValue> input = getFloatInput(node);
  if (failed(input))
    return failure();
  TosaBuilder &tosa = node.getTosa();
  // pow(x, 0.5): the decomposed-LayerNorm fusion matches this form.
  Value half = tosa.scalar(input->getType().getElementType(), 0.5,
                           input->getType().getRank());
  node.setOutput(0, tosa.binary<tosa::PowOp>(input->value, half));
  return success();
}

LogicalResult convertNeg(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  if (input->isUnsigned || input->getType().getElementType().isInteger(1))
    return node.emitError() << "needs a signed or float input";
  node.setOutput(0, node.getTosa().negate(input->value));
  return success();
}

LogicalResult convertAbs(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  if (input->getType().getElementType().isInteger(1))
    return node.emitError() << "does not take bool inputs";
  // Unsigned values are their own absolute value (tosa.abs is signed).
  if (input->isUnsigned) {
    node.setOutput(0, *input);
    return success();
  }
  node.setOutput(0, node.getTosa().unary<tosa::AbsOp>(input->value));
  return success();
}

LogicalResult convertRelu(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  if (input->getType().getElementType().isInteger(1))
    return node.emitError() << "does not take bool inputs";
  if (input->isUnsigned) {
    node.setOutput(0, *input);
    return success();
  }
  TosaBuilder &tosa = node.getTosa();
  Value zero = tosa.scalar(input->getType().getElementType(), 0.0,
                           input->getType().getRank());
  node.setOutput(0, tosa.binary<tosa::MaximumOp>(input->value, zero));
  return success();
}

/// Gelu (opset 20): x/2 * (1 + erf(x / sqrt 2)), or with approximate="tanh"
/// x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))). Half precision is
/// computed in f32.
LogicalResult convertGelu(NodeImporter &node) {
  if (failed(requireOpset(node, 20)))
    return failure();
  FailureOr<ImportedValue> input = getFloatInput(node);
  if (failed(input))
    return failure();
  RankedTensorType type = input->getType();
  std::string approximate = node.getString("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    return node.emitError() << "approximate must be \"none\" or \"tanh\", "
                               "got \""
                            << approximate << "\"";
  TosaBuilder &tosa = node.getTosa();
  Type elementType = type.getElementType();
  Type computeType = elementType.getIntOrFloatBitWidth() < 32
                         ? node.getBuilder().getF32Type()
                         : elementType;
  int64_t rank = type.getRank();
  Value x = tosa.cast(input->value, computeType);
  auto constant = [&](double value) {
    return tosa.scalar(computeType, value, rank);
  };
  Value inner;
  if (approximate == "none") {
    inner = tosa.unary<tosa::ErfOp>(tosa.mul(x, constant(M_SQRT1_2)));
  } else {
    Value cube = tosa.mul(tosa.mul(x, x), x);
    Value sum = tosa.add(x, tosa.mul(cube, constant(0.044715)));
    inner = tosa.unary<tosa::TanhOp>(
        tosa.mul(sum, constant(std::sqrt(2.0 / M_PI))));
  }
  Value halfX = tosa.mul(x, constant(0.5));
  Value y = tosa.mul(halfX, tosa.add(inner, constant(1.0)));
  node.setOutput(0, tosa.cast(y, elementType));
  return success();
}

/// Min, Max, Sum and Mean: any number of inputs, broadcast together.
LogicalResult convertVariadic(NodeImporter &node, StringRef op) {
  FailureOr<SmallVector<ImportedValue>> inputs = getBroadcastInputs(node, 1);
  if (failed(inputs))
    return failure();
  TosaBuilder &tosa = node.getTosa();
  const ImportedValue &first = inputs->front();
  Type elementType = first.getType().getElementType();
  bool isUnsigned = first.isUnsigned;
  bool isMinMax = op == "Min" || op == "Max";
  if (elementType.isInteger(1))
    return node.emitError() << "does not take bool inputs";
  if (op == "Mean" && !isFloat(elementType))
    return node.emitError() << "needs float inputs, got " << first.getType();
  // Unsigned min/max compare on values widened to a signed type.
  auto prepare = [&](Value v) {
    return isMinMax ? widenInteger(tosa, v, isUnsigned, 0) : v;
  };
  Value result = prepare(first.value);
  for (const ImportedValue &input : ArrayRef(*inputs).drop_front()) {
    Value v = prepare(input.value);
    if (op == "Min")
      result = tosa.binary<tosa::MinimumOp>(result, v);
    else if (op == "Max")
      result = tosa.binary<tosa::MaximumOp>(result, v);
    else
      result = tosa.add(result, v);
  }
  // One input is still broadcast to nothing: it is its own result.
  if (op == "Mean" && inputs->size() > 1)
    result = tosa.mul(result,
                      tosa.scalar(elementType, 1.0 / inputs->size(),
                                  cast<RankedTensorType>(result.getType())
                                      .getRank()));
  node.setOutput(0, tosa.cast(result, elementType), isUnsigned);
  return success();
}

/// Clip: max(x, min) then min(., max), for optional min/max inputs (the
/// order gives max when min > max, as onnxruntime does).
LogicalResult convertClip(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  RankedTensorType type = input->getType();
  Type elementType = type.getElementType();
  if (elementType.isInteger(1))
    return node.emitError() << "does not take bool inputs";
  TosaBuilder &tosa = node.getTosa();
  Value y = widenInteger(tosa, input->value, input->isUnsigned, 0);
  for (unsigned index : {1u, 2u}) {
    if (!node.hasInput(index))
      continue;
    FailureOr<ImportedValue> bound = node.getInput(index);
    if (failed(bound))
      return failure();
    if (bound->getType().getElementType() != elementType)
      return node.emitError() << "min and max must have the input's element "
                                 "type, got "
                              << bound->getType();
    if (bound->getType().getNumElements() != 1)
      return node.emitError() << "min and max must be scalars, got "
                              << bound->getType();
    Value b = tosa.reshape(bound->value, {});
    b = widenInteger(tosa, b, input->isUnsigned, 0);
    b = tosa.reshape(b, SmallVector<int64_t>(type.getRank(), 1));
    y = index == 1 ? tosa.binary<tosa::MaximumOp>(y, b)
                   : tosa.binary<tosa::MinimumOp>(y, b);
  }
  node.setOutput(0, tosa.cast(y, elementType), input->isUnsigned);
  return success();
}

/// ONNX Cast: float to integer truncates toward zero, unsigned sources are
/// zero-extended.
LogicalResult convertCast(NodeImporter &node, int32_t to) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  FailureOr<Type> target = node.convertElementType(to);
  if (failed(target))
    return failure();
  TosaBuilder &tosa = node.getTosa();
  Value value = input->value;
  Type source = input->getType().getElementType();
  bool toInt = isa<IntegerType>(*target) && !target->isInteger(1);
  if (isFloat(source) && toInt) {
    node.setOutput(0,
                   castFloatToInt(tosa, value, *target, isUnsignedType(to)),
                   isUnsignedType(to));
    return success();
  }
  // TOSA casts integers as signed: unsigned ones becoming floats or wider
  // integers are zero-extended first (the 1-bit fusion matches the
  // cast/bitwise_and pair this makes of uint8). Narrowing keeps the bits.
  if (input->isUnsigned &&
      (isFloat(*target) ||
       (toInt && target->getIntOrFloatBitWidth() >
                     source.getIntOrFloatBitWidth())))
    value = widenInteger(tosa, value, /*isUnsigned=*/true, 32);
  node.setOutput(0, tosa.cast(value, *target), isUnsignedType(to));
  return success();
}

LogicalResult convertBitShift(NodeImporter &node) {
  std::string direction = node.getString("direction", "");
  if (direction != "RIGHT" && direction != "LEFT")
    return node.emitError() << "direction must be RIGHT or LEFT, got '"
                            << direction << "'";
  return convertBinary(
      node,
      [&](TosaBuilder &tosa, Value l, Value r) {
        if (direction == "RIGHT")
          return FailureOr<Value>(tosa.binary<tosa::LogicalRightShiftOp>(l, r));
        return FailureOr<Value>(tosa.binary<tosa::LogicalLeftShiftOp>(l, r));
      },
      /*resultUnsigned=*/true);
}

LogicalResult convertWhere(NodeImporter &node) {
  FailureOr<ImportedValue> condition = node.getInput(0);
  FailureOr<ImportedValue> lhs = node.getInput(1);
  FailureOr<ImportedValue> rhs = node.getInput(2);
  if (failed(condition) || failed(lhs) || failed(rhs))
    return failure();
  if (!condition->getType().getElementType().isInteger(1))
    return node.emitError() << "needs a bool condition, got "
                            << condition->getType();
  if (lhs->getType().getElementType() != rhs->getType().getElementType())
    return node.emitError() << "operands have different element types ("
                            << lhs->getType().getElementType() << " and "
                            << rhs->getType().getElementType() << ")";
  if (failed(broadcastShapes(
          node, {condition->getType(), lhs->getType(), rhs->getType()})))
    return failure();
  node.setOutput(0,
                 buildSelect(node.getTosa(), condition->value, lhs->value,
                             rhs->value),
                 lhs->isUnsigned);
  return success();
}

/// IsNaN: NaN is the one value not equal to itself.
LogicalResult convertIsNaN(NodeImporter &node) {
  FailureOr<ImportedValue> input = getFloatInput(node);
  if (failed(input))
    return failure();
  TosaBuilder &tosa = node.getTosa();
  Value same = tosa.binary<tosa::EqualOp>(input->value, input->value,
                                          tosa.getBuilder().getI1Type());
  node.setOutput(0, tosa.unary<tosa::LogicalNotOp>(same));
  return success();
}

LogicalResult convertIdentity(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  node.setOutput(0, *input);
  return success();
}

/// Not, BitwiseNot: one operand, same bits whatever the signedness.
template <typename OpTy>
OpConverter integerUnaryConverter(bool boolOnly) {
  return [boolOnly](NodeImporter &node) -> LogicalResult {
    if (!boolOnly && failed(requireOpset(node, 18)))
      return failure();
    FailureOr<ImportedValue> input = node.getInput(0);
    if (failed(input))
      return failure();
    Type elementType = input->getType().getElementType();
    if (boolOnly ? !elementType.isInteger(1)
                 : !isa<IntegerType>(elementType) || elementType.isInteger(1))
      return node.emitError() << "needs " << (boolOnly ? "a bool" : "an integer")
                              << " input, got " << input->getType();
    node.setOutput(0, node.getTosa().unary<OpTy>(input->value),
                   input->isUnsigned);
    return success();
  };
}

} // namespace

void mlir::onebit::onnx_import::registerElementwiseConverters(
    ConverterMap &map) {
  map["::Add"] = binaryConverter<tosa::AddOp>();
  map["::Sub"] = binaryConverter<tosa::SubOp>();
  map["::Mul"] = [](NodeImporter &node) {
    return convertBinary(node, [](TosaBuilder &tosa, Value l, Value r) {
      return FailureOr<Value>(tosa.mul(l, r));
    });
  };
  map["::Div"] = convertDiv;
  map["::Mod"] = convertMod;
  map["::Pow"] = convertPow;
  map["::Sqrt"] = convertSqrt;
  map["::Reciprocal"] = floatUnaryConverter<tosa::ReciprocalOp>();
  map["::Exp"] = floatUnaryConverter<tosa::ExpOp>();
  map["::Log"] = floatUnaryConverter<tosa::LogOp>();
  map["::Tanh"] = floatUnaryConverter<tosa::TanhOp>();
  map["::Erf"] = floatUnaryConverter<tosa::ErfOp>();
  map["::Sigmoid"] = floatUnaryConverter<tosa::SigmoidOp>();
  map["::Sin"] = floatUnaryConverter<tosa::SinOp>();
  map["::Cos"] = floatUnaryConverter<tosa::CosOp>();
  map["::Floor"] = floatUnaryConverter<tosa::FloorOp>();
  map["::Ceil"] = floatUnaryConverter<tosa::CeilOp>();
  map["::Gelu"] = convertGelu;
  map["::Abs"] = convertAbs;
  map["::Neg"] = convertNeg;
  map["::Relu"] = convertRelu;
  map["::Max"] = [](NodeImporter &node) { return convertVariadic(node, "Max"); };
  map["::Min"] = [](NodeImporter &node) { return convertVariadic(node, "Min"); };
  map["::Sum"] = [](NodeImporter &node) { return convertVariadic(node, "Sum"); };
  map["::Mean"] = [](NodeImporter &node) {
    return convertVariadic(node, "Mean");
  };
  map["::Clip"] = convertClip;
  map["::Equal"] = comparisonConverter<tosa::EqualOp>(false);
  map["::Greater"] = comparisonConverter<tosa::GreaterOp>(false);
  map["::GreaterOrEqual"] = comparisonConverter<tosa::GreaterEqualOp>(false);
  map["::Less"] = comparisonConverter<tosa::GreaterOp>(true);
  map["::LessOrEqual"] = comparisonConverter<tosa::GreaterEqualOp>(true);
  map["::And"] = integerBinaryConverter<tosa::LogicalAndOp>(true);
  map["::Or"] = integerBinaryConverter<tosa::LogicalOrOp>(true);
  map["::Xor"] = integerBinaryConverter<tosa::LogicalXorOp>(true);
  map["::Not"] = integerUnaryConverter<tosa::LogicalNotOp>(true);
  map["::BitwiseAnd"] = integerBinaryConverter<tosa::BitwiseAndOp>(false);
  map["::BitwiseOr"] = integerBinaryConverter<tosa::BitwiseOrOp>(false);
  map["::BitwiseXor"] = integerBinaryConverter<tosa::BitwiseXorOp>(false);
  map["::BitwiseNot"] = integerUnaryConverter<tosa::BitwiseNotOp>(false);
  map["::BitShift"] = convertBitShift;
  map["::Where"] = convertWhere;
  map["::IsNaN"] = convertIsNaN;
  map["::Identity"] = convertIdentity;
  map["::Cast"] = [](NodeImporter &node) {
    return convertCast(node, node.getInt("to", 0));
  };
  map["::CastLike"] = [](NodeImporter &node) -> LogicalResult {
    // CastLike takes its target type from its second input; the importer
    // keeps signedness beside the signless MLIR type.
    FailureOr<ImportedValue> like = node.getInput(1);
    if (failed(like))
      return failure();
    return convertCast(node, getONNXType(like->getType().getElementType(),
                                         like->isUnsigned));
  };
}
