//===- ProductSchedules.cpp - the GPU schedules of packed-sign products ---===//
//
// What a schedule says on its own; whether a product can take it is the
// kernel pass's to check (onebit-gpu-sign-mma, onebit-gpu-sign-gemv).
//
//===----------------------------------------------------------------------===//

#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::onebit;

static bool isOneTwoOrFour(int64_t value) {
  return value == 1 || value == 2 || value == 4;
}

LogicalResult GPUSignMmaScheduleAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, SignDecoding decoding,
    int64_t rowTiles, int64_t kSplit, int64_t words, int64_t chunk,
    int64_t loadsAhead, int64_t bitClasses, bool directFragments) {
  auto fail = [&]() {
    return emitError() << "gpu_sign_mma_schedule ";
  };
  if (rowTiles < 1 || rowTiles > 4)
    return fail() << "row_tiles must be 1..4, got " << rowTiles;
  if (!isOneTwoOrFour(kSplit))
    return fail() << "k_split must be 1, 2 or 4, got " << kSplit;
  if (!isOneTwoOrFour(words))
    return fail() << "words must be 1, 2 or 4, got " << words;
  if (chunk < 1)
    return fail() << "chunk must be at least 1, got " << chunk;
  if (loadsAhead < 1 || loadsAhead > 8)
    return fail() << "loads_ahead must be 1..8, got " << loadsAhead;
  bool classes = decoding == SignDecoding::BitClasses;
  if (classes != (bitClasses != 0))
    return fail() << "bit_classes is set with the bit_classes decoding, and "
                     "only then";
  if (classes && (bitClasses < 2 || bitClasses > 16 ||
                  !llvm::isPowerOf2_64(bitClasses)))
    return fail() << "bit_classes must be 2, 4, 8 or 16, got " << bitClasses;
  if (decoding != SignDecoding::ShiftedPairs && rowTiles != 1)
    return fail() << "row_tiles must be 1 with the "
                  << stringifySignDecoding(decoding) << " decoding";
  if (decoding == SignDecoding::ByteClasses && kSplit != 1)
    return fail() << "k_split must be 1 with the byte_classes decoding";
  if (decoding == SignDecoding::BitClasses && words < 2)
    return fail() << "words must be 2 or 4 with the bit_classes decoding";
  if (directFragments && (decoding != SignDecoding::ShiftedPairs || words != 1))
    return fail() << "direct_fragments needs the shifted_pairs decoding and "
                     "one word";
  return success();
}

LogicalResult GPUSignGemvScheduleAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, int64_t words,
    int64_t rowsPerStep, int64_t gridSize, bool staged) {
  if (!isOneTwoOrFour(words))
    return emitError() << "gpu_sign_gemv_schedule words must be 1, 2 or 4, "
                          "got "
                       << words;
  if (rowsPerStep < 1 || rowsPerStep > 8)
    return emitError() << "gpu_sign_gemv_schedule rows_per_step must be "
                          "1..8, got "
                       << rowsPerStep;
  if (gridSize < 1)
    return emitError() << "gpu_sign_gemv_schedule grid_size must be at least "
                          "1, got "
                       << gridSize;
  return success();
}
