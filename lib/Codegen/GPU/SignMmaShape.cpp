//===- SignMmaShape.cpp - the tensor-core kernel's shape ------------------===//
//
// How onebit-gpu-sign-mma's kernel (SignMmaKernel.cpp) covers a product:
// input-row tiles and passes, the sign decoding, the K split, the grid and
// the staged chunk, from the product's sizes and the pass options.
//
//===----------------------------------------------------------------------===//

#include "SignMma.h"
#include "onebit/Codegen/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::sign_mma;

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

FailureOr<MmaShape> sign_mma::getShape(linalg::GenericOp generic,
                                       int64_t rowTiles, int64_t minGridSize,
                                       int64_t bitClasses, int64_t loadsAhead,
                                       bool int8Activations,
                                       bool directFragments) {
  FailureOr<PackedProduct> product = getPackedProduct(generic);
  if (failed(product) || !product->x.getElementType().isF16() ||
      !product->y.getElementType().isF32())
    return failure();
  MmaShape s;
  s.rows = product->rows;
  s.inFeatures = product->inFeatures;
  s.outFeatures = product->outFeatures;
  if (s.rows < 1 || s.outFeatures < 1 || s.inFeatures % 128 != 0)
    return failure();
  if (s.rows <= kTileColumns) {
    s.passRows = s.rows;
    s.columnTiles = 1;
  } else {
    s.columnTiles = std::min<int64_t>(kMaxColumnTiles,
                                      llvm::divideCeil(s.rows, kTileColumns));
    s.passRows = s.columnTiles * kTileColumns;
  }
  s.stagedRows = llvm::PowerOf2Ceil(s.passRows);
  s.passes = llvm::divideCeil(s.rows, s.passRows);
  // Grid y walks the passes: at most 65535 blocks in y.
  if (s.passes > 65535)
    return failure();
  s.words = 4;
  while (s.inFeatures % (kLanesPerRow * 32 * s.words) != 0)
    s.words /= 2;
  // Two output tiles per warp share each B fragment where there are
  // several input-row tiles (one per warp measured slower at M = 16 on the
  // larger shapes).
  s.rowTiles = rowTiles > 0 ? rowTiles : s.columnTiles == 1 ? 1 : 2;
  s.decoding = s.columnTiles == 1 && s.rowTiles == 1 && s.words >= 2
                   ? SignDecoding::BitClasses
                   : SignDecoding::ShiftedPairs;
  s.bitClasses = bitClasses;
  s.loadsAhead = loadsAhead;
  // Up to 16 input rows (decode), each lane loads its activations with its
  // sign words: one word per row and step, and that word's 32 inputs of
  // input rows g and 8 + g (16 activation registers each, per step ahead).
  if (directFragments && s.decoding == SignDecoding::ShiftedPairs &&
      s.columnTiles > 1 && s.columnTiles <= kMaxDirectColumnTiles) {
    s.directFragments = true;
    s.words = 1;
  }
  layOutBlocks(s, minGridSize);
  // The s8 schedule stages about 10 instructions per activation and block
  // more than the f16 one: it pays where a block's warps cover all of K
  // for rows of their own (no K split; docs/benchmarks.md).
  if (int8Activations && s.decoding == SignDecoding::BitClasses &&
      s.kSplit == 1 && s.passRows * kActivationDigits <= kTileColumns) {
    MmaShape digits = s;
    digits.decoding = SignDecoding::ByteClasses;
    digits.stagedRows = digits.filledRows();
    layOutBlocks(digits, minGridSize);
    if (digits.kSplit == 1)
      s = digits;
  }
  return s;
}

bool mlir::onebit::isSignMmaCandidate(Type elementType, int64_t inFeatures,
                                      SignPackingAttr packing) {
  return elementType.isF16() && inFeatures % 128 == 0 &&
         packing.getWord() == 8 && packing.getOrder() == BitOrder::LSBFirst &&
         packing.getInterleave() == 1;
}
