//===- SignMmaShape.cpp - the tensor-core kernel's schedule and shape -----===//
//
// How onebit-gpu-sign-mma's kernel (SignMmaKernel.cpp) covers a product:
// the schedule onebit-gpu-select-schedules picks (decoding, K split,
// chunk, from the product's sizes and the pass options), and the kernel's
// shape read back from a schedule, checked against the product.
//
//===----------------------------------------------------------------------===//

#include "SignMma.h"
#include "onebit/Codegen/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::sign_mma;

/// Input-row tiles, passes and staged rows: what the input rows fix.
static void layOutRows(MmaShape &s) {
  if (s.rows <= kTileColumns) {
    s.passRows = s.rows;
    s.columnTiles = 1;
  } else {
    s.columnTiles = std::min<int64_t>(kMaxColumnTiles,
                                      llvm::divideCeil(s.rows, kTileColumns));
    s.passRows = s.columnTiles * kTileColumns;
  }
  s.stagedRows = s.usesDigits() ? s.filledRows()
                                : (int64_t)llvm::PowerOf2Ceil(s.passRows);
  s.passes = llvm::divideCeil(s.rows, s.passRows);
}

/// Blocks in x: each covers the output-row tiles of its row warps.
static int64_t getGridSize(const MmaShape &s) {
  int64_t tiles = llvm::divideCeil(s.outFeatures, kTileRows);
  return llvm::divideCeil(tiles, s.tilesPerBlock());
}

/// Workgroup memory the kernel takes: the staged chunk (none with direct
/// fragments), the row sums and the K split's partial sums.
static int64_t getWorkgroupBytes(const MmaShape &s) {
  return (s.directFragments ? 0 : s.stagedHalves() * 2) + s.rowSumsBytes() +
         s.partialsBytes();
}

/// The K split, grid and chunk of `s` (its decoding and staged rows
/// chosen): K is split across the warps of a block where the rows give
/// fewer than `minGridSize` blocks, as long as every warp has a step in
/// each chunk; a chunk is as many steps as the workgroup memory holds.
static void layOutBlocks(MmaShape &s, int64_t minGridSize) {
  int64_t tiles = llvm::divideCeil(s.outFeatures, kTileRows);
  int64_t totalSteps = s.inFeatures / s.stepInputs();
  auto blocks = [&](int64_t kSplit) -> int64_t {
    return llvm::divideCeil(tiles, (kWarpsPerBlock / kSplit) * s.rowTiles) *
           s.passes;
  };
  // Steps per chunk: as many as the workgroup memory left by the row sums
  // and the K split's partial sums holds.
  auto chunkSteps = [&](int64_t kSplit) -> int64_t {
    if (s.directFragments)
      return totalSteps;
    MmaShape split = s;
    split.kSplit = kSplit;
    int64_t available =
        kMaxWorkgroupBytes - split.rowSumsBytes() - split.partialsBytes();
    return available / (kLanesPerRow * s.stagedBlockUnits() * 8);
  };
  s.kSplit = 1;
  while (s.kSplit < kWarpsPerBlock && blocks(s.kSplit) < minGridSize &&
         totalSteps >= 2 * s.kSplit && chunkSteps(2 * s.kSplit) >= 2 * s.kSplit)
    s.kSplit *= 2;
  s.gridSize = blocks(s.kSplit) / s.passes;
  if (s.directFragments) {
    s.chunk = s.inFeatures;
    return;
  }
  // Whole rounds of the K split per chunk.
  int64_t steps =
      std::max<int64_t>(1, chunkSteps(s.kSplit) / s.kSplit) * s.kSplit;
  if (s.usesDigits()) {
    // Each thread holds its activations of a chunk in registers until the
    // block knows the rows' largest magnitudes; the chunks are as long as
    // each other (each pays for its staging and its scales).
    int64_t held =
        kMaxHeldActivations * kBlockSize / (s.passRows * s.stepInputs());
    steps = std::max<int64_t>(1, std::min(steps, held) / s.kSplit) * s.kSplit;
    int64_t chunks = llvm::divideCeil(totalSteps, steps);
    steps = llvm::alignTo(llvm::divideCeil(totalSteps, chunks), s.kSplit);
  }
  s.chunk = std::min(s.inFeatures, steps * s.stepInputs());
}

GPUSignMmaScheduleAttr sign_mma::selectSchedule(MLIRContext *context,
                                                const ProductSizes &sizes,
                                                const MmaOptions &options) {
  if (!sizes.xElement.isF16() || !sizes.yElement.isF32())
    return {};
  MmaShape s;
  s.rows = sizes.rows;
  s.inFeatures = sizes.inFeatures;
  s.outFeatures = sizes.outFeatures;
  if (s.rows < 1 || s.outFeatures < 1 || s.inFeatures % 128 != 0)
    return {};
  s.decoding = SignDecoding::ShiftedPairs;
  layOutRows(s);
  // Grid y walks the passes: at most 65535 blocks in y.
  if (s.passes > 65535)
    return {};
  s.words = 4;
  while (s.inFeatures % (kLanesPerRow * 32 * s.words) != 0)
    s.words /= 2;
  // Two output tiles per warp share each B fragment where there are
  // several input-row tiles (one per warp measured slower at M = 16 on the
  // larger shapes).
  s.rowTiles = options.rowTiles > 0 ? options.rowTiles
               : s.columnTiles == 1 ? 1
                                    : 2;
  s.decoding = s.columnTiles == 1 && s.rowTiles == 1 && s.words >= 2
                   ? SignDecoding::BitClasses
                   : SignDecoding::ShiftedPairs;
  s.bitClasses = options.bitClasses;
  s.loadsAhead = options.loadsAhead;
  // Up to 16 input rows (decode), each lane loads its activations with its
  // sign words: one word per row and step, and that word's 32 inputs of
  // input rows g and 8 + g (16 activation registers each, per step ahead).
  if (options.directFragments && s.decoding == SignDecoding::ShiftedPairs &&
      s.columnTiles > 1 && s.columnTiles <= kMaxDirectColumnTiles) {
    s.directFragments = true;
    s.words = 1;
  }
  layOutBlocks(s, options.minGridSize);
  // The s8 schedule stages about 10 instructions per activation and block
  // more than the f16 one: it pays where a block's warps cover all of K
  // for rows of their own (no K split; docs/benchmarks.md).
  if (options.int8Activations && s.decoding == SignDecoding::BitClasses &&
      s.kSplit == 1 && s.passRows * kActivationDigits <= kTileColumns) {
    MmaShape digits = s;
    digits.decoding = SignDecoding::ByteClasses;
    digits.stagedRows = digits.filledRows();
    layOutBlocks(digits, options.minGridSize);
    if (digits.kSplit == 1)
      s = digits;
  }
  bool classes = s.decoding == SignDecoding::BitClasses;
  return GPUSignMmaScheduleAttr::get(
      context, s.decoding, s.rowTiles, s.kSplit, s.words, s.chunk,
      s.loadsAhead, classes ? s.bitClasses : 0, s.directFragments);
}

FailureOr<MmaShape>
sign_mma::getShape(const ProductSizes &sizes, GPUSignMmaScheduleAttr schedule,
                   llvm::function_ref<InFlightDiagnostic()> emitError) {
  MmaShape s;
  s.rows = sizes.rows;
  s.inFeatures = sizes.inFeatures;
  s.outFeatures = sizes.outFeatures;
  s.decoding = schedule.getDecoding();
  s.rowTiles = schedule.getRowTiles();
  s.kSplit = schedule.getKSplit();
  s.words = schedule.getWords();
  s.chunk = schedule.getChunk();
  s.loadsAhead = schedule.getLoadsAhead();
  s.bitClasses = schedule.getBitClasses();
  s.directFragments = schedule.getDirectFragments();
  auto fail = [&] { return emitScheduleError(emitError, schedule); };
  if (!sizes.xElement.isF16() || !sizes.yElement.isF32())
    return fail() << "the tensor-core kernel takes f16 activations and f32 "
                     "sums";
  if (s.rows < 1 || s.outFeatures < 1)
    return fail() << "the product is empty";
  if (s.inFeatures % (kLanesPerRow * 32 * s.words) != 0)
    return fail() << "K = " << s.inFeatures << " is not a multiple of "
                  << kLanesPerRow * 32 * s.words << " (128 x words)";
  layOutRows(s);
  if (s.passes > 65535)
    return fail() << s.passes << " passes of input rows; grid y holds 65535";
  if (s.decoding != SignDecoding::ShiftedPairs && s.columnTiles != 1)
    return fail() << "the " << stringifySignDecoding(s.decoding)
                  << " decoding takes at most " << kTileColumns
                  << " input rows, not " << s.rows;
  if (s.usesDigits() && s.passRows * kActivationDigits > kTileColumns)
    return fail() << "the byte_classes decoding takes at most "
                  << kTileColumns / kActivationDigits << " input rows, not "
                  << s.rows;
  if (s.directFragments && (s.columnTiles < 2 ||
                            s.columnTiles > kMaxDirectColumnTiles))
    return fail() << "direct fragments take " << kTileColumns + 1 << " to "
                  << kTileColumns * kMaxDirectColumnTiles
                  << " input rows, not " << s.rows;
  int64_t totalSteps = s.inFeatures / s.stepInputs();
  if (totalSteps < s.kSplit)
    return fail() << "K = " << s.inFeatures << " has " << totalSteps
                  << " steps, fewer than the " << s.kSplit
                  << " warps that split it";
  int64_t round = s.kSplit * s.stepInputs();
  if (s.directFragments && s.chunk != s.inFeatures)
    return fail() << "direct fragments stage no chunks: chunk must be K = "
                  << s.inFeatures;
  if (s.chunk != s.inFeatures &&
      (s.chunk > s.inFeatures || s.chunk % round != 0))
    return fail() << "the chunk must be K = " << s.inFeatures
                  << " or a multiple of " << round
                  << " below it (whole rounds of the K split)";
  if (s.usesDigits() &&
      s.passRows * s.chunk > kMaxHeldActivations * kBlockSize)
    return fail() << "the byte_classes decoding holds a chunk's activations "
                     "in registers: at most "
                  << kMaxHeldActivations * kBlockSize / s.passRows
                  << " inputs per chunk";
  if (getWorkgroupBytes(s) > kMaxWorkgroupBytes)
    return fail() << "it needs " << getWorkgroupBytes(s)
                  << " bytes of workgroup memory, more than "
                  << kMaxWorkgroupBytes;
  s.gridSize = getGridSize(s);
  return s;
}

bool mlir::onebit::isSignMmaCandidate(Type elementType, int64_t inFeatures,
                                      SignPackingAttr packing) {
  return elementType.isF16() && inFeatures % 128 == 0 &&
         packing.getWord() == 8 && packing.getOrder() == BitOrder::LSBFirst &&
         packing.getInterleave() == 1;
}
