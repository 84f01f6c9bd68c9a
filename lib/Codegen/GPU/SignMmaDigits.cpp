//===- SignMmaDigits.cpp - the s8 schedule of onebit-gpu-sign-mma ---------===//
//
// ByteClasses (SignMma.h), the decode schedule for up to 2 input rows. A
// lane's sign word masked with 0x01010101 << q holds bit q of each of its
// bytes as the s8 2^q (or -128 for q = 7) or 0: four weights per AND, and
// an s8 mma (m16n8k32) takes twice the weights of an f16 one. Its byte i is
// input 8i + q of the word, so B register q of a word holds the digits of
// inputs q, 8 + q, 16 + q and 24 + q.
//
// The activations become integers per chunk: each input row is scaled so
// that its largest magnitude is kDigitScale (2^22 - 64), rounded, and split
// into 3 signed base-256 digits (-128..127), each a column of B. The
// rounding is the only error, 2^-23 of the row's largest magnitude: below
// the f16 rounding of x * g itself. The i32 sums are exact, so
// sum(±x) = σ(S - 2 sum_q acc_q / 2^q) per digit column (S the sum of the
// column's digits), and the digits combine to 256^2 d0 + 256 d1 + d2.
//
//===----------------------------------------------------------------------===//

#include "SignMma.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::sign_mma;

namespace {

/// A staging item is inputs (8i + 2p, 8i + 2p + 1), i = 0..3, of one word:
/// byte i of the B registers of classes 2p and 2p + 1. Four threads take
/// the four p of a word.
constexpr int64_t kItemPairs = 4;

/// The digit registers (most significant first) of four biased-digit
/// values: register d holds digit d of value i in byte i, xor 0x80. Seven
/// byte permutations: bytes 0 and 1 of two values at once, then merged.
std::array<Value, kActivationDigits> packDigits(ImplicitLocOpBuilder &b,
                                                ArrayRef<Value> values) {
  auto mode =
      NVVM::PermuteModeAttr::get(b.getContext(), NVVM::PermuteMode::DEFAULT);
  // Selector nibble j picks result byte j from the 8 bytes of (low, high).
  auto permute = [&](Value low, Value high, uint32_t selector) -> Value {
    return NVVM::PermuteOp::create(b, b.getI32Type(), low, high,
                                   constI32(b, selector), mode);
  };
  auto unbias = [&](Value packed) -> Value {
    return arith::XOrIOp::create(b, packed, constI32(b, 0x80808080u));
  };
  // [v0.b0, v1.b0, v0.b1, v1.b1] and [v0.b2, v1.b2, ...] of each pair.
  Value lowFirst = permute(values[0], values[1], 0x5140);
  Value lowSecond = permute(values[2], values[3], 0x5140);
  Value highFirst = permute(values[0], values[1], 0x0062);
  Value highSecond = permute(values[2], values[3], 0x0062);
  return {unbias(permute(highFirst, highSecond, 0x5410)),
          unbias(permute(lowFirst, lowSecond, 0x7632)),
          unbias(permute(lowFirst, lowSecond, 0x5410))};
}

/// The rounded `activations * inverse` (f32, magnitudes at most
/// kDigitScale) as biased digits: adding 1.5 * 2^23 rounds the product
/// (one fma) to an integer v held in the significand as 2^22 + v; the bits
/// minus those of 1.5 * 2^23, plus 0x808080, are v + 0x808080 = sum_j
/// (s_j + 128) 256^j, whose byte j is digit j of v (least significant
/// first, -128..127) xor 0x80.
Value getBiasedDigits(ImplicitLocOpBuilder &b, Value activations,
                      Value inverse) {
  auto type = cast<VectorType>(activations.getType());
  auto intType = VectorType::get(type.getShape(), b.getI32Type());
  Value rounder = arith::ConstantOp::create(
      b, type, DenseElementsAttr::get(type, b.getF32FloatAttr(0x1.8p23f)));
  Value rounded = math::FmaOp::create(
      b, activations, vector::BroadcastOp::create(b, type, inverse), rounder);
  int32_t bias = 0x808080 - 0x4B400000;
  return arith::AddIOp::create(
      b, arith::BitcastOp::create(b, intType, rounded),
      arith::ConstantOp::create(
          b, intType,
          DenseElementsAttr::get(intType, b.getI32IntegerAttr(bias))));
}

/// One thread's held activations of a staging item.
struct Item {
  int64_t row;   // within the pass
  Value word;    // within the chunk (clamped)
  Value counted; // false where a thread repeats the chunk's last word
  SmallVector<Value> pairs; // kItemPairs f16 pairs
};

} // namespace

SmallVector<Value> sign_mma::stageDigits(ImplicitLocOpBuilder &b,
                                         const MmaShape &s,
                                         const ProductFolds &folds, Value x,
                                         const LaneContext &c,
                                         Value chunkStart) {
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  auto pairType = VectorType::get({2}, b.getF16Type());
  bool vectorized = canLoadActivations(folds, 2);
  int64_t chunkWords = s.chunk / 32;
  int64_t items = llvm::divideCeil(chunkWords * kItemPairs, kBlockSize);
  Value pair = arith::RemUIOp::create(b, c.thread, constIndex(b, kItemPairs));
  Value firstWord =
      arith::DivUIOp::create(b, c.thread, constIndex(b, kItemPairs));
  Value warp = arith::DivUIOp::create(b, c.thread, constIndex(b, kWarpSize));
  Value leader = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, c.lane,
                                       constIndex(b, 0));
  Value zeroPair = arith::ConstantOp::create(
      b, pairType, DenseElementsAttr::get(pairType, b.getF16FloatAttr(0.0)));

  // All loads first, so that they are in flight together. A word past the
  // chunk repeats the last one: the same digits to the same place.
  SmallVector<Item> held;
  for (int64_t row = 0; row < s.passRows; ++row)
    for (int64_t round = 0; round < items; ++round) {
      Item item;
      item.row = row;
      Value word = mulAdd(b, constIndex(b, round), kBlockSize / kItemPairs,
                          firstWord);
      item.counted = lessThan(b, word, chunkWords);
      item.word = minIndex(b, word, chunkWords - 1);
      Value m = arith::AddIOp::create(b, c.firstRow, constIndex(b, row));
      Value wordStart = mulAdd(b, item.word, 32, chunkStart);
      Value inside = arith::AndIOp::create(
          b, lessThan(b, m, s.rows), lessThan(b, wordStart, s.inFeatures));
      Value safeM = minIndex(b, m, s.rows - 1);
      Value first = mulAdd(b, pair, 2,
                           minIndex(b, wordStart, s.inFeatures - 32));
      for (int64_t i = 0; i < kItemPairs; ++i) {
        Value k = arith::AddIOp::create(b, first, constIndex(b, 8 * i));
        Value values;
        if (vectorized) {
          values = loadActivations(b, folds, x, safeM, k, s.inFeatures, 2);
        } else {
          Value next = arith::AddIOp::create(b, k, constIndex(b, 1));
          values = vector::FromElementsOp::create(
              b, pairType,
              ValueRange{loadActivation(b, folds, x, safeM, k, s.inFeatures),
                         loadActivation(b, folds, x, safeM, next,
                                        s.inFeatures)});
        }
        item.pairs.push_back(
            arith::SelectOp::create(b, inside, values, zeroPair));
      }
      held.push_back(item);
    }

  // Each row's largest magnitude over the block; a NaN wins, so that the
  // row's sums are NaN as the f16 product's would be. (math.absf on f16
  // goes through f32; clearing the sign bits instead is fewer instructions
  // and registers, but measured slower: docs/benchmarks.md.)
  auto maximum = [&](Value lhs, Value rhs) -> Value {
    return arith::MaximumFOp::create(b, lhs, rhs);
  };
  for (int64_t row = 0; row < s.passRows; ++row) {
    Value largest = zeroPair;
    for (const Item &item : held)
      if (item.row == row)
        for (Value values : item.pairs)
          largest = maximum(largest, math::AbsFOp::create(b, values));
    Value rowLargest = arith::ExtFOp::create(
        b, f32,
        maximum(vector::ExtractOp::create(b, largest, ArrayRef<int64_t>{0}),
                vector::ExtractOp::create(b, largest, ArrayRef<int64_t>{1})));
    Value warpLargest = warpReduce(b, rowLargest, maximum);
    auto ifLeader = scf::IfOp::create(b, leader, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifLeader.thenBlock());
    memref::StoreOp::create(b, warpLargest, c.rowMaxima,
                            ValueRange{warp, constIndex(b, row)});
  }
  gpu::BarrierOp::create(b);
  SmallVector<Value> scales, inverses;
  Value zero = arith::ConstantOp::create(b, b.getF32FloatAttr(0.0f));
  Value digitScale = arith::ConstantOp::create(
      b, b.getF32FloatAttr(static_cast<float>(kDigitScale)));
  Value infinity = arith::ConstantOp::create(
      b, b.getF32FloatAttr(std::numeric_limits<float>::infinity()));
  Value notANumber = arith::ConstantOp::create(
      b, b.getF32FloatAttr(std::numeric_limits<float>::quiet_NaN()));
  for (int64_t row = 0; row < s.passRows; ++row) {
    Value largest;
    for (int64_t w = 0; w < kWarpsPerBlock; ++w) {
      Value warpLargest = memref::LoadOp::create(
          b, c.rowMaxima, ValueRange{constIndex(b, w), constIndex(b, row)});
      largest = largest ? maximum(largest, warpLargest) : warpLargest;
    }
    // A row of zeros (or a NaN) stages zeros. A NaN scale (from a NaN, or
    // for an infinity, whose digits would be those of inf * 0) makes the
    // row's sums NaN.
    Value positive = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT,
                                           largest, zero);
    inverses.push_back(arith::SelectOp::create(
        b, positive, arith::DivFOp::create(b, digitScale, largest), zero));
    Value infinite = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ,
                                           largest, infinity);
    scales.push_back(arith::SelectOp::create(
        b, infinite, notANumber, arith::DivFOp::create(b, largest, digitScale)));
  }

  // Digits, packed by class, stored and summed per column (a word past
  // the chunk adds nothing: its dp4a weights are zero).
  auto quadType = VectorType::get({4}, b.getI8Type());
  auto quad = [&](int8_t value) -> Value {
    return arith::ConstantOp::create(
        b, quadType,
        DenseElementsAttr::get(quadType, b.getI8IntegerAttr(value)));
  };
  Value ones = quad(1), zeros = quad(0);
  auto signedBytes = NVVM::DotAccumulateType::SIGNED;
  SmallVector<Value> columnSums(s.filledRows(), constI32(b, 0));
  Value two = constIndex(b, 2);
  for (const Item &item : held) {
    Value weights = arith::SelectOp::create(b, item.counted, ones, zeros);
    // biased[half][i]: the biased digits of input 8i + 2 pair + half.
    std::array<SmallVector<Value>, 2> biased;
    for (Value values : item.pairs) {
      Value digits = getBiasedDigits(
          b, arith::ExtFOp::create(b, VectorType::get({2}, f32), values),
          inverses[item.row]);
      for (int64_t half = 0; half < 2; ++half)
        biased[half].push_back(
            vector::ExtractOp::create(b, digits, ArrayRef<int64_t>{half}));
    }
    // Unit (word pair, q) of the block holds q of the even word, then q of
    // the odd one.
    Value block = arith::DivUIOp::create(b, item.word, constIndex(b, s.words));
    Value inBlock =
        arith::RemUIOp::create(b, item.word, constIndex(b, s.words));
    Value firstUnit = mulAdd(b, arith::DivUIOp::create(b, inBlock, two), 8,
                             arith::MulIOp::create(b, pair, two));
    Value halfOffset =
        arith::MulIOp::create(b, arith::RemUIOp::create(b, inBlock, two), two);
    for (int64_t half = 0; half < 2; ++half) {
      std::array<Value, kActivationDigits> packedDigits =
          packDigits(b, biased[half]);
      for (int64_t d = 0; d < kActivationDigits; ++d) {
        Value packed = packedDigits[d];
        int64_t column = item.row * kActivationDigits + d;
        Value offset = arith::AddIOp::create(
            b,
            getStagedOffset(
                b, s, block,
                arith::AddIOp::create(b, firstUnit, constIndex(b, half)),
                constIndex(b, column)),
            halfOffset);
        Value word = vector::BroadcastOp::create(
            b, VectorType::get({1}, i32), packed);
        vector::StoreOp::create(
            b, vector::BitCastOp::create(b, pairType, word), c.staged,
            ValueRange{offset}, /*nontemporal=*/false,
            /*alignment=*/llvm::MaybeAlign(4));
        columnSums[column] = NVVM::DotAccumulate4WayOp::create(
            b, i32, vector::BitCastOp::create(b, quadType, word), signedBytes,
            weights, signedBytes, columnSums[column]);
      }
    }
  }
  SmallVector<Value> warpSums;
  for (Value sum : columnSums)
    warpSums.push_back(warpReduce(b, sum, [&](Value lhs, Value rhs) -> Value {
      return arith::AddIOp::create(b, lhs, rhs);
    }));
  auto ifLeader = scf::IfOp::create(b, leader, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifLeader.thenBlock());
  for (auto [column, sum] : llvm::enumerate(warpSums))
    memref::StoreOp::create(b, sum, c.rowSums,
                            ValueRange{warp, constIndex(b, column)});
  b.setInsertionPointAfter(ifLeader);
  return scales;
}

void sign_mma::buildByteClassesStep(ImplicitLocOpBuilder &b, const MmaShape &s,
                                    const LaneContext &c, Value block,
                                    ArrayRef<Value> loaded,
                                    SmallVectorImpl<Value> &acc) {
  for (int64_t jp = 0; jp < s.words / 2; ++jp) {
    // A registers: rows g and g + 8 of the even word, then of the odd one.
    SmallVector<Value> words;
    for (int64_t j = 0; j < 2; ++j)
      for (Value rowWords : loaded)
        words.push_back(vector::ExtractOp::create(
            b, rowWords, ArrayRef<int64_t>{2 * jp + j}));
    for (int64_t q = 0; q < 8; ++q) {
      Value fragment = loadFragments(b, s, c.staged, block, 8 * jp + q,
                                     c.fragmentRows[0], b.getI8Type())
                           .front();
      SmallVector<Value> registers;
      for (Value word : words)
        registers.push_back(
            arith::AndIOp::create(b, word, constI32(b, 0x01010101u << q)));
      acc[q] = nvgpu::MmaSyncOp::create(
          b, buildOperand(b, registers, b.getI8Type()), fragment, acc[q],
          ArrayRef<int64_t>{kTileRows, kTileColumns, s.tileInputs()});
    }
  }
}

SmallVector<Value> sign_mma::combineByteClasses(
    ImplicitLocOpBuilder &b, const MmaShape &s, const LaneContext &c,
    ArrayRef<Value> acc, ArrayRef<Value> columnSums, ArrayRef<Value> scales,
    bool negativeIsOne) {
  assert(s.kSplit == 1 && "the digit sums count once per block");
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  // The lane's signed sums of digit columns 2t + e % 2, rows g + 8 (e / 2):
  // the inputs whose bit is 1 are sum_q acc_q / 2^q (exact shifts), with
  // class 7 worth -128.
  SmallVector<Value> columns;
  for (int64_t e = 0; e < 4; ++e) {
    Value ones = constI32(b, 0);
    for (int64_t q = 0; q < 8; ++q) {
      Value sum = arith::ShRSIOp::create(
          b,
          vector::ExtractOp::create(b, acc[q],
                                    ArrayRef<int64_t>{e / 2, e % 2}),
          constI32(b, q));
      ones = q == 7 ? arith::SubIOp::create(b, ones, sum).getResult()
                    : arith::AddIOp::create(b, ones, sum).getResult();
    }
    Value total = columnSums[e % 2];
    Value twice = arith::ShLIOp::create(b, ones, constI32(b, 1));
    Value signedSum = negativeIsOne ? arith::SubIOp::create(b, total, twice)
                                    : arith::SubIOp::create(b, twice, total);
    columns.push_back(arith::SIToFPOp::create(b, f32, signedSum));
  }
  // Element e is input row m = 2t + e % 2: its digit columns 3m + d sit in
  // lanes 4g + (3m + d) / 2 (clamped: rows past the pass are not stored).
  Value width = constI32(b, kWarpSize);
  auto idx = gpu::ShuffleModeAttr::get(b.getContext(), gpu::ShuffleMode::IDX);
  Value base = arith::ConstantOp::create(b, b.getF32FloatAttr(256.0f));
  SmallVector<Value> sums;
  for (int64_t e = 0; e < 4; ++e) {
    Value m = mulAdd(b, c.t, 2, constIndex(b, e % 2));
    Value value;
    for (int64_t d = 0; d < kActivationDigits; ++d) {
      Value column = mulAdd(b, m, kActivationDigits, constIndex(b, d));
      Value source = mulAdd(
          b, c.g, kLanesPerRow,
          minIndex(b, arith::DivUIOp::create(b, column, constIndex(b, 2)),
                   kLanesPerRow - 1));
      Value lane = arith::IndexCastOp::create(b, i32, source);
      auto shuffle = [&](Value v) -> Value {
        return gpu::ShuffleOp::create(b, v, lane, width, idx)
            .getShuffleResult();
      };
      Value even = shuffle(columns[e / 2 * 2]);
      Value odd = shuffle(columns[e / 2 * 2 + 1]);
      Value isEven = arith::CmpIOp::create(
          b, arith::CmpIPredicate::eq,
          arith::RemUIOp::create(b, column, constIndex(b, 2)),
          constIndex(b, 0));
      Value digit = arith::SelectOp::create(b, isEven, even, odd);
      value = value ? arith::AddFOp::create(
                          b, arith::MulFOp::create(b, value, base), digit)
                          .getResult()
                    : digit;
    }
    Value scale = scales.front();
    for (int64_t row = 1; row < s.passRows; ++row)
      scale = arith::SelectOp::create(
          b,
          arith::CmpIOp::create(b, arith::CmpIPredicate::eq, m,
                                constIndex(b, row)),
          scales[row], scale);
    sums.push_back(arith::MulFOp::create(b, value, scale));
  }
  return sums;
}
