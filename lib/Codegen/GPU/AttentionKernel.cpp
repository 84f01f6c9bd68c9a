//===- AttentionKernel.cpp - onebit.cached_attention as split-K kernels ---===//
//
// onebit-gpu-attention: after bufferization, each onebit.cached_attention
// becomes two launches (flash-decoding): `onebit_attention_split` spreads
// the rows that exist, [0, P + t], over `splits` blocks per (batch,
// key/value head, new position) and writes one partial softmax state per
// warp; `onebit_attention_combine` merges them per query head. The position
// is read on the GPU, so the launches are the same at every step and the
// rows past it are never read. Both kernels issue their loads before they
// use them: at a few rows per block, latency, not bandwidth, is the cost.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilding.h"
#include "onebit/Codegen/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITGPUATTENTION
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// Elements one lane reads of a row.
constexpr int64_t kLaneElements = 8;
/// Every 8-element run the kernels load or store starts 16 bytes apart
/// (rows of 8 x 2^k elements; scratch rows padded to a multiple of 4
/// floats), and buffers start on allocation boundaries.
constexpr uint64_t kLaneAlignment = 16;
/// Below every score, yet finite: exp(kLowest - kLowest) is 1, not NaN.
constexpr float kLowest = -3.0e38f;

/// One query head's online softmax in a lane: the largest score seen, the
/// sum of exp(score - max), and the weighted sum of the lane's 8 value
/// elements.
struct SoftmaxState {
  Value max, sum, acc;
};

class AttentionKernelBuilder {
public:
  AttentionKernelBuilder(ImplicitLocOpBuilder &b, CachedAttentionOp op,
                         GPUAttentionScheduleAttr schedule)
      : b(b), op(op), schedule(schedule) {
    elementType = getElementTypeOrSelf(op.getQuery().getType());
    CachedAttentionOp::Sizes sizes = op.getSizes();
    batch = sizes.batch;
    heads = sizes.heads;
    newRows = sizes.newRows;
    headDim = sizes.headDim;
    kvHeads = sizes.kvHeads;
    group = sizes.group();
    lanesPerRow = schedule.getLanesPerRow();
    rowsPerWarp = kWarpSize / lanesPerRow;
    warps = schedule.getWarps();
    partials = schedule.getSplits() * warps;
    f32 = b.getF32Type();
    laneVector = VectorType::get({kLaneElements}, f32);
  }

  LogicalResult build() {
    for (Value operand : op.getOperands()) {
      auto type = cast<MemRefType>(operand.getType());
      if (!type.getLayout().isIdentity())
        return op.emitOpError()
               << "cannot honour " << schedule << ": operand of type " << type
               << " does not have an identity layout";
    }
    if (op.getMask())
      return op.emitOpError() << "cannot honour " << schedule
                              << ": the kernel is causal, and the op has a "
                                 "mask among its new positions";
    if (kWarpSize % lanesPerRow != 0)
      return op.emitOpError() << "cannot honour " << schedule
                              << ": lanes_per_row must divide " << kWarpSize;
    cacheRows = memref::DimOp::create(b, op.getKeyCache(), 2);
    auto scratchType =
        MemRefType::get({partials, batch * heads * newRows, headDim + 4}, f32);
    scratch = memref::AllocOp::create(b, scratchType);
    buildSplitKernel();
    buildCombineKernel();
    return success();
  }

private:
  Value index(int64_t value) { return constIndex(b, value); }
  Value f32Const(float value) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(value));
  }

  Value loadRun(VectorType type, Value buffer, ValueRange indices) {
    return vector::LoadOp::create(b, type, buffer, indices,
                                  /*nontemporal=*/false,
                                  llvm::MaybeAlign(kLaneAlignment));
  }
  void storeRun(Value value, Value buffer, ValueRange indices) {
    vector::StoreOp::create(b, value, buffer, indices, /*nontemporal=*/false,
                            llvm::MaybeAlign(kLaneAlignment));
  }

  /// The 8 elements at `indices` of `buffer` as f32.
  Value loadLane(Value buffer, ValueRange indices) {
    Value loaded =
        loadRun(VectorType::get({kLaneElements}, elementType), buffer, indices);
    return elementType == f32 ? loaded
                              : arith::ExtFOp::create(b, laneVector, loaded);
  }

  Value shuffleXor(Value value, int64_t offset) {
    return gpu::ShuffleOp::create(b, value, offset, kWarpSize,
                                  gpu::ShuffleMode::XOR)
        .getShuffleResult();
  }

  Value shuffleVectorXor(Value vector, int64_t offset) {
    SmallVector<Value> elements;
    for (int64_t i = 0; i < kLaneElements; ++i)
      elements.push_back(shuffleXor(
          vector::ExtractOp::create(b, vector, ArrayRef<int64_t>{i}), offset));
    return vector::FromElementsOp::create(b, laneVector, elements);
  }

  Value broadcast(Value scalar) {
    return vector::BroadcastOp::create(b, laneVector, scalar);
  }

  /// `state` merged with `other` (two disjoint sets of rows).
  SoftmaxState merge(SoftmaxState state, SoftmaxState other) {
    Value max = arith::MaximumFOp::create(b, state.max, other.max);
    Value mine =
        math::ExpOp::create(b, arith::SubFOp::create(b, state.max, max));
    Value theirs =
        math::ExpOp::create(b, arith::SubFOp::create(b, other.max, max));
    Value sum =
        arith::AddFOp::create(b, arith::MulFOp::create(b, state.sum, mine),
                              arith::MulFOp::create(b, other.sum, theirs));
    Value acc = arith::AddFOp::create(
        b, arith::MulFOp::create(b, state.acc, broadcast(mine)),
        arith::MulFOp::create(b, other.acc, broadcast(theirs)));
    return {max, sum, acc};
  }

  /// The position, clamped to the cache: the rows already there.
  Value loadPosition() {
    Value position =
        memref::LoadOp::create(b, op.getPosition(), ValueRange{index(0)});
    position = arith::IndexCastOp::create(b, b.getIndexType(), position);
    position = arith::MaxSIOp::create(b, position, index(0));
    return arith::MinSIOp::create(b, position, cacheRows);
  }

  /// The online softmax of the group's queries over rows [lo, hi) of
  /// `rows` (a cache or the new keys and values, [B, Hkv, *, D]), `init`
  /// the carried state (max, sum, acc per query). A warp step covers
  /// `rowsInFlight` rows per lane group; each lane loads all of its rows
  /// before it scores the first, and a row past `hi` is loaded from `lo`
  /// and weighs nothing.
  SmallVector<Value> accumulateRows(Value keys, Value values, Value lo,
                                    Value hi, ValueRange init) {
    int64_t inFlight = schedule.getRowsInFlight();
    Value warpRows = index(warps * rowsPerWarp);
    Value firstRow = arith::AddIOp::create(
        b, lo,
        arith::AddIOp::create(
            b, arith::MulIOp::create(b, warp, index(rowsPerWarp)), laneRow));
    auto loop = scf::ForOp::create(
        b, lo, hi,
        arith::MulIOp::create(b, warpRows, index(inFlight)), init);
    OpBuilder::InsertionGuard inLoop(b);
    b.setInsertionPointToStart(loop.getBody());
    Value stepFirst = arith::AddIOp::create(
        b, firstRow, arith::SubIOp::create(b, loop.getInductionVar(), lo));
    auto rowVector = VectorType::get({kLaneElements}, elementType);
    SmallVector<Value> inRange, keyRuns, valueRuns;
    for (int64_t r = 0; r < inFlight; ++r) {
      Value row = arith::AddIOp::create(
          b, stepFirst, arith::MulIOp::create(b, warpRows, index(r)));
      inRange.push_back(
          arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, hi));
      row = arith::SelectOp::create(b, inRange.back(), row, lo);
      SmallVector<Value> at = {bIndex, kvHead, row, column};
      keyRuns.push_back(loadRun(rowVector, keys, at));
      valueRuns.push_back(loadRun(rowVector, values, at));
    }
    SmallVector<Value> carried(loop.getRegionIterArgs());
    for (int64_t r = 0; r < inFlight; ++r) {
      Value key = keyRuns[r], value = valueRuns[r];
      if (elementType != f32) {
        key = arith::ExtFOp::create(b, laneVector, key);
        value = arith::ExtFOp::create(b, laneVector, value);
      }
      for (int64_t g = 0; g < group; ++g) {
        Value score = vector::ReductionOp::create(
            b, vector::CombiningKind::ADD,
            arith::MulFOp::create(b, queries[g], key));
        for (int64_t offset = lanesPerRow / 2; offset > 0; offset /= 2)
          score = arith::AddFOp::create(b, score, shuffleXor(score, offset));
        score =
            arith::SelectOp::create(b, inRange[r], score, f32Const(kLowest));
        Value max = arith::MaximumFOp::create(b, carried[3 * g], score);
        Value rescale = math::ExpOp::create(
            b, arith::SubFOp::create(b, carried[3 * g], max));
        Value weight = arith::SelectOp::create(
            b, inRange[r],
            math::ExpOp::create(b, arith::SubFOp::create(b, score, max)),
            f32Const(0));
        Value sum = arith::AddFOp::create(
            b, arith::MulFOp::create(b, carried[3 * g + 1], rescale), weight);
        Value acc = arith::AddFOp::create(
            b, arith::MulFOp::create(b, carried[3 * g + 2], broadcast(rescale)),
            arith::MulFOp::create(b, value, broadcast(weight)));
        carried[3 * g] = max;
        carried[3 * g + 1] = sum;
        carried[3 * g + 2] = acc;
      }
    }
    scf::YieldOp::create(b, carried);
    return SmallVector<Value>(loop.getResults());
  }

  void buildSplitKernel() {
    OpBuilder::InsertionGuard guard(b);
    int64_t splits = schedule.getSplits();
    createNamedLaunch(b, "onebit_attention_split", index(splits),
                      index(batch * kvHeads * newRows),
                      index(warps * kWarpSize), TypeRange{});
    Value split = gpu::BlockIdOp::create(b, gpu::Dimension::x);
    SmallVector<Value> where =
        delinearize(b, gpu::BlockIdOp::create(b, gpu::Dimension::y),
                    {batch, kvHeads, newRows});
    bIndex = where[0];
    kvHead = where[1];
    Value t = where[2];
    Value thread = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
    warp = arith::DivUIOp::create(b, thread, index(kWarpSize));
    Value lane = arith::RemUIOp::create(b, thread, index(kWarpSize));
    laneRow = arith::DivUIOp::create(b, lane, index(lanesPerRow));
    column = arith::MulIOp::create(
        b, arith::RemUIOp::create(b, lane, index(lanesPerRow)),
        index(kLaneElements));

    // The block's share of the cache rows below P.
    Value position = loadPosition();
    Value chunk = arith::CeilDivUIOp::create(b, position, index(splits));
    Value start = arith::MinUIOp::create(
        b, arith::MulIOp::create(b, split, chunk), position);
    Value end = arith::MinUIOp::create(
        b, arith::AddIOp::create(b, start, chunk), position);

    // The group's queries, scaled.
    Value scale = broadcast(f32Const(op.getScale().convertToFloat()));
    queries.clear();
    SmallVector<Value> init;
    for (int64_t g = 0; g < group; ++g) {
      Value head = arith::AddIOp::create(
          b, arith::MulIOp::create(b, kvHead, index(group)), index(g));
      queries.push_back(arith::MulFOp::create(
          b, loadLane(op.getQuery(), {bIndex, head, t, column}), scale));
      init.append({f32Const(kLowest), f32Const(0),
                   arith::ConstantOp::create(
                       b, DenseElementsAttr::get(laneVector, 0.0f))});
    }
    SmallVector<Value> states = accumulateRows(
        op.getKeyCache(), op.getValueCache(), start, end, init);
    // The last split also takes the new rows 0 .. t (causal).
    Value last =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, split,
                              index(splits - 1));
    Value newEnd = arith::SelectOp::create(
        b, last, arith::AddIOp::create(b, t, index(1)), index(0));
    states =
        accumulateRows(op.getKey(), op.getValue(), index(0), newEnd, states);

    // The warp's row groups merged, one partial per warp to the scratch.
    Value partial = arith::AddIOp::create(
        b, arith::MulIOp::create(b, split, index(warps)), warp);
    Value leads =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, laneRow, index(0));
    for (int64_t g = 0; g < group; ++g) {
      SoftmaxState state = {states[3 * g], states[3 * g + 1],
                            states[3 * g + 2]};
      for (int64_t offset = lanesPerRow; offset < kWarpSize; offset *= 2)
        state = merge(state, {shuffleXor(state.max, offset),
                              shuffleXor(state.sum, offset),
                              shuffleVectorXor(state.acc, offset)});
      Value head = arith::AddIOp::create(
          b, arith::MulIOp::create(b, kvHead, index(group)), index(g));
      Value stateIndex = linearize({bIndex, head, t}, {batch, heads, newRows});
      auto store = scf::IfOp::create(b, leads, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard inIf(b);
      b.setInsertionPointToStart(store.thenBlock());
      storeRun(state.acc, scratch, ValueRange{partial, stateIndex, column});
      Value firstLane =
          arith::CmpIOp::create(b, arith::CmpIPredicate::eq, column, index(0));
      auto stats = scf::IfOp::create(b, firstLane, /*withElseRegion=*/false);
      b.setInsertionPointToStart(stats.thenBlock());
      memref::StoreOp::create(b, state.max, scratch,
                              ValueRange{partial, stateIndex, index(headDim)});
      memref::StoreOp::create(
          b, state.sum, scratch,
          ValueRange{partial, stateIndex, index(headDim + 1)});
    }

    // Split 0's first row group appends the new row t, where it fits.
    Value row = arith::AddIOp::create(b, position, t);
    Value appends = arith::AndIOp::create(
        b,
        arith::AndIOp::create(
            b,
            arith::CmpIOp::create(b, arith::CmpIPredicate::eq, split, index(0)),
            arith::CmpIOp::create(b, arith::CmpIPredicate::eq, warp, index(0))),
        arith::AndIOp::create(b, leads,
                              arith::CmpIOp::create(b,
                                                    arith::CmpIPredicate::ult,
                                                    row, cacheRows)));
    auto append = scf::IfOp::create(b, appends, /*withElseRegion=*/false);
    b.setInsertionPointToStart(append.thenBlock());
    auto rowVector = VectorType::get({kLaneElements}, elementType);
    for (auto [from, to] : {std::pair(op.getKey(), op.getKeyCache()),
                            std::pair(op.getValue(), op.getValueCache())}) {
      Value fresh =
          loadRun(rowVector, from, ValueRange{bIndex, kvHead, t, column});
      storeRun(fresh, to, ValueRange{bIndex, kvHead, row, column});
    }
  }

  /// Row-major position of `indices` in `shape`.
  Value linearize(ArrayRef<Value> indices, ArrayRef<int64_t> shape) {
    Value linear = indices.front();
    for (size_t d = 1; d < indices.size(); ++d)
      linear = arith::AddIOp::create(
          b, arith::MulIOp::create(b, linear, index(shape[d])), indices[d]);
    return linear;
  }

  /// A lane's value of lane `source` (a dynamic lane index).
  Value shuffleIndex(Value value, Value source) {
    Value lane32 = arith::IndexCastOp::create(b, b.getI32Type(), source);
    return gpu::ShuffleOp::create(
               b, value, lane32,
               arith::ConstantOp::create(b, b.getI32IntegerAttr(kWarpSize)),
               gpu::ShuffleMode::IDX)
        .getShuffleResult();
  }

  Value warpReduce(Value value, bool max) {
    for (int64_t offset = kWarpSize / 2; offset > 0; offset /= 2) {
      Value other = shuffleXor(value, offset);
      value = max ? Value(arith::MaximumFOp::create(b, value, other))
                  : Value(arith::AddFOp::create(b, value, other));
    }
    return value;
  }

  void buildCombineKernel() {
    OpBuilder::InsertionGuard guard(b);
    createNamedLaunch(b, "onebit_attention_combine",
                      index(batch * heads * newRows), index(1),
                      index(kWarpSize), TypeRange{});
    Value state = gpu::BlockIdOp::create(b, gpu::Dimension::x);
    Value lane = gpu::ThreadIdOp::create(b, gpu::Dimension::x);

    // Lane l holds the maximum and sum of partials l, l + 32, ... (all
    // loaded at once); the warp reduces the maximum, then each partial's
    // weight exp(max_p - max) stays in its lane.
    int64_t rounds = llvm::divideCeil(partials, kWarpSize);
    SmallVector<Value> maxes, sums;
    for (int64_t r = 0; r < rounds; ++r) {
      Value partial = arith::AddIOp::create(b, lane, index(r * kWarpSize));
      Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::ult,
                                           partial, index(partials));
      Value at = arith::MinUIOp::create(b, partial, index(partials - 1));
      maxes.push_back(arith::SelectOp::create(
          b, inside,
          memref::LoadOp::create(b, scratch,
                                 ValueRange{at, state, index(headDim)}),
          f32Const(kLowest)));
      sums.push_back(arith::SelectOp::create(
          b, inside,
          memref::LoadOp::create(b, scratch,
                                 ValueRange{at, state, index(headDim + 1)}),
          f32Const(0)));
    }
    Value max = maxes.front();
    for (Value other : ArrayRef(maxes).drop_front())
      max = arith::MaximumFOp::create(b, max, other);
    max = warpReduce(max, /*max=*/true);
    SmallVector<Value> weights;
    Value sum = f32Const(0);
    for (int64_t r = 0; r < rounds; ++r) {
      weights.push_back(math::ExpOp::create(
          b, arith::SubFOp::create(b, maxes[r], max)));
      sum = arith::AddFOp::create(
          b, sum, arith::MulFOp::create(b, sums[r], weights.back()));
    }
    sum = warpReduce(sum, /*max=*/false);

    // Lane l holds dimensions [l * n, (l + 1) * n), n = ceil(D / 32), read
    // with one vector load per partial; a step issues the loads of up to 32
    // partials before it sums them.
    int64_t perLane = llvm::divideCeil(headDim, kWarpSize);
    int64_t lanesUsed = headDim / perLane;
    auto dimsType = VectorType::get({perLane}, f32);
    Value used = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, lane,
                                       index(lanesUsed));
    Value firstDim = arith::MulIOp::create(
        b, arith::SelectOp::create(b, used, lane, index(0)), index(perLane));
    int64_t perStep = std::gcd(partials, kWarpSize);
    auto loop = scf::ForOp::create(
        b, index(0), index(partials), index(perStep),
        ValueRange{arith::ConstantOp::create(
            b, DenseElementsAttr::get(dimsType, 0.0f))});
    {
      OpBuilder::InsertionGuard inLoop(b);
      b.setInsertionPointToStart(loop.getBody());
      SmallVector<Value> loaded, partialWeights;
      for (int64_t k = 0; k < perStep; ++k) {
        Value partial =
            arith::AddIOp::create(b, loop.getInductionVar(), index(k));
        loaded.push_back(vector::LoadOp::create(
            b, dimsType, scratch, ValueRange{partial, state, firstDim},
            /*nontemporal=*/false, llvm::MaybeAlign(4 * perLane)));
        // The weight of partial p lives in lane p % 32, round p / 32.
        Value round = arith::DivUIOp::create(b, partial, index(kWarpSize));
        Value weight = weights.front();
        for (int64_t r = 1; r < rounds; ++r)
          weight = arith::SelectOp::create(
              b,
              arith::CmpIOp::create(b, arith::CmpIPredicate::eq, round,
                                    index(r)),
              weights[r], weight);
        partialWeights.push_back(shuffleIndex(
            weight, arith::RemUIOp::create(b, partial, index(kWarpSize))));
      }
      Value acc = loop.getRegionIterArgs()[0];
      for (int64_t k = 0; k < perStep; ++k)
        acc = arith::AddFOp::create(
            b, acc,
            arith::MulFOp::create(
                b, loaded[k],
                vector::BroadcastOp::create(b, dimsType, partialWeights[k])));
      scf::YieldOp::create(b, ValueRange{acc});
    }
    SmallVector<Value> where = delinearize(b, state, {batch, heads, newRows});
    Value result = arith::MulFOp::create(
        b, loop.getResult(0),
        vector::BroadcastOp::create(
            b, dimsType, arith::DivFOp::create(b, f32Const(1), sum)));
    if (elementType != f32)
      result = arith::TruncFOp::create(
          b, VectorType::get({perLane}, elementType), result);
    auto store = scf::IfOp::create(b, used, /*withElseRegion=*/false);
    b.setInsertionPointToStart(store.thenBlock());
    vector::StoreOp::create(
        b, result, op.getInit(),
        ValueRange{where[0], where[1], where[2], firstDim},
        /*nontemporal=*/false,
        llvm::MaybeAlign(perLane * elementType.getIntOrFloatBitWidth() / 8));
  }

  ImplicitLocOpBuilder &b;
  CachedAttentionOp op;
  GPUAttentionScheduleAttr schedule;
  Type elementType, f32;
  VectorType laneVector;
  int64_t batch, heads, kvHeads, group, newRows, headDim;
  int64_t lanesPerRow, rowsPerWarp, warps, partials;
  Value cacheRows, scratch;
  // The split kernel's block and lane, and the group's scaled queries.
  Value bIndex, kvHead, warp, laneRow, column;
  SmallVector<Value> queries;
};

struct GPUAttentionPass
    : onebit::impl::OneBitGPUAttentionBase<GPUAttentionPass> {
  void runOnOperation() override {
    SmallVector<CachedAttentionOp> ops;
    getOperation().walk([&](CachedAttentionOp op) { ops.push_back(op); });
    for (CachedAttentionOp op : ops) {
      if (!op.hasPureBufferSemantics()) {
        op.emitOpError() << "must be bufferized before onebit-gpu-attention";
        return signalPassFailure();
      }
      auto schedule =
          dyn_cast_if_present<GPUAttentionScheduleAttr>(op.getScheduleAttr());
      if (!schedule) {
        op.emitOpError() << "has no #onebit.gpu_attention_schedule "
                            "(onebit-gpu-select-schedules chooses one)";
        return signalPassFailure();
      }
      ImplicitLocOpBuilder b(op.getLoc(), op);
      if (failed(AttentionKernelBuilder(b, op, schedule).build()))
        return signalPassFailure();
      op.erase();
    }
  }
};

} // namespace
