//===- Passes.h - onebit conversion passes ----------------------*- C++ -*-===//

#ifndef ONEBIT_CONVERSION_PASSES_H
#define ONEBIT_CONVERSION_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Pass/Pass.h"
#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"

namespace mlir {
class RewritePatternSet;

namespace onebit {

#define GEN_PASS_DECL
#include "onebit/Conversion/Passes.h.inc"

/// y[m, n] = sum_k (S[n, k] < 0 ? -x[m, k] : x[m, k]) in f32 for `x`
/// [rows, K] (any float type), as a linalg.generic over (m, n, k) that reads
/// bit k of row n from `signs` in any `packing`: the ±1 matrix never exists.
Value buildPackedSignProduct(OpBuilder &b, Location loc, Value x, Value signs,
                             SignPackingAttr packing, int64_t outFeatures);

/// The discardable attribute (a SignPackingAttr) by which
/// convert-onebit-to-gpu marks a packed-sign product for
/// onebit-gpu-sign-gemv's decode kernel.
constexpr llvm::StringLiteral kSignGemvAttrName = "onebit.sign_gemv";
/// The most input rows the decode kernel takes (its activations live in
/// registers).
constexpr int64_t kMaxSignGemvRows = 4;
/// Whether onebit-gpu-sign-gemv's kernel computes the product of `rows`
/// input rows with signs packed as `packing` over `inFeatures` inputs.
bool isSignGemvCandidate(int64_t rows, int64_t inFeatures,
                         SignPackingAttr packing);

/// The discardable attribute (a SignPackingAttr) by which
/// convert-onebit-to-gpu marks a packed-sign product for
/// onebit-gpu-sign-mma's tensor-core kernel.
constexpr llvm::StringLiteral kSignMmaAttrName = "onebit.sign_mma";
/// Whether onebit-gpu-sign-mma's kernel computes the product of activations
/// of `elementType` with signs packed as `packing` over `inFeatures` inputs.
bool isSignMmaCandidate(Type elementType, int64_t inFeatures,
                        SignPackingAttr packing);

/// onebit.linear -> linalg.generic on packed words (+ TOSA epilogue),
/// onebit.unpack_signs -> linalg.generic.
void populateOneBitToLinalgPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "onebit/Conversion/Passes.h.inc"

} // namespace onebit
} // namespace mlir

#endif // ONEBIT_CONVERSION_PASSES_H
