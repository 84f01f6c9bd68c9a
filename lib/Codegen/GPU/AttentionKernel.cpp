//===- AttentionKernel.cpp - onebit.cached_attention as split-K kernels ---===//
//
// onebit-gpu-attention: after bufferization, each onebit.cached_attention
// becomes two launches (flash-decoding): `onebit_attention_split` spreads
// the rows that exist, [0, P + t], over `splits` blocks per (batch,
// key/value head, new position) and writes one partial softmax state per
// warp; `onebit_attention_combine` merges them per query head. The position
// is read on the GPU, so the launches are the same at every step and the
// rows past it are never read.
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
    partials = schedule.getSplits() * schedule.getWarps();
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

  void buildSplitKernel() {
    OpBuilder::InsertionGuard guard(b);
    int64_t warps = schedule.getWarps();
    createNamedLaunch(b, "onebit_attention_split", index(schedule.getSplits()),
                      index(batch * kvHeads * newRows),
                      index(warps * kWarpSize), TypeRange{});
    Value split = gpu::BlockIdOp::create(b, gpu::Dimension::x);
    SmallVector<Value> where =
        delinearize(b, gpu::BlockIdOp::create(b, gpu::Dimension::y),
                    {batch, kvHeads, newRows});
    Value bIndex = where[0], kvHead = where[1], t = where[2];
    Value thread = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
    Value warp = arith::DivUIOp::create(b, thread, index(kWarpSize));
    Value lane = arith::RemUIOp::create(b, thread, index(kWarpSize));
    Value laneRow = arith::DivUIOp::create(b, lane, index(lanesPerRow));
    Value column = arith::MulIOp::create(
        b, arith::RemUIOp::create(b, lane, index(lanesPerRow)),
        index(kLaneElements));

    // Rows [0, P + t]: the cache's below P, then the new ones.
    Value position = loadPosition();
    Value valid = arith::AddIOp::create(
        b, arith::AddIOp::create(b, position, t), index(1));
    Value chunk =
        arith::CeilDivUIOp::create(b, valid, index(schedule.getSplits()));
    Value start = arith::MulIOp::create(b, split, chunk);
    Value end = arith::MinUIOp::create(
        b, arith::AddIOp::create(b, start, chunk), valid);

    // The group's queries, scaled.
    Value scale = broadcast(f32Const(op.getScale().convertToFloat()));
    SmallVector<Value> queries;
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

    Value rowStep = index(warps * rowsPerWarp);
    Value firstRow = arith::AddIOp::create(
        b, start,
        arith::AddIOp::create(
            b, arith::MulIOp::create(b, warp, index(rowsPerWarp)), laneRow));
    // Every lane runs the same iterations (the shuffles need the whole
    // warp); a lane past the end scores its row as kLowest, weight 0.
    auto loop = scf::ForOp::create(b, start, end, rowStep, init);
    {
      OpBuilder::InsertionGuard inLoop(b);
      b.setInsertionPointToStart(loop.getBody());
      Value row = arith::AddIOp::create(
          b, firstRow, arith::SubIOp::create(b, loop.getInductionVar(), start));
      Value inRange =
          arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, end);
      row = arith::SelectOp::create(b, inRange, row, start);
      Value inCache =
          arith::CmpIOp::create(b, arith::CmpIPredicate::ult, row, position);
      auto rowVector = VectorType::get({kLaneElements}, elementType);
      auto load = scf::IfOp::create(b, TypeRange{rowVector, rowVector}, inCache,
                                    /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard inIf(b);
        b.setInsertionPointToStart(load.thenBlock());
        SmallVector<Value> at = {bIndex, kvHead, row, column};
        scf::YieldOp::create(
            b, ValueRange{loadRun(rowVector, op.getKeyCache(), at),
                          loadRun(rowVector, op.getValueCache(), at)});
        b.setInsertionPointToStart(load.elseBlock());
        SmallVector<Value> fresh = {
            bIndex, kvHead, arith::SubIOp::create(b, row, position), column};
        scf::YieldOp::create(
            b, ValueRange{loadRun(rowVector, op.getKey(), fresh),
                          loadRun(rowVector, op.getValue(), fresh)});
      }
      Value key = load.getResult(0), value = load.getResult(1);
      if (elementType != f32) {
        key = arith::ExtFOp::create(b, laneVector, key);
        value = arith::ExtFOp::create(b, laneVector, value);
      }
      SmallVector<Value> next;
      ValueRange carried = loop.getRegionIterArgs();
      for (int64_t g = 0; g < group; ++g) {
        Value score = vector::ReductionOp::create(
            b, vector::CombiningKind::ADD,
            arith::MulFOp::create(b, queries[g], key));
        for (int64_t offset = lanesPerRow / 2; offset > 0; offset /= 2)
          score = arith::AddFOp::create(b, score, shuffleXor(score, offset));
        score = arith::SelectOp::create(b, inRange, score, f32Const(kLowest));
        Value max = arith::MaximumFOp::create(b, carried[3 * g], score);
        Value rescale = math::ExpOp::create(
            b, arith::SubFOp::create(b, carried[3 * g], max));
        Value weight = arith::SelectOp::create(
            b, inRange,
            math::ExpOp::create(b, arith::SubFOp::create(b, score, max)),
            f32Const(0));
        Value sum = arith::AddFOp::create(
            b, arith::MulFOp::create(b, carried[3 * g + 1], rescale), weight);
        Value acc = arith::AddFOp::create(
            b, arith::MulFOp::create(b, carried[3 * g + 2], broadcast(rescale)),
            arith::MulFOp::create(b, value, broadcast(weight)));
        next.append({max, sum, acc});
      }
      scf::YieldOp::create(b, next);
    }

    // The warp's row groups merged, one partial per warp to the scratch.
    Value partial = arith::AddIOp::create(
        b, arith::MulIOp::create(b, split, index(warps)), warp);
    Value leads =
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, laneRow, index(0));
    for (int64_t g = 0; g < group; ++g) {
      SoftmaxState state = {loop.getResult(3 * g), loop.getResult(3 * g + 1),
                            loop.getResult(3 * g + 2)};
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

  void buildCombineKernel() {
    OpBuilder::InsertionGuard guard(b);
    createNamedLaunch(b, "onebit_attention_combine",
                      index(batch * heads * newRows), index(1),
                      index(kWarpSize), TypeRange{});
    Value state = gpu::BlockIdOp::create(b, gpu::Dimension::x);
    Value lane = gpu::ThreadIdOp::create(b, gpu::Dimension::x);
    Value zero = index(0), one = index(1), count = index(partials);
    auto statAt = [&](Value partial, int64_t field) -> Value {
      return memref::LoadOp::create(
          b, scratch, ValueRange{partial, state, index(headDim + field)});
    };

    auto maxLoop =
        scf::ForOp::create(b, zero, count, one, ValueRange{f32Const(kLowest)});
    {
      OpBuilder::InsertionGuard inLoop(b);
      b.setInsertionPointToStart(maxLoop.getBody());
      scf::YieldOp::create(b, ValueRange{arith::MaximumFOp::create(
                                  b, maxLoop.getRegionIterArgs()[0],
                                  statAt(maxLoop.getInductionVar(), 0))});
    }
    Value max = maxLoop.getResult(0);

    // Lane i holds dimensions i, i + 32, ...
    int64_t perLane = llvm::divideCeil(headDim, kWarpSize);
    SmallVector<Value> init(perLane + 1, f32Const(0));
    auto sumLoop = scf::ForOp::create(b, zero, count, one, init);
    {
      OpBuilder::InsertionGuard inLoop(b);
      b.setInsertionPointToStart(sumLoop.getBody());
      Value partial = sumLoop.getInductionVar();
      ValueRange carried = sumLoop.getRegionIterArgs();
      Value weight = math::ExpOp::create(
          b, arith::SubFOp::create(b, statAt(partial, 0), max));
      SmallVector<Value> next = {arith::AddFOp::create(
          b, carried[0], arith::MulFOp::create(b, statAt(partial, 1), weight))};
      for (int64_t j = 0; j < perLane; ++j) {
        Value dim = arith::MinUIOp::create(
            b, arith::AddIOp::create(b, lane, index(j * kWarpSize)),
            index(headDim - 1));
        Value acc =
            memref::LoadOp::create(b, scratch, ValueRange{partial, state, dim});
        next.push_back(arith::AddFOp::create(
            b, carried[j + 1], arith::MulFOp::create(b, acc, weight)));
      }
      scf::YieldOp::create(b, next);
    }
    SmallVector<Value> where = delinearize(b, state, {batch, heads, newRows});
    Value inverse = arith::DivFOp::create(b, f32Const(1), sumLoop.getResult(0));
    for (int64_t j = 0; j < perLane; ++j) {
      Value dim = arith::AddIOp::create(b, lane, index(j * kWarpSize));
      Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, dim,
                                           index(headDim));
      auto store = scf::IfOp::create(b, inside, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard inIf(b);
      b.setInsertionPointToStart(store.thenBlock());
      Value result =
          arith::MulFOp::create(b, sumLoop.getResult(j + 1), inverse);
      if (elementType != f32)
        result = arith::TruncFOp::create(b, elementType, result);
      memref::StoreOp::create(b, result, op.getInit(),
                              ValueRange{where[0], where[1], where[2], dim});
    }
  }

  ImplicitLocOpBuilder &b;
  CachedAttentionOp op;
  GPUAttentionScheduleAttr schedule;
  Type elementType, f32;
  VectorType laneVector;
  int64_t batch, heads, kvHeads, group, newRows, headDim;
  int64_t lanesPerRow, rowsPerWarp, partials;
  Value cacheRows, scratch;
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
