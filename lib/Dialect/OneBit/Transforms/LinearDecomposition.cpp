//===- LinearDecomposition.cpp - onebit.linear around its matmul ----------===//

#include "onebit/Dialect/OneBit/Transforms/LinearDecomposition.h"

using namespace mlir;
using namespace mlir::onebit;

LogicalResult mlir::onebit::decomposeLinear(LinearOp op,
                                            PatternRewriter &rewriter,
                                            SignProductBuilder buildProduct) {
  RankedTensorType inputType = op.getInput().getType();
  if (!inputType.hasStaticShape())
    return rewriter.notifyMatchFailure(op, "needs a static input shape");
  TosaBuilder tosa(rewriter, op.getLoc());
  Type elementType = inputType.getElementType();
  // Accumulate and normalise in f32 whatever the activation type.
  Type accumulator = rewriter.getF32Type();
  int64_t inFeatures = op.getInFeatures();
  int64_t rows = inputType.getNumElements() / inFeatures;

  Value x = op.getInput();
  if (Value g = op.getInputScale())
    x = tosa.mul(x, tosa.cast(g, elementType));
  Value y = buildProduct(tosa, tosa.reshape(x, {rows, inFeatures}));
  y = tosa.reshape(y, op.getResult().getType().getShape());

  if (Value h = op.getOutputScale())
    y = tosa.mul(y, tosa.cast(h, accumulator));
  if (std::optional<APFloat> epsilon = op.getNormEpsilon())
    y = tosa.layerNorm(y, epsilon->convertToDouble());
  if (Value bias = op.getBias())
    y = tosa.add(y, tosa.cast(bias, accumulator));
  rewriter.replaceOp(op, tosa.cast(y, elementType));
  return success();
}
