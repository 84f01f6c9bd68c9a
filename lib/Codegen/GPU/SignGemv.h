//===- SignGemv.h - the shape of onebit-gpu-sign-gemv's kernel --*- C++ -*-===//
//
// The decode kernel's shape (SignGemvKernel.cpp), the schedule
// onebit-gpu-select-schedules picks for it, and the shape read back from a
// schedule (SignGemvShape.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_CODEGEN_GPU_SIGNGEMV_H
#define ONEBIT_LIB_CODEGEN_GPU_SIGNGEMV_H

#include "KernelBuilding.h"

namespace mlir::onebit::sign_gemv {

/// The most workgroup memory the staged activations may take (the static
/// limit of every architecture we target).
constexpr int64_t kMaxStagedBytes = 48 * 1024;
/// Threads per block the row groups fill up to.
constexpr int64_t kTargetBlockSize = 256;

/// The shape of one decode kernel: a GPUSignGemvScheduleAttr with what
/// follows from it and the product's sizes.
struct GemvShape {
  int64_t rows;        // M, input rows
  int64_t inFeatures;  // K
  int64_t outFeatures; // N
  int64_t words;       // 32-bit sign words per thread and row
  int64_t threadsPerRow;
  int64_t groupSize;   // threadsPerRow rounded up to whole warps
  int64_t groups;      // row groups per block, each on its own rows
  int64_t rowsPerStep; // rows per group and step
  int64_t gridSize;
  bool halfPairs; // f16 activations: two weights per instruction
  bool staged;    // activations staged in workgroup memory

  int64_t blockSize() const { return groups * groupSize; }
  /// Activations per thread slice and input row.
  int64_t sliceLength() const { return 32 * words; }
};

/// What onebit-gpu-select-schedules' options say about the decode kernel's
/// schedules.
struct GemvOptions {
  int64_t rowsPerStep;
  int64_t maxGridSize;
};

/// The schedule onebit-gpu-select-schedules records for a product of
/// `sizes` packed as `packing`, or null where the decode kernel does not
/// compute it.
GPUSignGemvScheduleAttr selectSchedule(MLIRContext *context,
                                       const ProductSizes &sizes,
                                       SignPackingAttr packing,
                                       const GemvOptions &options);

/// The kernel's shape for a product of `sizes` under `schedule`, or failure
/// (reported through `emitError`) where the product cannot take it.
FailureOr<GemvShape>
getShape(const ProductSizes &sizes, GPUSignGemvScheduleAttr schedule,
         llvm::function_ref<InFlightDiagnostic()> emitError);

} // namespace mlir::onebit::sign_gemv

#endif // ONEBIT_LIB_CODEGEN_GPU_SIGNGEMV_H
