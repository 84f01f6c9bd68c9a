//===- SignMmaStaging.cpp - the tensor-core kernel's activations ----------===//
//
// Where onebit-gpu-sign-mma's kernel (SignMmaKernel.cpp) keeps its B
// operands: the activations staged in workgroup memory in the order the
// lanes' sign words hold the inputs, and the lanes' fragment loads.
//
//===----------------------------------------------------------------------===//

#include "SignMma.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/UB/IR/UBOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::sign_mma;

Value sign_mma::minIndex(ImplicitLocOpBuilder &b, Value value, int64_t bound) {
  return arith::MinUIOp::create(b, value, constIndex(b, bound));
}

Value sign_mma::lessThan(ImplicitLocOpBuilder &b, Value value, int64_t bound) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, value,
                               constIndex(b, bound));
}

Value sign_mma::mulAdd(ImplicitLocOpBuilder &b, Value value, int64_t factor,
                       Value addend) {
  return arith::AddIOp::create(
      b, arith::MulIOp::create(b, value, constIndex(b, factor)), addend);
}

Value sign_mma::getStagedOffset(ImplicitLocOpBuilder &b, const MmaShape &s,
                                Value block, Value unit, Value row) {
  return arith::MulIOp::create(
      b,
      mulAdd(b, block, s.stagedBlockUnits(),
             mulAdd(b, unit, s.stagedRows, row)),
      constIndex(b, 4));
}

/// The unit within its block and the half within the unit where input
/// `bit` (0..15, and bit + 16 in the next half) of the lane's word `j`
/// (0..W-1) is staged: in the order in which the lanes' A registers hold
/// the signs.
static std::pair<Value, Value>
getStagedUnit(ImplicitLocOpBuilder &b, const MmaShape &s, Value j, Value bit) {
  Value two = constIndex(b, 2);
  if (s.decoding == SignDecoding::BitClasses)
    // Unit (word pair, q): q of the even word, then q of the odd one.
    return {mulAdd(b, arith::DivUIOp::create(b, j, two), 16, bit),
            arith::MulIOp::create(b, arith::RemUIOp::create(b, j, two), two)};
  // Unit (word, pair p / 2): pairs p and p + 1.
  return {mulAdd(b, j, 8, arith::DivUIOp::create(b, bit, two)),
          arith::MulIOp::create(b, arith::RemUIOp::create(b, bit, two), two)};
}

Value sign_mma::buildOperand(ImplicitLocOpBuilder &b, ArrayRef<Value> registers,
                             Type elementType) {
  int64_t perRegister = 32 / elementType.getIntOrFloatBitWidth();
  auto registerType = VectorType::get({perRegister}, elementType);
  auto type = VectorType::get(
      {static_cast<int64_t>(registers.size()), perRegister}, elementType);
  Value result = ub::PoisonOp::create(b, type);
  for (auto [i, bits] : llvm::enumerate(registers)) {
    Value word = vector::BroadcastOp::create(
        b, VectorType::get({1}, b.getI32Type()), bits);
    Value elements = vector::BitCastOp::create(b, registerType, word);
    result = vector::InsertOp::create(b, elements, result,
                                      ArrayRef<int64_t>{int64_t(i)});
  }
  return result;
}

SmallVector<Value> sign_mma::loadFragments(ImplicitLocOpBuilder &b,
                                           const MmaShape &s, Value staged,
                                           Value block, int64_t unit, Value row,
                                           Type elementType, int64_t count) {
  assert((count == 1 || s.stagedRows == 1) && "units of a row not adjacent");
  Value fragments = vector::LoadOp::create(
      b, VectorType::get({4 * count}, b.getF16Type()), staged,
      ValueRange{getStagedOffset(b, s, block, constIndex(b, unit),
                                 minIndex(b, row, s.filledRows() - 1))},
      /*nontemporal=*/false, /*alignment=*/llvm::MaybeAlign(8 * count));
  Value bits = vector::BitCastOp::create(
      b, VectorType::get({2 * count}, b.getI32Type()), fragments);
  SmallVector<Value> operands;
  for (int64_t i = 0; i < count; ++i)
    operands.push_back(buildOperand(
        b,
        {vector::ExtractOp::create(b, bits, ArrayRef<int64_t>{2 * i}),
         vector::ExtractOp::create(b, bits, ArrayRef<int64_t>{2 * i + 1})},
        elementType));
  return operands;
}

/// Pairs of inputs (j, j + 16) a staging thread loads at once: staging is
/// latency-bound unless many loads are in flight.
static constexpr int64_t kPairsPerLoad = 8;

void sign_mma::stageActivations(ImplicitLocOpBuilder &b, const MmaShape &s,
                                const ProductFolds &folds, Value x,
                                Value staged, Value rowSums, Value thread,
                                Value firstRow, Value chunkStart) {
  bool summing = s.decoding == SignDecoding::BitClasses;
  bool vectorized = canLoadActivations(folds, kPairsPerLoad);
  Type f32 = b.getF32Type();
  int64_t pairsPerSlot = vectorized ? kPairsPerLoad : 1;
  int64_t slotsAtOnce = kPairsPerLoad / (vectorized ? 2 : 1);
  int64_t wordsPerRound = kBlockSize * pairsPerSlot / 16;
  int64_t chunkWords = s.chunk / 32;
  int64_t rounds = llvm::divideCeil(chunkWords, wordsPerRound);
  int64_t groupRows = std::min<int64_t>(s.passRows, slotsAtOnce);
  int64_t roundsAtOnce = std::max<int64_t>(1, slotsAtOnce / groupRows);
  Value zero = arith::ConstantOp::create(b, b.getF32FloatAttr(0.0f));
  Value zeroHalf = arith::ConstantOp::create(b, b.getF16FloatAttr(0.0));
  auto slotType = VectorType::get({pairsPerSlot}, b.getF16Type());
  Value zeroSlot = arith::ConstantOp::create(
      b, slotType, DenseElementsAttr::get(slotType, b.getF16FloatAttr(0.0)));
  int64_t threadsPerWord = 16 / pairsPerSlot;
  Value firstPair = arith::MulIOp::create(
      b, arith::RemUIOp::create(b, thread, constIndex(b, threadsPerWord)),
      constIndex(b, pairsPerSlot));
  Value firstWord =
      arith::DivUIOp::create(b, thread, constIndex(b, threadsPerWord));
  Value lane =
      arith::RemUIOp::create(b, thread, constIndex(b, onebit::kWarpSize));
  Value warp =
      arith::DivUIOp::create(b, thread, constIndex(b, onebit::kWarpSize));
  for (int64_t rowGroup = 0; rowGroup < s.passRows; rowGroup += groupRows) {
    int64_t rows = std::min<int64_t>(groupRows, s.passRows - rowGroup);
    SmallVector<Value> init;
    if (summing)
      init.assign(rows, zero);
    auto loop = scf::ForOp::create(b, constIndex(b, 0), constIndex(b, rounds),
                                   constIndex(b, roundsAtOnce), init);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    struct Slot {
      int64_t row;
      Value word, counted;
      SmallVector<Value> low, high; // per pair of the slot
    };
    // All loads first, then the stores. A word past the chunk repeats the
    // last one: the same values to the same place.
    SmallVector<Slot> slots;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < roundsAtOnce; ++v) {
        Slot slot;
        slot.row = rowGroup + r;
        Value round = arith::AddIOp::create(b, loop.getInductionVar(),
                                            constIndex(b, v));
        Value word = mulAdd(b, round, wordsPerRound, firstWord);
        slot.counted = lessThan(b, word, chunkWords);
        slot.word = minIndex(b, word, chunkWords - 1);
        Value m = arith::AddIOp::create(b, firstRow, constIndex(b, slot.row));
        Value wordStart = mulAdd(b, slot.word, 32, chunkStart);
        Value inside = arith::AndIOp::create(
            b, lessThan(b, m, s.rows), lessThan(b, wordStart, s.inFeatures));
        Value safeM = minIndex(b, m, s.rows - 1);
        Value k = arith::AddIOp::create(
            b, minIndex(b, wordStart, s.inFeatures - 32), firstPair);
        Value high = arith::AddIOp::create(b, k, constIndex(b, 16));
        if (vectorized) {
          auto load = [&](Value at) -> Value {
            Value values = loadActivations(b, folds, x, safeM, at,
                                           s.inFeatures, pairsPerSlot);
            return arith::SelectOp::create(b, inside, values, zeroSlot);
          };
          Value lows = load(k), highs = load(high);
          for (int64_t i = 0; i < pairsPerSlot; ++i) {
            slot.low.push_back(
                vector::ExtractOp::create(b, lows, ArrayRef<int64_t>{i}));
            slot.high.push_back(
                vector::ExtractOp::create(b, highs, ArrayRef<int64_t>{i}));
          }
        } else {
          slot.low.push_back(arith::SelectOp::create(
              b, inside, loadActivation(b, folds, x, safeM, k, s.inFeatures),
              zeroHalf));
          slot.high.push_back(arith::SelectOp::create(
              b, inside,
              loadActivation(b, folds, x, safeM, high, s.inFeatures),
              zeroHalf));
        }
        slots.push_back(slot);
      }
    SmallVector<Value> sums(loop.getRegionIterArgs());
    for (auto [index, slot] : llvm::enumerate(slots)) {
      Value block =
          arith::DivUIOp::create(b, slot.word, constIndex(b, s.words));
      Value inBlock =
          arith::RemUIOp::create(b, slot.word, constIndex(b, s.words));
      for (int64_t i = 0; i < pairsPerSlot; ++i) {
        Value j = arith::AddIOp::create(b, firstPair, constIndex(b, i));
        Value values = vector::FromElementsOp::create(
            b, VectorType::get({2}, b.getF16Type()),
            ValueRange{slot.low[i], slot.high[i]});
        auto [unit, half] = getStagedUnit(b, s, inBlock, j);
        Value offset = arith::AddIOp::create(
            b,
            getStagedOffset(b, s, block, unit, constIndex(b, slot.row)),
            half);
        vector::StoreOp::create(b, values, staged, ValueRange{offset});
        if (!summing)
          continue;
        // Pairs 15, 15 - C, ... belong to the sign-bit class.
        Value counted = arith::AndIOp::create(
            b, slot.counted,
            arith::CmpIOp::create(
                b, arith::CmpIPredicate::ne,
                arith::RemUIOp::create(b, j, constIndex(b, s.bitClasses)),
                constIndex(b, s.bitClasses - 1)));
        Value pairSum = arith::AddFOp::create(
            b, arith::ExtFOp::create(b, f32, slot.low[i]),
            arith::ExtFOp::create(b, f32, slot.high[i]));
        Value &sum = sums[index / roundsAtOnce];
        sum = arith::AddFOp::create(
            b, sum, arith::SelectOp::create(b, counted, pairSum, zero));
      }
    }
    if (!summing)
      continue;
    scf::YieldOp::create(b, sums);
    b.setInsertionPointAfter(loop);
    SmallVector<Value> totals;
    for (Value sum : loop.getResults())
      totals.push_back(warpSum(b, sum));
    auto leader = scf::IfOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane,
                                 constIndex(b, 0)),
        /*withElse=*/false);
    b.setInsertionPointToStart(leader.thenBlock());
    for (auto [r, total] : llvm::enumerate(totals))
      memref::StoreOp::create(b, total, rowSums,
                              ValueRange{warp, constIndex(b, rowGroup + r)});
  }
}
