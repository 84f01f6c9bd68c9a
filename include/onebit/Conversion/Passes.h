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

/// onebit.linear -> linalg.generic on packed words (+ TOSA epilogue),
/// onebit.unpack_signs -> linalg.generic.
void populateOneBitToLinalgPatterns(RewritePatternSet &patterns);

#define GEN_PASS_REGISTRATION
#include "onebit/Conversion/Passes.h.inc"

} // namespace onebit
} // namespace mlir

#endif // ONEBIT_CONVERSION_PASSES_H
