//===- LookupTableKernel.h - 1-bit products by tables of sums --*- C++ -*-===//
//
// The CPU kernel for signs interleaved by 16 rows (onebit-interleave-signs):
// per input row, a table of the 16 signed sums of every 4 activations, and
// per 4 weights of 16 output rows one AVX-512 permute and one add.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_CONVERSION_ONEBITTOLINALG_LOOKUPTABLEKERNEL_H
#define ONEBIT_CONVERSION_ONEBITTOLINALG_LOOKUPTABLEKERNEL_H

#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"

#include "mlir/IR/Builders.h"

namespace mlir::onebit {

/// Whether the lookup-table kernel reads this layout: bytes, LSB first,
/// 16 rows interleaved.
bool hasLookupTableKernel(SignPackingAttr packing);

/// y = x Sᵀ as [rows, N] f32, for `x` [rows, K] f32 zero-padded to whole
/// bytes and `signs` [N/16, K/8, 16] in a layout hasLookupTableKernel
/// accepts.
Value buildLookupTableProduct(OpBuilder &b, Location loc, Value x, Value signs,
                              SignPackingAttr packing, int64_t outFeatures);

} // namespace mlir::onebit

#endif // ONEBIT_CONVERSION_ONEBITTOLINALG_LOOKUPTABLEKERNEL_H
