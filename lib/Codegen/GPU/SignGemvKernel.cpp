//===- SignGemvKernel.cpp - the decode kernel of onebit.linear ------------===//
//
// onebit-gpu-sign-gemv: the packed-sign products scheduled for decode (few
// input rows, #onebit.gpu_sign_gemv_schedule) become one hand-shaped
// gpu.launch each, designed for memory bandwidth rather than one thread per
// output:
//
// - A row group (whole warps, several per 256-thread block) works on its
//   own rows; thread t of a group owns a fixed slice of `words` consecutive
//   32-bit sign words of every row and keeps the matching activations in
//   registers for the whole kernel. The block stages the activations in
//   workgroup memory first, with coalesced loads (through the prologue).
// - Blocks walk steps of `rowsPerStep` rows per group grid-stride; each
//   step issues one vector load of `4 * words` bytes per row and thread (a
//   warp reads a contiguous, coalesced run of every row) and loads the
//   next step's words before computing on its own.
// - A weight never becomes a float in memory: bit b of a word flips the
//   sign bit of its activation (XOR), then an add. For f16 activations two
//   weights share one instruction each: register j holds the activations
//   of bits j and j + 16 as a half2, so `(word << (15 - j)) & 0x80008000`
//   is the sign mask of both (an f16x2 add per two weights, flushed to the
//   f32 accumulator once per word).
// - Partial sums are reduced with warp shuffles, then across the warps of
//   a group through workgroup memory.
// - The elementwise kernels on either side (x * g before, * h and casts
//   after) are evaluated inside this one where it loads and stores.
//
//===----------------------------------------------------------------------===//

#include "ElementwiseFolds.h"
#include "SignGemv.h"
#include "onebit/Codegen/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITGPUSIGNGEMV
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::sign_gemv;

namespace {

//===----------------------------------------------------------------------===//
// The kernel
//===----------------------------------------------------------------------===//

/// Where element (row, k) of the activations lives in workgroup memory:
/// each thread slice keeps its 4-byte bank words in an order rotated (XOR)
/// by the slice's index, so that the threads of a warp, which read the
/// same position of their own slices together, hit distinct banks.
SmallVector<Value> getStagedIndex(ImplicitLocOpBuilder &b, const GemvShape &s,
                                  unsigned elementBytes, Value row, Value k) {
  int64_t length = s.sliceLength();
  int64_t perBankWord = std::max<int64_t>(1, 4 / elementBytes);
  int64_t mask = std::min<int64_t>(32, length / perBankWord) - 1;
  Value slice = arith::DivUIOp::create(b, k, constIndex(b, length));
  Value within = arith::RemUIOp::create(b, k, constIndex(b, length));
  Value bankWord = arith::DivUIOp::create(b, within, constIndex(b, perBankWord));
  Value part = arith::RemUIOp::create(b, within, constIndex(b, perBankWord));
  bankWord = arith::XOrIOp::create(
      b, bankWord, arith::AndIOp::create(b, slice, constIndex(b, mask)));
  Value index = arith::AddIOp::create(
      b, arith::MulIOp::create(b, slice, constIndex(b, length)),
      arith::AddIOp::create(
          b, arith::MulIOp::create(b, bankWord, constIndex(b, perBankWord)),
          part));
  return {row, index};
}

/// The activations one thread keeps for one input row, as i32 registers:
/// the f32 bit pattern of input 32w + b, or for f16 the half2 of inputs
/// 32w + j and 32w + j + 16. Threads beyond the row keep zeros. They come
/// from workgroup memory when staged, else from `x` (or the prologue).
SmallVector<Value> loadActivations(ImplicitLocOpBuilder &b, const GemvShape &s,
                                   Value x, Value staged,
                                   const ProductFolds &folds,
                                   Value row, Value firstWord, Value active) {
  Type elementType = cast<MemRefType>(x.getType()).getElementType();
  unsigned elementBytes = elementType.getIntOrFloatBitWidth() / 8;
  SmallVector<Value> registers;
  auto load = [&](int64_t word, int64_t bit) -> Value {
    Value k = arith::AddIOp::create(
        b, arith::MulIOp::create(b, firstWord, constIndex(b, 32)),
        constIndex(b, 32 * word + bit));
    if (staged)
      return memref::LoadOp::create(
          b, staged, getStagedIndex(b, s, elementBytes, row, k));
    return loadActivation(b, folds, x, row, k, s.inFeatures);
  };
  for (int64_t word = 0; word < s.words; ++word) {
    if (s.halfPairs) {
      for (int64_t j = 0; j < 16; ++j) {
        Value pair = vector::FromElementsOp::create(
            b, VectorType::get({2}, elementType),
            ValueRange{load(word, j), load(word, j + 16)});
        Value bits = vector::BitCastOp::create(
            b, VectorType::get({1}, b.getI32Type()), pair);
        bits = vector::ExtractOp::create(b, bits, ArrayRef<int64_t>{0});
        registers.push_back(
            arith::SelectOp::create(b, active, bits, constI32(b, 0)));
      }
      continue;
    }
    for (int64_t bit = 0; bit < 32; ++bit) {
      Value value = load(word, bit);
      if (elementType != b.getF32Type())
        value = arith::ExtFOp::create(b, b.getF32Type(), value);
      Value bits = arith::BitcastOp::create(b, b.getI32Type(), value);
      registers.push_back(
          arith::SelectOp::create(b, active, bits, constI32(b, 0)));
    }
  }
  return registers;
}

/// sum_b (bit b of `word` means -1 ? -a_b : a_b) for the activations of
/// one word (`negativeIsOne`: which bit value means -1).
Value wordDot(ImplicitLocOpBuilder &b, const GemvShape &s, Value word,
              ArrayRef<Value> activations, bool negativeIsOne) {
  if (!negativeIsOne)
    word = arith::XOrIOp::create(b, word, constI32(b, 0xFFFFFFFFu));
  Type f32 = b.getF32Type();
  if (!s.halfPairs) {
    Value sum;
    for (int64_t bit = 0; bit < 32; ++bit) {
      Value shifted = bit == 31 ? word
                                : arith::ShLIOp::create(
                                      b, word, constI32(b, 31 - bit));
      Value sign = arith::AndIOp::create(b, shifted, constI32(b, 0x80000000u));
      Value flipped = arith::XOrIOp::create(b, activations[bit], sign);
      Value term = arith::BitcastOp::create(b, f32, flipped);
      sum = sum ? arith::AddFOp::create(b, sum, term).getResult() : term;
    }
    return sum;
  }
  auto half2 = VectorType::get({2}, b.getF16Type());
  auto word1 = VectorType::get({1}, b.getI32Type());
  Value pairs;
  for (int64_t j = 0; j < 16; ++j) {
    Value shifted =
        j == 15 ? word : arith::ShLIOp::create(b, word, constI32(b, 15 - j));
    Value sign = arith::AndIOp::create(b, shifted, constI32(b, 0x80008000u));
    Value flipped = arith::XOrIOp::create(b, activations[j], sign);
    Value asVector = vector::BroadcastOp::create(b, word1, flipped);
    Value term = vector::BitCastOp::create(b, half2, asVector);
    pairs = pairs ? arith::AddFOp::create(b, pairs, term).getResult() : term;
  }
  Value low = vector::ExtractOp::create(b, pairs, ArrayRef<int64_t>{0});
  Value high = vector::ExtractOp::create(b, pairs, ArrayRef<int64_t>{1});
  low = arith::ExtFOp::create(b, f32, low);
  high = arith::ExtFOp::create(b, f32, high);
  return arith::AddFOp::create(b, low, high);
}

/// Replaces the scheduled product `product` (x [M, K], signs [N, K/8] i8 ->
/// y [M, N] f32, accumulated onto y) by the decode kernel.
void buildKernel(PackedSignProductOp product, const GemvShape &s,
                 bool negativeIsOne) {
  ImplicitLocOpBuilder b(product.getLoc(), product);
  Value x = product.getInput();
  Value signs = product.getSigns();
  Value y = product.getInit();
  int64_t wordsPerRow = s.inFeatures / 32;
  ProductFolds folds = collectProductFolds(product);

  // The sign bytes as 32-bit words: one vector load per row and thread.
  Value flat = memref::CollapseShapeOp::create(
      b, signs, SmallVector<ReassociationIndices>{{0, 1}});
  auto wordType = MemRefType::get({s.outFeatures * wordsPerRow}, b.getI32Type());
  Value words = memref::ViewOp::create(b, wordType, flat, constIndex(b, 0),
                                       ValueRange{});

  int64_t warpsPerGroup = s.groupSize / kWarpSize;
  int64_t numWarps = s.groups * warpsPerGroup;
  int64_t partials = s.rowsPerStep * s.rows;
  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                              gpu::AddressSpace::Workgroup);
  SmallVector<Type> workgroupTypes;
  if (s.staged)
    workgroupTypes.push_back(
        MemRefType::get({s.rows, s.inFeatures},
                        cast<MemRefType>(x.getType()).getElementType(),
                        MemRefLayoutAttrInterface(), workgroup));
  if (warpsPerGroup > 1)
    workgroupTypes.push_back(MemRefType::get({numWarps, partials},
                                             b.getF32Type(),
                                             MemRefLayoutAttrInterface(),
                                             workgroup));
  auto launch = createNamedLaunch(b, "onebit_sign_gemv",
                                  constIndex(b, s.gridSize), constIndex(b, 1),
                                  constIndex(b, s.blockSize()), workgroupTypes);
  ArrayRef<BlockArgument> attributions = launch.getWorkgroupAttributions();
  Value staged = s.staged ? Value(attributions[0]) : Value();
  Value partialsBuffer =
      warpsPerGroup > 1 ? Value(attributions[s.staged ? 1 : 0]) : Value();

  Value thread = launch.getThreadIds().x;
  Value group = arith::DivUIOp::create(b, thread, constIndex(b, s.groupSize));
  Value inGroup = arith::RemUIOp::create(b, thread, constIndex(b, s.groupSize));

  // The block stages the activations (through the prologue) once, with
  // coalesced loads, for all of its threads.
  if (s.staged) {
    int64_t total = s.rows * s.inFeatures;
    unsigned elementBytes =
        cast<MemRefType>(staged.getType()).getElementTypeBitWidth() / 8;
    auto fill = scf::ForOp::create(b, thread, constIndex(b, total),
                                   constIndex(b, s.blockSize()));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(fill.getBody());
    Value element = fill.getInductionVar();
    Value row = arith::DivUIOp::create(b, element, constIndex(b, s.inFeatures));
    Value k = arith::RemUIOp::create(b, element, constIndex(b, s.inFeatures));
    Value value = loadActivation(b, folds, x, row, k, s.inFeatures);
    memref::StoreOp::create(b, value, staged,
                            getStagedIndex(b, s, elementBytes, row, k));
  }
  if (s.staged)
    gpu::BarrierOp::create(b);

  Value active = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, inGroup,
                                       constIndex(b, s.threadsPerRow));
  // Idle threads read the last slice (a valid address) with zero activations.
  Value slice = arith::MinUIOp::create(b, inGroup,
                                       constIndex(b, s.threadsPerRow - 1));
  Value firstWord = arith::MulIOp::create(b, slice, constIndex(b, s.words));
  SmallVector<SmallVector<Value>> activations;
  for (int64_t m = 0; m < s.rows; ++m)
    activations.push_back(loadActivations(b, s, x, staged, folds,
                                          constIndex(b, m), firstWord,
                                          active));

  // A step covers groups * rowsPerStep rows: rowsPerStep per group.
  int64_t rowsPerBlockStep = s.groups * s.rowsPerStep;
  int64_t steps = llvm::divideCeil(s.outFeatures, rowsPerBlockStep);
  auto vectorType = VectorType::get({s.words}, b.getI32Type());
  auto getFirstRow = [&](Value step) -> Value {
    return arith::AddIOp::create(
        b, arith::MulIOp::create(b, step, constIndex(b, rowsPerBlockStep)),
        arith::MulIOp::create(b, group, constIndex(b, s.rowsPerStep)));
  };
  // The words of this group's rows of step `step`, all loads in flight
  // together. Rows past N read row N - 1 (a valid address), never stored.
  auto loadStep = [&](Value step) {
    Value firstRow = getFirstRow(step);
    SmallVector<Value> loaded;
    for (int64_t r = 0; r < s.rowsPerStep; ++r) {
      Value row = arith::AddIOp::create(b, firstRow, constIndex(b, r));
      Value safeRow =
          arith::MinUIOp::create(b, row, constIndex(b, s.outFeatures - 1));
      Value offset = arith::AddIOp::create(
          b, arith::MulIOp::create(b, safeRow, constIndex(b, wordsPerRow)),
          firstWord);
      loaded.push_back(vector::LoadOp::create(
          b, vectorType, words, ValueRange{offset}, /*nontemporal=*/false,
          /*alignment=*/llvm::MaybeAlign(4 * s.words)));
    }
    return loaded;
  };
  // Software pipelining: each step loads the next step's words before it
  // computes on its own, so memory latency hides behind the arithmetic.
  Value stride = launch.getGridSize().x;
  auto loop = scf::ForOp::create(b, launch.getBlockIds().x,
                                 constIndex(b, steps), stride,
                                 loadStep(launch.getBlockIds().x));
  b.setInsertionPointToStart(loop.getBody());
  Value step = loop.getInductionVar();
  SmallVector<Value> loaded(loop.getRegionIterArgs());
  SmallVector<Value> next =
      loadStep(arith::AddIOp::create(b, step, stride).getResult());
  Value firstRow = getFirstRow(step);
  SmallVector<Value> outRows;
  for (int64_t r = 0; r < s.rowsPerStep; ++r)
    outRows.push_back(arith::AddIOp::create(b, firstRow, constIndex(b, r)));
  SmallVector<Value> sums; // [r][m]
  for (int64_t r = 0; r < s.rowsPerStep; ++r)
    for (int64_t m = 0; m < s.rows; ++m) {
      Value sum;
      for (int64_t w = 0; w < s.words; ++w) {
        Value word = vector::ExtractOp::create(b, loaded[r], ArrayRef<int64_t>{w});
        int64_t perWord = s.halfPairs ? 16 : 32;
        Value dot = wordDot(
            b, s, word,
            ArrayRef<Value>(activations[m]).slice(w * perWord, perWord),
            negativeIsOne);
        sum = sum ? arith::AddFOp::create(b, sum, dot) : dot;
      }
      sums.push_back(warpSum(b, sum));
    }

  // Thread i < partials of a group writes partial i = (r, m): after the
  // warp sums (and, for several warps per group, their sum through
  // workgroup memory). With one warp per group every lane holds them all.
  if (warpsPerGroup > 1) {
    Value lane = arith::RemUIOp::create(b, thread, constIndex(b, kWarpSize));
    Value warp = arith::DivUIOp::create(b, thread, constIndex(b, kWarpSize));
    Value leader = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane,
                                         constIndex(b, 0));
    auto ifLeader = scf::IfOp::create(b, leader, /*withElse=*/false);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifLeader.thenBlock());
      for (int64_t i = 0; i < partials; ++i)
        memref::StoreOp::create(b, sums[i], partialsBuffer,
                                ValueRange{warp, constIndex(b, i)});
    }
    gpu::BarrierOp::create(b);
    Value mine =
        arith::MinUIOp::create(b, inGroup, constIndex(b, partials - 1));
    Value firstWarp =
        arith::MulIOp::create(b, group, constIndex(b, warpsPerGroup));
    Value total;
    for (int64_t w = 0; w < warpsPerGroup; ++w) {
      Value warpIndex =
          arith::AddIOp::create(b, firstWarp, constIndex(b, w));
      Value part = memref::LoadOp::create(b, partialsBuffer,
                                          ValueRange{warpIndex, mine});
      total = total ? arith::AddFOp::create(b, total, part) : part;
    }
    sums.assign(partials, total);
  }
  for (int64_t i = 0; i < partials; ++i) {
    int64_t r = i / s.rows, m = i % s.rows;
    Value mine = arith::AndIOp::create(
        b,
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, inGroup,
                              constIndex(b, i)),
        arith::CmpIOp::create(b, arith::CmpIPredicate::ult, outRows[r],
                              constIndex(b, s.outFeatures)));
    auto ifMine = scf::IfOp::create(b, mine, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifMine.thenBlock());
    storeSum(b, folds, y, constIndex(b, m), outRows[r], s.outFeatures,
             sums[i]);
  }
  // The partials buffer is reused by the next step.
  if (warpsPerGroup > 1)
    gpu::BarrierOp::create(b);
  scf::YieldOp::create(b, next);
  product.erase();
  eraseProductFolds(folds);
}

struct GPUSignGemvPass
    : onebit::impl::OneBitGPUSignGemvBase<GPUSignGemvPass> {
  void runOnOperation() override {
    if (failed(buildScheduledProducts(getOperation(), &sign_gemv::getShape,
                                      &buildKernel)))
      signalPassFailure();
  }
};

} // namespace
