//===- PackedSignProduct.h - x Sᵀ on packed words, any layout ---*- C++ -*-===//

#ifndef ONEBIT_CODEGEN_COMMON_PACKEDSIGNPRODUCT_H
#define ONEBIT_CODEGEN_COMMON_PACKEDSIGNPRODUCT_H

#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"

#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"

namespace mlir::onebit {

/// The affine map from (n, k) dims to the packed word holding sign (n, k).
SmallVector<AffineExpr> getWordIndex(SignPackingAttr packing, AffineExpr n,
                                     AffineExpr k);

/// Whether sign (·, k) of `word` is -1, inside a linalg body.
Value isNegativeSign(OpBuilder &b, Location loc, SignPackingAttr packing,
                     Value word, Value k);

/// The error that a product cannot run its `schedule`, to which the caller
/// adds why.
InFlightDiagnostic
emitScheduleError(llvm::function_ref<InFlightDiagnostic()> emitError,
                  Attribute schedule);

/// init[m, n] + sum_k (S[n, k] < 0 ? -x[m, k] : x[m, k]) in f32 for `x`
/// [rows, K] (any float type) and `init` [rows, N] f32, as a linalg.generic
/// over (m, n, k) that reads bit k of row n from `signs` in any `packing`:
/// the ±1 matrix never exists.
Value buildPackedSignProduct(OpBuilder &b, Location loc, Value x, Value signs,
                             SignPackingAttr packing, Value init);

} // namespace mlir::onebit

#endif // ONEBIT_CODEGEN_COMMON_PACKEDSIGNPRODUCT_H
