//===- Kernels.h - CPU kernels for 1-bit products ---------------*- C++ -*-===//
//
// The kernel builders that convert-onebit-to-linalg calls, one file each
// in lib/Codegen/CPU: the lookup-table kernel (signs interleaved by 16
// rows) and the vector kernel (OneBit's bytes).
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_CODEGEN_CPU_KERNELS_H
#define ONEBIT_CODEGEN_CPU_KERNELS_H

#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"

#include "mlir/IR/Builders.h"

namespace mlir::onebit {

/// Whether the lookup-table kernel reads this layout: bytes, LSB first,
/// 16 rows interleaved.
bool hasLookupTableKernel(SignPackingAttr packing);

/// y = x Sᵀ as [rows, N] f32, for `x` [rows, K] f32 zero-padded to whole
/// bytes and `signs` [N/16, K/8, 16] in a layout hasLookupTableKernel
/// accepts: per input row a table of the 16 signed sums of every 4
/// activations, and per 4 weights of 16 output rows one lookup and one add.
Value buildLookupTableProduct(OpBuilder &b, Location loc, Value x, Value signs,
                              SignPackingAttr packing, int64_t outFeatures);

/// Whether the vector kernel reads this layout: OneBit's bytes, LSB first,
/// so that a byte bitcast to vector<8xi1> puts input k of the byte in lane
/// k.
bool hasVectorKernel(SignPackingAttr packing);

/// The same product for OneBit's bytes, as a vector kernel. `x` is [rows,
/// K] in f32, padded with zeros to whole bytes and contiguous. A decode
/// batch is a single tile: one scf.forall over blocks of output rows whose
/// steps use each decoded chunk for every input row. A prefill batch loops
/// over tiles outside the scf.forall, so a tile's activations stay in cache
/// while the packed rows stream past them, each packed row read once per
/// tile rather than once per input row.
Value buildVectorPackedProduct(OpBuilder &b, Location loc, Value x, Value signs,
                               SignPackingAttr packing, int64_t outFeatures);

} // namespace mlir::onebit

#endif // ONEBIT_CODEGEN_CPU_KERNELS_H
