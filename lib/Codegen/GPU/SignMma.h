//===- SignMma.h - the shape of onebit-gpu-sign-mma's kernel ---*- C++ -*-===//
//
// What the tensor-core kernel's builders share (SignMmaKernel.cpp,
// SignMmaShape.cpp, SignMmaStaging.cpp, and SignMmaDigits.cpp for the s8
// schedule): the kernel's shape, how sign bits
// become A operands, where the staged activations live, and the lane's
// context.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_CONVERSION_ONEBITTOGPU_SIGNMMA_H
#define ONEBIT_LIB_CONVERSION_ONEBITTOGPU_SIGNMMA_H

#include "ElementwiseFolds.h"
#include "KernelBuilding.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::onebit::sign_mma {

/// Output rows and input rows of one mma (m16n8k16 and m16n8k32).
constexpr int64_t kTileRows = 16;
constexpr int64_t kTileColumns = 8;
constexpr int64_t kWarpsPerBlock = 4;
constexpr int64_t kBlockSize = kWarpsPerBlock * kWarpSize;
/// Lanes that share one output row of a tile (t = lane % 4).
constexpr int64_t kLanesPerRow = 4;
/// Most input-row tiles per pass: 32 rows of activations.
constexpr int64_t kMaxColumnTiles = 4;
/// The static workgroup memory limit of every architecture we target.
constexpr int64_t kMaxWorkgroupBytes = 48 * 1024;
/// ByteClasses: int8 digits per activation, most significant first, and
/// the largest magnitude a staged activation is scaled to: below 2^22 (by
/// a margin for the rounding of the scale), so that adding 1.5 * 2^23
/// rounds it to an integer in the f32's significand.
constexpr int64_t kActivationDigits = 3;
constexpr int64_t kDigitScale = (1 << 22) - 64;
/// ByteClasses: most activations a thread holds while the block finds each
/// row's largest magnitude.
constexpr int64_t kMaxHeldActivations = 96;
/// Direct fragments: most input-row tiles (each lane holds 16 activations
/// per tile, word and step in flight).
constexpr int64_t kMaxDirectColumnTiles = 2;

/// The shape of one tensor-core kernel: a GPUSignMmaScheduleAttr with what
/// follows from it and the product's sizes.
struct MmaShape {
  int64_t rows;        // M, input rows
  int64_t inFeatures;  // K
  int64_t outFeatures; // N
  int64_t passRows;    // input rows per block (grid y walks passes)
  int64_t stagedRows;  // staged rows of B: passRows rounded up to a power
                       // of two (padding), or its digit columns
  int64_t columnTiles; // mma tiles of 8 input rows per pass
  int64_t passes;
  int64_t words;    // 32-bit sign words per lane, row and step
  int64_t rowTiles; // tiles of 16 output rows per warp
  int64_t kSplit;   // warps of a block that share rows, splitting K
  int64_t chunk;    // inputs staged at a time
  int64_t gridSize; // blocks in x
  SignDecoding decoding;
  int64_t bitClasses; // BitClasses: C, a power of two from 2 to 16
  int64_t loadsAhead; // steps whose sign words are in flight
  /// ShiftedPairs: each lane loads its B fragments from x in global memory
  /// with the sign words, instead of the block staging x in workgroup
  /// memory: no chunks, no barriers.
  bool directFragments = false;

  bool usesDigits() const { return decoding == SignDecoding::ByteClasses; }
  /// Inputs of one mma.
  int64_t tileInputs() const { return usesDigits() ? 32 : 16; }

  /// BitClasses: the shift (a multiple of C) that moves bit `bit` (0..15)
  /// of a half-word into the classes, and the accumulator of its class.
  int64_t getClassShift(int64_t bit) const {
    return (15 - bit) / bitClasses * bitClasses;
  }
  int64_t getClassAccumulator(int64_t bit) const {
    return bit + getClassShift(bit) - (16 - bitClasses);
  }

  int64_t rowWarps() const { return kWarpsPerBlock / kSplit; }
  int64_t tilesPerBlock() const { return rowWarps() * rowTiles; }
  /// Inputs one warp covers per step: 4 lanes of W words.
  int64_t stepInputs() const { return kLanesPerRow * 32 * words; }
  int64_t chunks() const { return llvm::divideCeil(inFeatures, chunk); }
  /// Staged rows that hold data: the others are padding.
  int64_t filledRows() const {
    return usesDigits() ? passRows * kActivationDigits : passRows;
  }
  /// Staged 8-byte units per block (a lane's words of one step, all
  /// staged rows), with the padding against bank conflicts: 4 f16 inputs
  /// of a row, or 8 digits (4 of each of two words).
  int64_t stagedBlockUnits() const {
    return (usesDigits() ? 4 : 8) * words * stagedRows + getBlockPadding();
  }
  /// One staged f16 row: an even padding keeps the units of every block
  /// 16-byte aligned, so that a lane reads two fragments at once. Digits:
  /// 4 units put the 4 lanes t of a fragment load in distinct banks.
  int64_t getBlockPadding() const {
    if (usesDigits())
      return 4;
    return stagedRows == 1 ? 2 : std::min<int64_t>(stagedRows, 8);
  }
  int64_t stagedHalves() const {
    return chunk / (32 * words) * stagedBlockUnits() * 4;
  }
  /// BitClasses: the sums of each warp's staged inputs per row. ByteClasses:
  /// the i32 sums of each warp's digits per column, and each warp's largest
  /// magnitude per row.
  int64_t rowSumsBytes() const {
    switch (decoding) {
    case SignDecoding::BitClasses:
      return kWarpsPerBlock * stagedRows * 4;
    case SignDecoding::ByteClasses:
      return kWarpsPerBlock * (stagedRows + passRows) * 4;
    case SignDecoding::ShiftedPairs:
      return 0;
    }
    llvm_unreachable("unknown decoding");
  }
  /// K split: the sums the other warps hand to the first.
  int64_t partialsBytes() const {
    return (kSplit - 1) * rowWarps() * kWarpSize * laneSums() * 4;
  }
  /// The mma accumulators a lane carries through the steps.
  int64_t accumulators() const {
    switch (decoding) {
    case SignDecoding::BitClasses:
      return bitClasses;
    case SignDecoding::ByteClasses:
      return 8;
    case SignDecoding::ShiftedPairs:
      return rowTiles * columnTiles;
    }
    llvm_unreachable("unknown decoding");
  }
  /// Sums each lane stores: 4 per tile of 16 x 8.
  int64_t laneSums() const { return rowTiles * columnTiles * 4; }
};

/// The kernel's work between the lane's index values and its sums.
struct LaneContext {
  Value staged, rowSums, rowMaxima, thread, lane, g, t, kPart, firstRow;
  SmallVector<Value> rowOffsets;   // words of rows g, g + 8 of each tile
  SmallVector<Value> fragmentRows; // staged row of each input-row tile
};

Value minIndex(ImplicitLocOpBuilder &b, Value value, int64_t bound);
Value lessThan(ImplicitLocOpBuilder &b, Value value, int64_t bound);
Value mulAdd(ImplicitLocOpBuilder &b, Value value, int64_t factor,
             Value addend);

/// Where the 4 halves of 8-byte unit `unit` of staged row `row` start.
/// The units of a lane's words in one step form a block (`block` = step *
/// 4 + t, `unit` counted within it), row-innermost. Blocks are padded
/// (getBlockPadding) so that the 4 lanes t of a row, which read the same
/// unit of consecutive blocks together, hit different banks.
Value getStagedOffset(ImplicitLocOpBuilder &b, const MmaShape &s, Value block,
                      Value unit, Value row);

/// The n x (32 / width) vector an mma operand is, from n i32 registers of
/// `elementType` (f16 pairs, i8 quadruples): bitcasts and inserts, which
/// the LLVM lowering of GPU kernels takes (unlike multi-dimensional shape
/// casts).
Value buildOperand(ImplicitLocOpBuilder &b, ArrayRef<Value> registers,
                   Type elementType);

/// The B operands (of `elementType`) of a lane for `count` consecutive units
/// from `unit` of `block`, staged row `row` (clamped: lanes past the filled
/// rows compute columns nobody stores), with one load: 8 bytes each. Two
/// units are adjacent only with one staged row.
SmallVector<Value> loadFragments(ImplicitLocOpBuilder &b, const MmaShape &s,
                                 Value staged, Value block, int64_t unit,
                                 Value row, Type elementType,
                                 int64_t count = 1);

/// Stages inputs [chunkStart, chunkStart + chunk) of the pass's input rows
/// in workgroup memory (zeros past M or K) as pairs of inputs (j, j + 16)
/// of a word. A thread stages 8 pairs per slot with vector loads (thread i
/// pairs 8 (i % 2) and up of word i / 2), the prologue evaluated on vectors
/// (canLoadActivations), or else one pair (thread i pair i % 16 of word
/// i / 16: coalesced loads, through the scalar prologue). Rows go in
/// groups; each iteration of a group loads the slots of every row of the
/// group before it stores them, so that many loads are in flight. For
/// BitClasses, also the sums over each row's inputs whose sign bit is not
/// a sign-bit class (the inputs of the masked classes), one per warp and
/// row in `rowSums`.
void stageActivations(ImplicitLocOpBuilder &b, const MmaShape &s,
                      const ProductFolds &folds, Value x, Value staged,
                      Value rowSums, Value thread, Value firstRow,
                      Value chunkStart);

/// What onebit-gpu-select-schedules' options say about the tensor-core
/// kernel's schedules.
struct MmaOptions {
  int64_t rowTiles;    // 0: chosen by the input rows
  int64_t minGridSize; // fewest blocks before the warps split K
  int64_t bitClasses;
  int64_t loadsAhead;
  bool int8Activations;
  bool directFragments;
};

/// The schedule onebit-gpu-select-schedules records for a product of
/// `sizes`, or null where the tensor-core kernel does not compute it.
GPUSignMmaScheduleAttr selectSchedule(MLIRContext *context,
                                      const ProductSizes &sizes,
                                      const MmaOptions &options);

/// The kernel's shape for a product of `sizes` under `schedule`, or failure
/// (reported through `emitError`) where the product cannot take it.
FailureOr<MmaShape>
getShape(const ProductSizes &sizes, GPUSignMmaScheduleAttr schedule,
         llvm::function_ref<InFlightDiagnostic()> emitError);

/// ByteClasses: stages inputs [chunkStart, chunkStart + chunk) of the pass's
/// input rows as digits (zeros past M or K), with each warp's digit sums per
/// column in `c.rowSums`; returns each pass row's scale (what a digit-0
/// unit is worth).
SmallVector<Value> stageDigits(ImplicitLocOpBuilder &b, const MmaShape &s,
                               const ProductFolds &folds, Value x,
                               const LaneContext &c, Value chunkStart);

/// ByteClasses: one step's mmas, for each pair of words and each bit q of
/// a byte, into accumulator q.
void buildByteClassesStep(ImplicitLocOpBuilder &b, const MmaShape &s,
                          const LaneContext &c, Value block,
                          ArrayRef<Value> loaded, SmallVectorImpl<Value> &acc);

/// ByteClasses (never with a K split): the lane's 4 f32 sums of one chunk
/// from its 8 class accumulators, the chunk's digit sums of the lane's two
/// columns and the rows' scales: digits combined
/// across the lanes that hold them, so that element e holds input row
/// 2t + e % 2 as in the f16 schedules.
SmallVector<Value> combineByteClasses(ImplicitLocOpBuilder &b,
                                      const MmaShape &s, const LaneContext &c,
                                      ArrayRef<Value> acc,
                                      ArrayRef<Value> columnSums,
                                      ArrayRef<Value> scales,
                                      bool negativeIsOne);

} // namespace mlir::onebit::sign_mma

#endif // ONEBIT_LIB_CONVERSION_ONEBITTOGPU_SIGNMMA_H
