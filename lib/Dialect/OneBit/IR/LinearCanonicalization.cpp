//===- LinearCanonicalization.cpp - onebit.linear canonical forms ---------===//
//
// A constant per-channel multiply on either side of onebit.linear folds into
// its input or output scale, and scales of 1 (bias of 0) disappear, so every
// encoding of the same layer ends in the same op.
//
//===----------------------------------------------------------------------===//

#include "onebit/Dialect/OneBit/IR/ConstantVector.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// The per-channel factors of a constant `factor` multiplying a tensor whose
/// last dimension has `channels` entries, if `factor` only varies along that
/// dimension (shape [1, ..., 1, channels]) or is a splat.
std::optional<SmallVector<double>> getChannelFactors(Value factor,
                                                     int64_t channels) {
  auto type = dyn_cast<RankedTensorType>(factor.getType());
  if (!type || !type.hasStaticShape() || type.getRank() == 0)
    return std::nullopt;
  std::optional<SmallVector<double>> values = getConstantFloats(factor);
  if (!values)
    return std::nullopt;
  ArrayRef<int64_t> shape = type.getShape();
  if (llvm::any_of(shape.drop_back(), [](int64_t dim) { return dim != 1; }))
    return std::nullopt;
  if (shape.back() == channels)
    return values;
  if (shape.back() == 1)
    return SmallVector<double>(channels, values->front());
  return std::nullopt;
}

/// Whether the shift of a tosa.mul is the constant zero (always for floats).
bool hasZeroShift(tosa::MulOp mul) {
  return matchPattern(mul.getShift(), m_Zero());
}

/// `vector` ⊙ `factors` as a new constant of `vector`'s type, or of
/// `fallbackType` (with `factors` alone) when `vector` is absent.
/// Fails when `vector` is present but not constant.
FailureOr<Value> scaleVector(PatternRewriter &rewriter, Location loc,
                             Value vector, ArrayRef<double> factors,
                             RankedTensorType fallbackType) {
  if (!vector)
    return createFloatConstant(rewriter, loc, fallbackType, factors);
  std::optional<SmallVector<double>> values = getConstantFloats(vector);
  if (!values)
    return failure();
  for (auto [value, factor] : llvm::zip_equal(*values, factors))
    value *= factor;
  return createFloatConstant(
      rewriter, loc, cast<RankedTensorType>(vector.getType()), *values);
}

struct DropIdentityScales : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    auto isOne = [](Value v) { return v && isConstantSplat(v, 1.0); };
    auto isZero = [](Value v) { return v && isConstantSplat(v, 0.0); };
    if (!isOne(op.getInputScale()) && !isOne(op.getOutputScale()) &&
        !isZero(op.getBias()))
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      if (isOne(op.getInputScale()))
        op.getInputScaleMutable().clear();
      if (isOne(op.getOutputScale()))
        op.getOutputScaleMutable().clear();
      if (isZero(op.getBias()))
        op.getBiasMutable().clear();
    });
    return success();
  }
};

/// linear(x ⊙ c) -> linear(x) with input_scale ⊙ c, for constant c that only
/// varies along K.
struct FoldInputMultiply : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    auto mul = op.getInput().getDefiningOp<tosa::MulOp>();
    if (!mul || !hasZeroShift(mul))
      return failure();
    int64_t inFeatures = op.getInFeatures();
    for (auto operands : {std::pair(mul.getInput1(), mul.getInput2()),
                          std::pair(mul.getInput2(), mul.getInput1())}) {
      Value activation = operands.first, factor = operands.second;
      if (activation.getType() != mul.getType())
        continue;
      std::optional<SmallVector<double>> factors =
          getChannelFactors(factor, inFeatures);
      if (!factors)
        continue;
      auto fallbackType = RankedTensorType::get(
          {inFeatures}, op.getInput().getType().getElementType());
      FailureOr<Value> scale = scaleVector(rewriter, op.getLoc(),
                                           op.getInputScale(), *factors,
                                           fallbackType);
      if (failed(scale))
        return failure();
      rewriter.modifyOpInPlace(op, [&] {
        op.getInputMutable().assign(activation);
        op.getInputScaleMutable().assign(*scale);
      });
      return success();
    }
    return failure();
  }
};

/// linear(x) ⊙ c -> linear(x) with output_scale and bias ⊙ c, for constant c
/// that only varies along N, when no LayerNorm sits between them.
struct FoldOutputMultiply : OpRewritePattern<tosa::MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tosa::MulOp mul,
                                PatternRewriter &rewriter) const override {
    if (!hasZeroShift(mul))
      return failure();
    for (auto operands : {std::pair(mul.getInput1(), mul.getInput2()),
                          std::pair(mul.getInput2(), mul.getInput1())}) {
      Value activation = operands.first, factor = operands.second;
      auto op = activation.getDefiningOp<LinearOp>();
      if (!op || op.hasNorm() || !op->hasOneUse() ||
          activation.getType() != mul.getType())
        continue;
      int64_t outFeatures = op.getOutFeatures();
      std::optional<SmallVector<double>> factors =
          getChannelFactors(factor, outFeatures);
      if (!factors)
        continue;
      auto fallbackType = RankedTensorType::get(
          {outFeatures}, op.getResult().getType().getElementType());
      FailureOr<Value> scale = scaleVector(rewriter, op.getLoc(),
                                           op.getOutputScale(), *factors,
                                           fallbackType);
      if (failed(scale))
        return failure();
      FailureOr<Value> bias;
      if (op.getBias()) {
        bias = scaleVector(rewriter, op.getLoc(), op.getBias(), *factors,
                           fallbackType);
        if (failed(bias))
          return failure();
      }
      rewriter.modifyOpInPlace(op, [&] {
        op.getOutputScaleMutable().assign(*scale);
        if (op.getBias())
          op.getBiasMutable().assign(*bias);
      });
      rewriter.replaceOp(mul, op.getResult());
      return success();
    }
    return failure();
  }
};

} // namespace

void LinearOp::getCanonicalizationPatterns(RewritePatternSet &patterns,
                                           MLIRContext *context) {
  patterns.add<DropIdentityScales, FoldInputMultiply, FoldOutputMultiply>(
      context);
}
