//===- LinearDecomposition.h - onebit.linear around its matmul --*- C++ -*-===//
//
// Every lowering of onebit.linear shares the scaling by g, the epilogue
// (h, LayerNorm, bias, in f32) and the reshapes; they differ only in how
// they compute the [rows, K] x Sᵀ product. This builds the rest around a
// given product.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_DIALECT_ONEBIT_TRANSFORMS_LINEARDECOMPOSITION_H
#define ONEBIT_DIALECT_ONEBIT_TRANSFORMS_LINEARDECOMPOSITION_H

#include "onebit/Dialect/OneBit/IR/OneBitOps.h"
#include "onebit/Utils/TosaBuilder.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::onebit {

/// Builds the product of `scaledInput` ([rows, K], the input's element
/// type, already multiplied by g) with Sᵀ as [rows, N] in f32.
using SignProductBuilder =
    function_ref<Value(TosaBuilder &tosa, Value scaledInput)>;

/// Replaces `op` (static input shape required) by TOSA ops around the
/// product `buildProduct` makes.
LogicalResult decomposeLinear(LinearOp op, PatternRewriter &rewriter,
                              SignProductBuilder buildProduct);

/// onebit-decompose-linear's pattern: each onebit.linear (static input
/// shape) as TOSA ops around an onebit.packed_sign_product onto f32 zeros,
/// without a schedule.
void populateDecomposeLinearPatterns(RewritePatternSet &patterns);

} // namespace mlir::onebit

#endif // ONEBIT_DIALECT_ONEBIT_TRANSFORMS_LINEARDECOMPOSITION_H
