//===- Kernels.h - CPU kernels for 1-bit products ---------------*- C++ -*-===//
//
// The CPU kernels of onebit.packed_sign_product, one file each in
// lib/Codegen/CPU: the lookup-table kernel (signs interleaved by 16 rows)
// and the vector kernel (OneBit's bytes). For each: the schedule that
// onebit-cpu-select-schedules records, the check that a schedule fits a
// product, and the builder that convert-onebit-to-linalg calls, which only
// reads the schedule.
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

/// The lookup-table kernel's schedule for `rows` input rows and
/// `outFeatures` outputs.
CPUSignLookupScheduleAttr selectLookupTableSchedule(MLIRContext *context,
                                                    int64_t rows,
                                                    int64_t outFeatures);

/// Whether `schedule` can run a product of `outFeatures` outputs whose signs
/// are in `packing`; else an error through `emitError`.
LogicalResult
checkLookupTableSchedule(CPUSignLookupScheduleAttr schedule,
                         SignPackingAttr packing, int64_t outFeatures,
                         function_ref<InFlightDiagnostic()> emitError);

/// y = x Sᵀ as [rows, N] f32, for `x` [rows, K] f32 zero-padded to whole
/// bytes and `signs` [N/16, K/8, 16] in a layout hasLookupTableKernel
/// accepts, as `schedule` (checked) says: per input row a table of the 16
/// signed sums of every 4 activations, and per 4 weights of 16 output rows
/// one lookup and one add.
Value buildLookupTableProduct(OpBuilder &b, Location loc, Value x, Value signs,
                              SignPackingAttr packing,
                              CPUSignLookupScheduleAttr schedule,
                              int64_t outFeatures);

/// Whether the vector kernel reads this layout: OneBit's bytes, LSB first,
/// so that a byte bitcast to vector<8xi1> puts input k of the byte in lane
/// k.
bool hasVectorKernel(SignPackingAttr packing);

/// The vector kernel's schedule for `rows` input rows, `wordsPerRow` packed
/// bytes per output row and `outFeatures` outputs.
CPUSignVectorScheduleAttr selectVectorSchedule(MLIRContext *context,
                                               int64_t rows,
                                               int64_t wordsPerRow,
                                               int64_t outFeatures);

/// Whether `schedule` can run a product of `wordsPerRow` packed bytes per
/// row and `outFeatures` outputs whose signs are in `packing`; else an
/// error through `emitError`.
LogicalResult checkVectorSchedule(CPUSignVectorScheduleAttr schedule,
                                  SignPackingAttr packing, int64_t wordsPerRow,
                                  int64_t outFeatures,
                                  function_ref<InFlightDiagnostic()> emitError);

/// The same product for OneBit's bytes, as a vector kernel. `x` is [rows,
/// K] in f32, padded with zeros to whole bytes and contiguous. Input rows
/// go in the schedule's tiles, each an scf.forall over blocks of output
/// rows whose steps use each decoded chunk for every input row of the
/// tile; several tiles loop outside the scf.forall, so a tile's
/// activations stay in cache while the packed rows stream past them.
Value buildVectorPackedProduct(OpBuilder &b, Location loc, Value x, Value signs,
                               SignPackingAttr packing,
                               CPUSignVectorScheduleAttr schedule,
                               int64_t outFeatures);

} // namespace mlir::onebit

#endif // ONEBIT_CODEGEN_CPU_KERNELS_H
