//===- SignMmaKernel.cpp - the tensor-core kernel of onebit.linear --------===//
//
// onebit-gpu-sign-mma: the packed-sign products whose schedule is a
// #onebit.gpu_sign_mma_schedule (onebit-gpu-select-schedules) become one
// gpu.launch whose warps multiply on the tensor cores (nvgpu.mma.sync
// m16n8k16, f32 accumulators):
//
// - The signs are the A operand: 16 output rows by 16 inputs per mma. Lane
//   (g, t) of a warp (g = lane / 4, t = lane % 4) loads W 32-bit words of
//   rows g and g + 8 of its tile per step, the four lanes of a row a
//   contiguous run of 16 W bytes. A weight is never a float in memory:
//   the schedule's decoding says how sign bits become operands in
//   registers (OneBitAttrs.td).
// - A dot product does not depend on the order of its terms, so the 16
//   "k" positions of an mma are whichever inputs the lanes hold. The
//   activations (the B operand, 16 inputs by 8 input rows) are staged in
//   workgroup memory in that order, inputs j and j + 16 of every 32
//   adjacent side by side: a lane's B fragment is one 8-byte load.
// - Input rows come in tiles of 8 (grid y walks passes of up to 32 rows,
//   for prefill); output rows in tiles of 16, `row_tiles` per warp, 4 warps
//   per block. With `k_split`, the block's warps split K instead and add
//   their sums in workgroup memory.
// - The x * g before and the * h, cast after are evaluated where the
//   kernel loads and stores (ElementwiseFolds.h).
// - Wide layers with up to 2 input rows run on the s8 tensor cores
//   instead, the activations staged as int8 digits (SignMmaDigits.cpp).
//
// Over 600 lines: the one kernel skeleton (loads ahead, K split, sums,
// stores) with the step bodies of its three decodings, which share it; the
// schedule, the staging and the digits live in files of their own.
//
//===----------------------------------------------------------------------===//

#include "SignMma.h"
#include "onebit/Codegen/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <cmath>

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITGPUSIGNMMA
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::sign_mma;

/// The f16 value of the bit pattern with only bit `q` (< 15) set.
static float getBitClassScale(int64_t q) {
  if (q < 10)
    return std::ldexp(1.0f, q - 24); // subnormal
  return std::ldexp(1.0f, (1 << (q - 10)) - 15);
}

namespace {

/// The f16 pair of ±1 of bits p and p + 16 of `word` as an i32:
/// `(word << (15 - p)) & 0x80008000` is both sign bits, and the xor with
/// the pair of 1.0 (or of -1.0 when bit 1 means +1) gives the values.
Value decodePair(ImplicitLocOpBuilder &b, Value word, int64_t p,
                 bool negativeIsOne) {
  Value shifted = p == 15 ? word
                          : arith::ShLIOp::create(b, word, constI32(b, 15 - p));
  Value signs = arith::AndIOp::create(b, shifted, constI32(b, 0x80008000u));
  return arith::XOrIOp::create(
      b, signs, constI32(b, negativeIsOne ? 0x3C003C00u : 0xBC00BC00u));
}

/// Bits q and q + 16 of `word` in place (BitClasses).
Value maskPair(ImplicitLocOpBuilder &b, Value word, int64_t q,
               bool negativeIsOne) {
  if (q == 15)
    return decodePair(b, word, q, negativeIsOne);
  return arith::AndIOp::create(b, word,
                               constI32(b, (1u << q) | (1u << (q + 16))));
}
/// `initial` plus every warp's sum (`c.rowSums`, f32 or i32) of the lane's
/// column 2t + i (clamped to the filled rows).
Value addColumnSums(ImplicitLocOpBuilder &b, const MmaShape &s,
                    const LaneContext &c, int64_t i, Value initial) {
  Value column = minIndex(b, mulAdd(b, c.t, 2, constIndex(b, i)),
                          s.filledRows() - 1);
  Value sum = initial;
  for (int64_t w = 0; w < kWarpsPerBlock; ++w) {
    Value partial = memref::LoadOp::create(
        b, c.rowSums, ValueRange{constIndex(b, w), column});
    sum = isa<FloatType>(sum.getType())
              ? arith::AddFOp::create(b, sum, partial).getResult()
              : arith::AddIOp::create(b, sum, partial).getResult();
  }
  return sum;
}

/// One step's mmas (ShiftedPairs): for each word and pair (p, p + 1) the
/// B fragments of every input-row tile (`getFragment(col, word, p / 2)`:
/// inputs p, p + 16, p + 1, p + 17 of the word) and the A operand of every
/// output tile, each reused across the other.
void buildShiftedPairsStep(
    ImplicitLocOpBuilder &b, const MmaShape &s, ArrayRef<Value> loaded,
    bool negativeIsOne,
    function_ref<Value(int64_t col, int64_t j, int64_t pairs)> getFragment,
    SmallVectorImpl<Value> &acc) {
  for (int64_t j = 0; j < s.words; ++j) {
    SmallVector<Value> rowWords; // [row tile][g, g + 8]
    for (Value vector : loaded)
      rowWords.push_back(
          vector::ExtractOp::create(b, vector, ArrayRef<int64_t>{j}));
    for (int64_t pairs = 0; pairs < 8; ++pairs) {
      int64_t p = 2 * pairs;
      SmallVector<Value> fragments;
      for (int64_t col = 0; col < s.columnTiles; ++col)
        fragments.push_back(getFragment(col, j, pairs));
      for (int64_t r = 0; r < s.rowTiles; ++r) {
        // A: rows g, g + 8 at inputs (p, p + 16), then (p + 1, p + 17).
        Value low = rowWords[2 * r], high = rowWords[2 * r + 1];
        Value a = buildOperand(b,
                               {decodePair(b, low, p, negativeIsOne),
                                decodePair(b, high, p, negativeIsOne),
                                decodePair(b, low, p + 1, negativeIsOne),
                                decodePair(b, high, p + 1, negativeIsOne)},
                               b.getF16Type());
        for (int64_t col = 0; col < s.columnTiles; ++col) {
          Value &sum = acc[r * s.columnTiles + col];
          sum = nvgpu::MmaSyncOp::create(
              b, a, fragments[col], sum,
              ArrayRef<int64_t>{kTileRows, kTileColumns, s.tileInputs()});
        }
      }
    }
  }
}

/// Direct fragments: the activations a lane loads per input-row tile and
/// word, 4 vectors of 8 (the word's 32 inputs of input row g of the tile).
constexpr int64_t kDirectLoadsPerWord = 4;
constexpr int64_t kDirectLoadWidth = 8;

/// Direct fragments: the lane's activations of `word` (its inputs 32 word
/// to 32 word + 31) for input row g of every input-row tile, tile-major.
SmallVector<Value> loadDirectActivations(ImplicitLocOpBuilder &b,
                                         const MmaShape &s,
                                         const ProductFolds &folds, Value x,
                                         const LaneContext &c, Value word) {
  SmallVector<Value> loaded;
  Value first = arith::MulIOp::create(b, word, constIndex(b, 32));
  for (int64_t col = 0; col < s.columnTiles; ++col) {
    Value m = minIndex(
        b, arith::AddIOp::create(b, c.firstRow, c.fragmentRows[col]),
        s.rows - 1);
    for (int64_t i = 0; i < kDirectLoadsPerWord; ++i)
      loaded.push_back(loadActivations(
          b, folds, x, m,
          arith::AddIOp::create(b, first,
                                constIndex(b, i * kDirectLoadWidth)),
          s.inFeatures, kDirectLoadWidth));
  }
  return loaded;
}

/// Direct fragments: the B fragment of input-row tile `col`, word `j` and
/// pair (p, p + 1), p = 2 pairs, from the loaded activations (W words of
/// loadDirectActivations): inputs p and p + 16, then p + 1 and p + 17.
Value getDirectFragment(ImplicitLocOpBuilder &b, const MmaShape &s,
                        ArrayRef<Value> activations, int64_t col, int64_t j,
                        int64_t pairs) {
  int64_t p = 2 * pairs;
  auto getVector = [&](int64_t input) {
    return activations[(j * s.columnTiles + col) * kDirectLoadsPerWord +
                       input / kDirectLoadWidth];
  };
  auto fragmentType = VectorType::get({2, 2}, b.getF16Type());
  Value fragment = ub::PoisonOp::create(b, fragmentType);
  for (int64_t i = 0; i < 2; ++i) {
    int64_t at = (p + i) % kDirectLoadWidth;
    Value pair = vector::ShuffleOp::create(
        b, getVector(p + i), getVector(p + i + 16),
        ArrayRef<int64_t>{at, kDirectLoadWidth + at});
    fragment =
        vector::InsertOp::create(b, pair, fragment, ArrayRef<int64_t>{i});
  }
  return fragment;
}

/// One step's mmas (BitClasses): for each pair of words and each bit,
/// one mma into the accumulator of the class the bit is shifted into.
void buildBitClassesStep(ImplicitLocOpBuilder &b, const MmaShape &s,
                         const LaneContext &c, Value block,
                         ArrayRef<Value> loaded, bool negativeIsOne,
                         SmallVectorImpl<Value> &acc) {
  for (int64_t jp = 0; jp < s.words / 2; ++jp) {
    // The words of rows g, g + 8 (even word, then odd), by shift.
    DenseMap<int64_t, SmallVector<Value>> shiftedWords;
    auto getWords = [&](int64_t shift) -> ArrayRef<Value> {
      SmallVector<Value> &words = shiftedWords[shift];
      if (words.empty())
        for (int64_t j = 0; j < 2; ++j)
          for (int64_t half = 0; half < 2; ++half) {
            Value word = vector::ExtractOp::create(
                b, loaded[half], ArrayRef<int64_t>{2 * jp + j});
            words.push_back(shift == 0 ? word
                                       : arith::ShLIOp::create(
                                             b, word, constI32(b, shift)));
          }
      return words;
    };
    // With one staged row, the fragments of two bits come in one load.
    int64_t perLoad = s.stagedRows == 1 ? 2 : 1;
    SmallVector<Value> fragments;
    for (int64_t bit = 0; bit < 16; ++bit) {
      if (bit % perLoad == 0)
        fragments = loadFragments(b, s, c.staged, block, 16 * jp + bit,
                                  c.fragmentRows[0], b.getF16Type(), perLoad);
      Value fragment = fragments[bit % perLoad];
      int64_t shift = s.getClassShift(bit);
      ArrayRef<Value> words = getWords(shift);
      SmallVector<Value> registers;
      for (Value word : words)
        registers.push_back(maskPair(b, word, bit + shift, negativeIsOne));
      Value &sum = acc[s.getClassAccumulator(bit)];
      sum = nvgpu::MmaSyncOp::create(
          b, buildOperand(b, registers, b.getF16Type()), fragment, sum,
          ArrayRef<int64_t>{kTileRows, kTileColumns, s.tileInputs()});
    }
  }
}

/// The lane's 4 sums from the C class accumulators of bits 16 - C to 15
/// (BitClasses): sum(±x) = acc15 + σ (S - 2 sum_q acc_q / c_q), S the sum
/// of the inputs of the masked classes (only the first warp of a K split
/// adds it), σ = 1 when bit 1 means -1.
SmallVector<Value> combineBitClasses(ImplicitLocOpBuilder &b,
                                     ArrayRef<Value> acc,
                                     ArrayRef<Value> columnSums, Value kPart,
                                     bool negativeIsOne) {
  int64_t firstClass = 16 - static_cast<int64_t>(acc.size());
  Value zero = arith::ConstantOp::create(b, b.getF32FloatAttr(0.0f));
  Value firstPart = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, kPart,
                                          constIndex(b, 0));
  SmallVector<Value> sums;
  for (int64_t e = 0; e < 4; ++e) {
    auto element = [&](Value vector) -> Value {
      return vector::ExtractOp::create(b, vector,
                                       ArrayRef<int64_t>{e / 2, e % 2});
    };
    Value ones;
    for (int64_t q = firstClass; q < 15; ++q) {
      Value scaled = arith::MulFOp::create(
          b, element(acc[q - firstClass]),
          arith::ConstantOp::create(
              b, b.getF32FloatAttr(1.0f / getBitClassScale(q))));
      ones = ones ? arith::AddFOp::create(b, ones, scaled).getResult() : scaled;
    }
    Value total = arith::SelectOp::create(b, firstPart, columnSums[e % 2], zero);
    Value signed_ = arith::SubFOp::create(
        b, total,
        arith::MulFOp::create(
            b, ones, arith::ConstantOp::create(b, b.getF32FloatAttr(2.0f))));
    if (!negativeIsOne)
      signed_ = arith::NegFOp::create(b, signed_);
    sums.push_back(arith::AddFOp::create(b, element(acc.back()), signed_));
  }
  return sums;
}

/// Replaces the scheduled product `product` (x [M, K] f16, signs [N, K/8] i8
/// -> y [M, N] f32, accumulated onto y) by the tensor-core kernel.
void buildKernel(PackedSignProductOp product, const MmaShape &s,
                 bool negativeIsOne) {
  ImplicitLocOpBuilder b(product.getLoc(), product);
  Value x = product.getInput();
  Value signs = product.getSigns();
  Value y = product.getInit();
  int64_t wordsPerRow = s.inFeatures / 32;
  bool classes = s.decoding == SignDecoding::BitClasses;
  bool digits = s.usesDigits();
  // With more than 8 input rows (prefill), the blocks of a row range would
  // evaluate the prologue for every element over and over: it stays a
  // kernel of its own, and the blocks stage x with vector loads.
  ProductFolds folds =
      collectProductFolds(product, /*foldPrologue=*/s.columnTiles == 1);

  // The sign bytes as 32-bit words: one vector load per row and lane.
  Value flat = memref::CollapseShapeOp::create(
      b, signs, SmallVector<ReassociationIndices>{{0, 1}});
  auto wordType =
      MemRefType::get({s.outFeatures * wordsPerRow}, b.getI32Type());
  Value words = memref::ViewOp::create(b, wordType, flat, constIndex(b, 0),
                                       ValueRange{});

  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                              gpu::AddressSpace::Workgroup);
  auto workgroupBuffer = [&](ArrayRef<int64_t> shape, Type type) {
    return MemRefType::get(shape, type, MemRefLayoutAttrInterface(),
                           workgroup);
  };
  SmallVector<Type> workgroupTypes;
  if (!s.directFragments)
    workgroupTypes.push_back(
        workgroupBuffer({s.stagedHalves()}, b.getF16Type()));
  if (classes)
    workgroupTypes.push_back(
        workgroupBuffer({kWarpsPerBlock, s.stagedRows}, b.getF32Type()));
  if (digits) {
    workgroupTypes.push_back(
        workgroupBuffer({kWarpsPerBlock, s.stagedRows}, b.getI32Type()));
    workgroupTypes.push_back(
        workgroupBuffer({kWarpsPerBlock, s.passRows}, b.getF32Type()));
  }
  if (s.kSplit > 1)
    workgroupTypes.push_back(workgroupBuffer(
        {(s.kSplit - 1) * s.rowWarps() * onebit::kWarpSize, s.laneSums()},
        b.getF32Type()));
  auto launch = createNamedLaunch(b, "onebit_sign_mma",
                                  constIndex(b, s.gridSize),
                                  constIndex(b, s.passes),
                                  constIndex(b, kBlockSize), workgroupTypes);
  Value one = constIndex(b, 1);
  ArrayRef<BlockArgument> attributions = launch.getWorkgroupAttributions();

  LaneContext c;
  if (!s.directFragments)
    c.staged = attributions[0];
  c.rowSums = classes || digits ? Value(attributions[1]) : Value();
  c.rowMaxima = digits ? Value(attributions[2]) : Value();
  c.thread = launch.getThreadIds().x;
  Value warp =
      arith::DivUIOp::create(b, c.thread, constIndex(b, onebit::kWarpSize));
  c.lane =
      arith::RemUIOp::create(b, c.thread, constIndex(b, onebit::kWarpSize));
  c.g = arith::DivUIOp::create(b, c.lane, constIndex(b, kLanesPerRow));
  c.t = arith::RemUIOp::create(b, c.lane, constIndex(b, kLanesPerRow));
  c.kPart = arith::RemUIOp::create(b, warp, constIndex(b, s.kSplit));
  Value rowWarp = arith::DivUIOp::create(b, warp, constIndex(b, s.kSplit));
  c.firstRow = arith::MulIOp::create(b, launch.getBlockIds().y,
                                     constIndex(b, s.passRows));
  Value firstTile =
      mulAdd(b, launch.getBlockIds().x, s.tilesPerBlock(),
             arith::MulIOp::create(b, rowWarp, constIndex(b, s.rowTiles)));
  // Output rows g and g + 8 of each tile (rows past N read row N - 1, a
  // valid address, and are never stored), as offsets of their words.
  SmallVector<Value> outRows;
  for (int64_t r = 0; r < s.rowTiles; ++r) {
    Value row = mulAdd(b, arith::AddIOp::create(b, firstTile, constIndex(b, r)),
                       kTileRows, c.g);
    for (int64_t half = 0; half < 2; ++half) {
      Value n = arith::AddIOp::create(b, row, constIndex(b, 8 * half));
      outRows.push_back(n);
      c.rowOffsets.push_back(arith::MulIOp::create(
          b, minIndex(b, n, s.outFeatures - 1), constIndex(b, wordsPerRow)));
    }
  }

  for (int64_t col = 0; col < s.columnTiles; ++col)
    c.fragmentRows.push_back(
        arith::AddIOp::create(b, c.g, constIndex(b, col * kTileColumns)));

  auto accType = VectorType::get({2, 2}, b.getF32Type());
  Value zeroAcc = arith::ConstantOp::create(
      b, accType, DenseElementsAttr::get(accType, b.getF32FloatAttr(0.0f)));
  Value zero = arith::ConstantOp::create(b, b.getF32FloatAttr(0.0f));
  // The chunks carry the accumulators, or (ByteClasses, whose i32 sums each
  // chunk scales) the lane's f32 sums.
  SmallVector<Value> init(s.accumulators(), zeroAcc);
  if (digits)
    init.assign(s.laneSums(), zero);
  // BitClasses: the lane's running sums S of input rows 2t and 2t + 1.
  if (classes)
    init.append(2, zero);
  auto chunkLoop = scf::ForOp::create(b, constIndex(b, 0),
                                      constIndex(b, s.chunks()), one, init);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(chunkLoop.getBody());
    Value chunkStart = arith::MulIOp::create(b, chunkLoop.getInductionVar(),
                                             constIndex(b, s.chunk));
    // Steps of this chunk (the last chunk may be shorter); warp kPart takes
    // steps kPart, kPart + kSplit, ...
    Value chunkInputs = arith::MinUIOp::create(
        b, constIndex(b, s.chunk),
        arith::SubIOp::create(b, constIndex(b, s.inFeatures), chunkStart));
    Value steps = arith::DivUIOp::create(b, chunkInputs,
                                         constIndex(b, s.stepInputs()));
    Value lastStep = arith::SubIOp::create(b, steps, one);
    Value chunkWord = arith::DivUIOp::create(b, chunkStart, constIndex(b, 32));
    auto vectorType = VectorType::get({s.words}, b.getI32Type());
    // The lane's first word of `step` within the chunk.
    auto getStepWord = [&](Value step) -> Value {
      return mulAdd(b, step, kLanesPerRow * s.words,
                    arith::MulIOp::create(b, c.t, constIndex(b, s.words)));
    };
    // This lane's words of every row at `step` (clamped to the chunk),
    // and with direct fragments its activations of those words.
    auto loadStep = [&](Value step) {
      Value word = arith::AddIOp::create(
          b, chunkWord,
          getStepWord(arith::MinUIOp::create(b, step, lastStep)));
      SmallVector<Value> loaded;
      for (Value rowOffset : c.rowOffsets)
        loaded.push_back(vector::LoadOp::create(
            b, vectorType, words,
            ValueRange{arith::AddIOp::create(b, rowOffset, word)},
            /*nontemporal=*/false, /*alignment=*/llvm::MaybeAlign(4 * s.words)));
      if (s.directFragments)
        for (int64_t j = 0; j < s.words; ++j)
          llvm::append_range(
              loaded,
              loadDirectActivations(
                  b, s, folds, x, c,
                  arith::AddIOp::create(b, word, constIndex(b, j))));
      return loaded;
    };
    // Software pipelining: the words of the next loadsAhead steps are in
    // flight while a step computes. With a single chunk the first ones load
    // while the block stages the activations (they do not depend on them);
    // with several, that measured slower (more registers live in staging).
    SmallVector<Value> scales; // ByteClasses: of the chunk's rows
    auto stage = [&] {
      if (s.directFragments)
        return;
      // The previous chunk's fragments are read by every warp before any
      // thread overwrites them.
      gpu::BarrierOp::create(b);
      if (digits)
        scales = stageDigits(b, s, folds, x, c, chunkStart);
      else
        stageActivations(b, s, folds, x, c.staged, c.rowSums, c.thread,
                         c.firstRow, chunkStart);
      gpu::BarrierOp::create(b);
    };
    bool loadFirst = s.chunks() == 1;
    if (!loadFirst)
      stage();
    SmallVector<Value> iterArgs(
        chunkLoop.getRegionIterArgs().take_front(s.accumulators()));
    if (digits) {
      auto intAccType = VectorType::get({2, 2}, b.getI32Type());
      iterArgs.assign(s.accumulators(),
                      arith::ConstantOp::create(
                          b, intAccType,
                          DenseElementsAttr::get(intAccType,
                                                 b.getI32IntegerAttr(0))));
    }
    for (int64_t ahead = 0; ahead < s.loadsAhead; ++ahead)
      llvm::append_range(iterArgs, loadStep(mulAdd(b, constIndex(b, ahead),
                                                   s.kSplit, c.kPart)));
    if (loadFirst)
      stage();
    SmallVector<Value> columnSums;
    if (classes)
      for (int64_t i = 0; i < 2; ++i)
        columnSums.push_back(addColumnSums(
            b, s, c, i, chunkLoop.getRegionIterArgs()[s.accumulators() + i]));

    auto stepLoop = scf::ForOp::create(b, c.kPart, steps,
                                       constIndex(b, s.kSplit), iterArgs);
    b.setInsertionPointToStart(stepLoop.getBody());
    Value step = stepLoop.getInductionVar();
    ValueRange carried = stepLoop.getRegionIterArgs();
    SmallVector<Value> acc(carried.take_front(s.accumulators()));
    ValueRange inFlight = carried.drop_front(s.accumulators());
    int64_t perStep = inFlight.size() / s.loadsAhead;
    SmallVector<Value> loaded(inFlight.take_front(perStep));
    SmallVector<Value> next(inFlight.drop_front(perStep));
    llvm::append_range(
        next, loadStep(arith::AddIOp::create(
                           b, step, constIndex(b, s.loadsAhead * s.kSplit))
                           .getResult()));
    Value block = mulAdd(b, step, kLanesPerRow, c.t);
    if (classes)
      buildBitClassesStep(b, s, c, block, loaded, negativeIsOne, acc);
    else if (digits)
      buildByteClassesStep(b, s, c, block, loaded, acc);
    else if (s.directFragments)
      buildShiftedPairsStep(
          b, s, ArrayRef<Value>(loaded).take_front(c.rowOffsets.size()),
          negativeIsOne,
          [&](int64_t col, int64_t j, int64_t pairs) {
            return getDirectFragment(
                b, s, ArrayRef<Value>(loaded).drop_front(c.rowOffsets.size()),
                col, j, pairs);
          },
          acc);
    else
      buildShiftedPairsStep(
          b, s, loaded, negativeIsOne,
          [&](int64_t col, int64_t j, int64_t pairs) {
            return loadFragments(b, s, c.staged, block, 8 * j + pairs,
                                 c.fragmentRows[col], b.getF16Type())
                .front();
          },
          acc);
    SmallVector<Value> yielded(acc);
    llvm::append_range(yielded, next);
    scf::YieldOp::create(b, yielded);
    b.setInsertionPointAfter(stepLoop);
    SmallVector<Value> results(
        stepLoop.getResults().take_front(s.accumulators()));
    if (digits) {
      // The chunk's digit sums of the lane's columns 2t and 2t + 1.
      for (int64_t i = 0; i < 2; ++i)
        columnSums.push_back(addColumnSums(b, s, c, i, constI32(b, 0)));
      SmallVector<Value> chunkSums = combineByteClasses(
          b, s, c, results, columnSums, scales, negativeIsOne);
      results.clear();
      for (auto [running, sum] :
           llvm::zip(chunkLoop.getRegionIterArgs(), chunkSums))
        results.push_back(arith::AddFOp::create(b, running, sum));
    } else {
      llvm::append_range(results, columnSums);
    }
    scf::YieldOp::create(b, results);
  }
  ValueRange results = chunkLoop.getResults();

  // Lane sums: element e of tile (r, col) is output row g + 8 (e / 2) of
  // tile r, input row 2t + e % 2 of input-row tile col.
  SmallVector<Value> sums;
  if (classes) {
    sums = combineBitClasses(
        b, llvm::to_vector(results.take_front(s.accumulators())),
        llvm::to_vector(results.drop_front(s.accumulators())), c.kPart,
        negativeIsOne);
  } else if (digits) {
    sums.assign(results.begin(), results.end());
  } else {
    for (Value vector : results)
      for (int64_t e = 0; e < 4; ++e)
        sums.push_back(vector::ExtractOp::create(
            b, vector, ArrayRef<int64_t>{e / 2, e % 2}));
  }

  // Warps that split K: all but the first hand their sums to it.
  Value storing = arith::ConstantIntOp::create(b, b.getI1Type(), 1);
  if (s.kSplit > 1) {
    Value partials = attributions.back();
    auto getSlot = [&](Value part) {
      return mulAdd(b, mulAdd(b, part, s.rowWarps(), rowWarp),
                    onebit::kWarpSize, c.lane);
    };
    storing = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, c.kPart,
                                    constIndex(b, 0));
    auto handOver = scf::IfOp::create(b, storing, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(handOver.elseBlock());
      Value slot = getSlot(arith::SubIOp::create(b, c.kPart, one));
      for (int64_t e = 0; e < s.laneSums(); ++e)
        memref::StoreOp::create(b, sums[e], partials,
                                ValueRange{slot, constIndex(b, e)});
    }
    gpu::BarrierOp::create(b);
    auto gather = scf::IfOp::create(b, TypeRange(ValueRange(sums)), storing,
                                    /*withElse=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(gather.thenBlock());
      SmallVector<Value> total(sums);
      for (int64_t part = 1; part < s.kSplit; ++part) {
        Value slot = getSlot(constIndex(b, part - 1));
        for (int64_t e = 0; e < s.laneSums(); ++e)
          total[e] = arith::AddFOp::create(
              b, total[e],
              memref::LoadOp::create(b, partials,
                                     ValueRange{slot, constIndex(b, e)}));
      }
      scf::YieldOp::create(b, total);
      b.setInsertionPointToStart(gather.elseBlock());
      scf::YieldOp::create(b, sums);
    }
    sums.assign(gather.getResults().begin(), gather.getResults().end());
  }

  Value pairColumn = arith::MulIOp::create(b, c.t, constIndex(b, 2));
  for (int64_t r = 0; r < s.rowTiles; ++r)
    for (int64_t col = 0; col < s.columnTiles; ++col)
      for (int64_t e = 0; e < 4; ++e) {
        Value n = outRows[2 * r + e / 2];
        Value m = arith::AddIOp::create(
            b, c.firstRow,
            arith::AddIOp::create(
                b, pairColumn, constIndex(b, col * kTileColumns + e % 2)));
        Value mine = arith::AndIOp::create(
            b, storing,
            arith::AndIOp::create(b, lessThan(b, n, s.outFeatures),
                                  lessThan(b, m, s.rows)));
        auto ifMine = scf::IfOp::create(b, mine, /*withElse=*/false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifMine.thenBlock());
        storeSum(b, folds, y, m, n, s.outFeatures,
                 sums[(r * s.columnTiles + col) * 4 + e]);
      }
  product.erase();
  eraseProductFolds(folds);
}

struct GPUSignMmaPass : onebit::impl::OneBitGPUSignMmaBase<GPUSignMmaPass> {
  void runOnOperation() override {
    if (failed(buildScheduledProducts(getOperation(), &getShape, &buildKernel)))
      signalPassFailure();
  }
};

} // namespace
