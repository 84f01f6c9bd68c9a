//===- TosaBuilder.cpp - terse construction of TOSA ops -------------------===//

#include "onebit/Utils/TosaBuilder.h"

#include "mlir/Dialect/Tosa/Utils/ConversionUtils.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::onebit;

Value TosaBuilder::constant(DenseElementsAttr values) {
  return tosa::ConstOp::create(b, loc, values.getType(), values);
}

Value TosaBuilder::scalar(Type elementType, double value, int64_t rank) {
  auto type = RankedTensorType::get(SmallVector<int64_t>(rank, 1), elementType);
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    APFloat element(value);
    bool losesInfo;
    element.convert(floatType.getFloatSemantics(),
                    APFloat::rmNearestTiesToEven, &losesInfo);
    return constant(DenseElementsAttr::get(type, element));
  }
  return constant(DenseElementsAttr::get(
      type, APInt(elementType.getIntOrFloatBitWidth(), int64_t(value),
                  /*isSigned=*/true)));
}

Value TosaBuilder::reshape(Value input, ArrayRef<int64_t> shape) {
  auto inputType = llvm::cast<RankedTensorType>(input.getType());
  if (inputType.getShape() == shape)
    return input;
  auto type = RankedTensorType::get(shape, inputType.getElementType());
  ImplicitLocOpBuilder shapeBuilder(loc, b);
  Value shapeValue = tosa::getTosaConstShape(shapeBuilder, shape);
  return tosa::ReshapeOp::create(b, loc, type, input, shapeValue);
}

Value TosaBuilder::expandRank(Value input, int64_t rank) {
  auto type = llvm::cast<RankedTensorType>(input.getType());
  if (type.getRank() >= rank)
    return input;
  SmallVector<int64_t> shape(rank - type.getRank(), 1);
  llvm::append_range(shape, type.getShape());
  return reshape(input, shape);
}

Value TosaBuilder::cast(Value input, Type elementType) {
  auto type = llvm::cast<RankedTensorType>(input.getType());
  if (type.getElementType() == elementType)
    return input;
  return tosa::CastOp::create(b, loc, type.clone(elementType), input);
}

Value TosaBuilder::transpose(Value input, ArrayRef<int32_t> perms) {
  auto type = llvm::cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape;
  for (int32_t perm : perms)
    shape.push_back(type.getDimSize(perm));
  return tosa::TransposeOp::create(b, loc, type.clone(shape), input,
                                   b.getDenseI32ArrayAttr(perms));
}

RankedTensorType TosaBuilder::broadcastType(RankedTensorType lhs,
                                            RankedTensorType rhs) {
  SmallVector<int64_t> shape;
  for (auto [l, r] : llvm::zip_equal(lhs.getShape(), rhs.getShape()))
    shape.push_back(l == 1 ? r : l);
  return RankedTensorType::get(shape, lhs.getElementType());
}

std::pair<Value, Value> TosaBuilder::equalRanks(Value lhs, Value rhs) {
  int64_t rank =
      std::max(llvm::cast<RankedTensorType>(lhs.getType()).getRank(),
               llvm::cast<RankedTensorType>(rhs.getType()).getRank());
  return {expandRank(lhs, rank), expandRank(rhs, rank)};
}

Value TosaBuilder::add(Value lhs, Value rhs) {
  return binary<tosa::AddOp>(lhs, rhs);
}

Value TosaBuilder::sub(Value lhs, Value rhs) {
  return binary<tosa::SubOp>(lhs, rhs);
}

Value TosaBuilder::negate(Value input) {
  Type elementType = getElementTypeOrSelf(input.getType());
  Value inputZero = *tosa::createZeroPointTensor(b, loc, elementType);
  Value outputZero = *tosa::createZeroPointTensor(b, loc, elementType);
  return tosa::NegateOp::create(b, loc, input.getType(), input, inputZero,
                                outputZero);
}

Value TosaBuilder::slice(Value input, ArrayRef<int64_t> starts,
                         ArrayRef<int64_t> sizes) {
  auto type = llvm::cast<RankedTensorType>(input.getType());
  if (type.getShape() == sizes)
    return input;
  ImplicitLocOpBuilder shapeBuilder(loc, b);
  return tosa::SliceOp::create(b, loc, type.clone(sizes), input,
                               tosa::getTosaConstShape(shapeBuilder, starts),
                               tosa::getTosaConstShape(shapeBuilder, sizes));
}

Value TosaBuilder::concat(ValueRange inputs, int32_t axis) {
  if (inputs.size() == 1)
    return inputs.front();
  auto type = llvm::cast<RankedTensorType>(inputs.front().getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = 0;
  for (Value input : inputs)
    shape[axis] += llvm::cast<RankedTensorType>(input.getType()).getDimSize(axis);
  return tosa::ConcatOp::create(b, loc, type.clone(shape), inputs,
                                b.getI32IntegerAttr(axis));
}

Value TosaBuilder::tile(Value input, ArrayRef<int64_t> multiples) {
  if (llvm::all_of(multiples, [](int64_t m) { return m == 1; }))
    return input;
  auto type = llvm::cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape;
  for (auto [dim, multiple] : llvm::zip_equal(type.getShape(), multiples))
    shape.push_back(dim * multiple);
  ImplicitLocOpBuilder shapeBuilder(loc, b);
  return tosa::TileOp::create(b, loc, type.clone(shape), input,
                              tosa::getTosaConstShape(shapeBuilder, multiples));
}

Value TosaBuilder::broadcastTo(Value input, ArrayRef<int64_t> shape) {
  input = expandRank(input, shape.size());
  auto type = llvm::cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> multiples;
  for (auto [dim, target] : llvm::zip_equal(type.getShape(), shape))
    multiples.push_back(dim == target ? 1 : target);
  return tile(input, multiples);
}

Value TosaBuilder::reduceMax(Value input, int32_t axis) {
  auto type = llvm::cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = 1;
  return tosa::ReduceMaxOp::create(b, loc, type.clone(shape), input,
                                   b.getI32IntegerAttr(axis));
}

Value TosaBuilder::mul(Value lhs, Value rhs) {
  auto [l, r] = equalRanks(lhs, rhs);
  auto type = broadcastType(llvm::cast<RankedTensorType>(l.getType()),
                            llvm::cast<RankedTensorType>(r.getType()));
  Value shift = scalar(b.getI8Type(), 0, 1);
  return tosa::MulOp::create(b, loc, type, l, r, shift);
}

Value TosaBuilder::rsqrt(Value input) {
  return tosa::RsqrtOp::create(b, loc, input.getType(), input);
}

Value TosaBuilder::reduceSum(Value input, int32_t axis) {
  auto type = llvm::cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = 1;
  return tosa::ReduceSumOp::create(b, loc, type.clone(shape), input,
                                   b.getI32IntegerAttr(axis));
}

Value TosaBuilder::matmul(Value lhs, Value rhs, Type resultElement) {
  auto lhsType = llvm::cast<RankedTensorType>(lhs.getType());
  auto rhsType = llvm::cast<RankedTensorType>(rhs.getType());
  auto type = RankedTensorType::get({lhsType.getDimSize(0),
                                     lhsType.getDimSize(1),
                                     rhsType.getDimSize(2)},
                                    resultElement);
  Value lhsZero = *tosa::createZeroPointTensor(b, loc, lhsType.getElementType());
  Value rhsZero = *tosa::createZeroPointTensor(b, loc, rhsType.getElementType());
  return tosa::MatMulOp::create(b, loc, type, lhs, rhs, lhsZero, rhsZero);
}

Value TosaBuilder::layerNorm(Value input, double epsilon) {
  auto type = llvm::cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  int32_t axis = rank - 1;
  Value inverseCount =
      scalar(type.getElementType(), 1.0 / type.getShape().back(), rank);
  Value mean = mul(reduceSum(input, axis), inverseCount);
  Value centered = sub(input, mean);
  Value variance = mul(reduceSum(mul(centered, centered), axis), inverseCount);
  Value eps = scalar(type.getElementType(), epsilon, rank);
  return mul(centered, rsqrt(add(variance, eps)));
}

/// The value of a splat float constant.
static std::optional<double> getSplatFloat(Value value) {
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || !attr.isSplat() ||
      !isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  return attr.getSplatValue<APFloat>().convertToDouble();
}

/// Whether `value` is reduce_sum(`input`, last axis) * (1 / N).
static bool isMeanOf(Value value, Value input) {
  auto mul = value.getDefiningOp<tosa::MulOp>();
  if (!mul)
    return false;
  auto sum = mul.getInput1().getDefiningOp<tosa::ReduceSumOp>();
  auto type = llvm::cast<RankedTensorType>(input.getType());
  std::optional<double> scale = getSplatFloat(mul.getInput2());
  // The scale was rounded to the element type: compare loosely.
  return sum && sum.getInput() == input &&
         sum.getAxis() == uint32_t(type.getRank() - 1) && scale &&
         std::abs(*scale * type.getShape().back() - 1.0) < 1e-2;
}

std::optional<std::pair<Value, double>>
TosaBuilder::matchLayerNorm(Value value) {
  auto normalized = value.getDefiningOp<tosa::MulOp>();
  if (!normalized)
    return std::nullopt;
  auto centered = normalized.getInput1().getDefiningOp<tosa::SubOp>();
  auto rsqrt = normalized.getInput2().getDefiningOp<tosa::RsqrtOp>();
  if (!centered || !rsqrt)
    return std::nullopt;
  Value input = centered.getInput1();
  if (!isMeanOf(centered.getInput2(), input))
    return std::nullopt;
  auto plusEpsilon = rsqrt.getInput1().getDefiningOp<tosa::AddOp>();
  if (!plusEpsilon)
    return std::nullopt;
  std::optional<double> epsilon = getSplatFloat(plusEpsilon.getInput2());
  auto variance = plusEpsilon.getInput1().getDefiningOp<tosa::MulOp>();
  if (!epsilon || !variance)
    return std::nullopt;
  auto squaredSum = variance.getInput1().getDefiningOp<tosa::ReduceSumOp>();
  if (!squaredSum)
    return std::nullopt;
  auto product = squaredSum.getInput().getDefiningOp<tosa::MulOp>();
  if (!product || product.getInput1() != centered.getResult() ||
      product.getInput2() != centered.getResult() ||
      !isMeanOf(plusEpsilon.getInput1(), product.getResult()))
    return std::nullopt;
  return std::make_pair(input, *epsilon);
}
