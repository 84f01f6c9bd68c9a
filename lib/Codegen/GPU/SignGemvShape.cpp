//===- SignGemvShape.cpp - the decode kernel's schedule and shape ---------===//
//
// How onebit-gpu-sign-gemv's kernel (SignGemvKernel.cpp) covers a product:
// the schedule onebit-gpu-select-schedules picks (words per thread, rows
// per step, grid, staging), and the kernel's shape read back from a
// schedule, checked against the product.
//
//===----------------------------------------------------------------------===//

#include "SignGemv.h"
#include "onebit/Codegen/Passes.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::sign_gemv;

/// Row groups of `s.words` words per thread: what the words and K fix.
static void layOutGroups(GemvShape &s) {
  s.threadsPerRow = s.inFeatures / 32 / s.words;
  s.groupSize = llvm::alignTo(s.threadsPerRow, kWarpSize);
  s.groups = std::max<int64_t>(1, kTargetBlockSize / s.groupSize);
}

static int64_t getStagedBytes(const ProductSizes &sizes) {
  return sizes.rows * sizes.inFeatures *
         (sizes.xElement.getIntOrFloatBitWidth() / 8);
}

GPUSignGemvScheduleAttr sign_gemv::selectSchedule(MLIRContext *context,
                                                  const ProductSizes &sizes,
                                                  SignPackingAttr packing,
                                                  const GemvOptions &options) {
  if (!isSignGemvCandidate(sizes.rows, sizes.inFeatures, packing) ||
      !(sizes.xElement.isF16() || sizes.xElement.isF32()))
    return {};
  GemvShape s;
  s.rows = sizes.rows;
  s.inFeatures = sizes.inFeatures;
  s.outFeatures = sizes.outFeatures;
  // Registers for activations: about 128 per thread whatever M is.
  int64_t wordsPerRow = s.inFeatures / 32;
  s.words = s.rows == 1 ? 4 : s.rows == 2 ? 2 : 1;
  while (wordsPerRow % s.words != 0)
    s.words /= 2;
  layOutGroups(s);
  int64_t gridSize = std::min<int64_t>(
      options.maxGridSize,
      llvm::divideCeil(s.outFeatures, options.rowsPerStep * s.groups));
  return GPUSignGemvScheduleAttr::get(
      context, s.words, options.rowsPerStep, gridSize,
      getStagedBytes(sizes) <= kMaxStagedBytes);
}

FailureOr<GemvShape>
sign_gemv::getShape(const ProductSizes &sizes, GPUSignGemvScheduleAttr schedule,
                    llvm::function_ref<InFlightDiagnostic()> emitError) {
  auto fail = [&] { return emitScheduleError(emitError, schedule); };
  if (!sizes.xElement.isF16() && !sizes.xElement.isF32())
    return fail() << "the decode kernel takes f16 or f32 activations";
  if (sizes.rows < 1 || sizes.rows > kMaxSignGemvRows)
    return fail() << "the decode kernel takes 1 to " << kMaxSignGemvRows
                  << " input rows, not " << sizes.rows;
  GemvShape s;
  s.rows = sizes.rows;
  s.inFeatures = sizes.inFeatures;
  s.outFeatures = sizes.outFeatures;
  s.words = schedule.getWords();
  s.rowsPerStep = schedule.getRowsPerStep();
  s.gridSize = schedule.getGridSize();
  s.staged = schedule.getStaged();
  s.halfPairs = sizes.xElement.isF16();
  if (s.inFeatures % (32 * s.words) != 0)
    return fail() << "K = " << s.inFeatures << " is not a multiple of "
                  << 32 * s.words << " (32 x words)";
  layOutGroups(s);
  if (s.threadsPerRow > 1024)
    return fail() << "a row takes " << s.threadsPerRow
                  << " threads, more than a block's 1024";
  if (s.staged && getStagedBytes(sizes) > kMaxStagedBytes)
    return fail() << "the staged activations take " << getStagedBytes(sizes)
                  << " bytes of workgroup memory, more than "
                  << kMaxStagedBytes;
  return s;
}

bool mlir::onebit::isSignGemvCandidate(int64_t rows, int64_t inFeatures,
                                       SignPackingAttr packing) {
  return rows >= 1 && rows <= kMaxSignGemvRows && inFeatures % 32 == 0 &&
         inFeatures / 32 <= 1024 && packing.getWord() == 8 &&
         packing.getOrder() == BitOrder::LSBFirst &&
         packing.getInterleave() == 1;
}
