//===- AttentionKernel.cpp - onebit.cached_attention as a CPU loop nest ---===//
//
// onebit-cpu-attention: after bufferization, each onebit.cached_attention
// becomes an scf.forall over (batch, key/value head, tile of new
// positions), on all threads once lowered to OpenMP. An iteration holds
// the queries of its key/value head's group (and of its positions) in
// vector registers and walks the cache rows that exist, then its new rows
// up to each query's own, with an online softmax: blocks of `row_block`
// rows are scored into one vector, whose maximum and exponentials are
// vector operations, and the running maximum, sum and weighted sum of
// values are rescaled once per block. Each key and value row is loaded
// once per iteration for all of its queries. Finally the iteration stores
// its new keys and values at rows P + t of the caches.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITCPUATTENTION
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// The running state of one query's online softmax: the largest score
/// seen, the sum of exp(score - max) and the matching sum of value rows.
struct SoftmaxState {
  Value max, sum, acc;
};

class AttentionBuilder {
public:
  AttentionBuilder(ImplicitLocOpBuilder &b, CachedAttentionOp op,
                   CPUAttentionScheduleAttr schedule)
      : b(b), op(op), schedule(schedule) {
    elementType = getElementTypeOrSelf(op.getQuery().getType());
    CachedAttentionOp::Sizes sizes = op.getSizes();
    heads = sizes.heads;
    newRows = sizes.newRows;
    headDim = sizes.headDim;
    kvHeads = sizes.kvHeads;
    group = sizes.group();
    f32 = b.getF32Type();
    rowType = VectorType::get({headDim}, f32);
  }

  void build() {
    int64_t batch = op.getSizes().batch;
    int64_t tile = std::min<int64_t>(schedule.getQueryTile(), newRows);
    int64_t tiles = llvm::divideCeil(newRows, tile);
    Value position =
        memref::LoadOp::create(b, op.getPosition(), ValueRange{index(0)});
    position = arith::IndexCastOp::create(b, b.getIndexType(), position);
    // Rows that exist: never past the cache, whatever the caller passed.
    Value cacheRows = memref::DimOp::create(b, op.getKeyCache(), 2);
    position = arith::MinSIOp::create(
        b, arith::MaxSIOp::create(b, position, index(0)), cacheRows);
    auto forall = scf::ForallOp::create(
        b,
        ArrayRef<OpFoldResult>{b.getIndexAttr(batch), b.getIndexAttr(kvHeads),
                               b.getIndexAttr(tiles)},
        ValueRange{}, std::nullopt);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forall.getBody());
    Value bIndex = forall.getBody()->getArgument(0);
    Value kvHead = forall.getBody()->getArgument(1);
    Value firstRow =
        arith::MulIOp::create(b, forall.getBody()->getArgument(2), index(tile));
    // Queries of this tile: (new row r, head j of the group); a partial
    // last tile repeats its last row, whose result is stored again.
    SmallVector<Value> rowOf, headOf, queries;
    for (int64_t r = 0; r < tile; ++r) {
      Value row = arith::MinSIOp::create(
          b, arith::AddIOp::create(b, firstRow, index(r)), index(newRows - 1));
      for (int64_t j = 0; j < group; ++j) {
        Value head = arith::AddIOp::create(
            b, arith::MulIOp::create(b, kvHead, index(group)), index(j));
        rowOf.push_back(row);
        headOf.push_back(head);
        queries.push_back(readRow(op.getQuery(), {bIndex, head, row}));
      }
    }
    SmallVector<SoftmaxState> states;
    Value lowest = constantF32(-std::numeric_limits<float>::infinity());
    for (size_t i = 0; i < queries.size(); ++i)
      states.push_back(
          {lowest, constantF32(0),
           vector::BroadcastOp::create(b, rowType, constantF32(0))});

    // Cache rows [0, P): whole blocks, then one at a time.
    int64_t block = schedule.getRowBlock();
    Value blocked = arith::MulIOp::create(
        b, arith::DivUIOp::create(b, position, index(block)), index(block));
    states = walkRows(op.getKeyCache(), op.getValueCache(), bIndex, kvHead,
                      index(0), blocked, block, queries, states, nullptr);
    states = walkRows(op.getKeyCache(), op.getValueCache(), bIndex, kvHead,
                      blocked, position, 1, queries, states, nullptr);
    // New rows [0, last row of the tile]; each query sees rows up to its
    // own (the causal mask).
    Value lastRow = arith::MinSIOp::create(
        b, arith::AddIOp::create(b, firstRow, index(tile)), index(newRows));
    states = walkRows(op.getKey(), op.getValue(), bIndex, kvHead, index(0),
                      lastRow, 1, queries, states, &rowOf);

    for (auto [i, state] : llvm::enumerate(states)) {
      Value scale = arith::DivFOp::create(b, constantF32(1), state.sum);
      Value out = arith::MulFOp::create(
          b, state.acc, vector::BroadcastOp::create(b, rowType, scale));
      writeRow(out, op.getInit(), {bIndex, headOf[i], rowOf[i]});
    }
    // The new rows into the caches, at P + r (rows past the cache dropped).
    for (int64_t r = 0; r < tile; ++r) {
      Value row = rowOf[r * group];
      Value target = arith::AddIOp::create(b, position, row);
      Value fits = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, target,
                                         cacheRows);
      auto ifOp = scf::IfOp::create(b, fits, /*withElseRegion=*/false);
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      for (auto [source, cache] :
           {std::pair{op.getKey(), op.getKeyCache()},
            std::pair{op.getValue(), op.getValueCache()}}) {
        auto type = VectorType::get({headDim}, elementType);
        Value pad = arith::ConstantOp::create(b, b.getZeroAttr(elementType));
        Value data = vector::TransferReadOp::create(
            b, type, source, ValueRange{bIndex, kvHead, row, index(0)}, pad,
            ArrayRef<bool>{true});
        vector::TransferWriteOp::create(
            b, data, cache, ValueRange{bIndex, kvHead, target, index(0)},
            ArrayRef<bool>{true});
      }
    }
    b.setInsertionPointAfter(forall);
    op.erase();
  }

  /// The exp ops built, for the polynomial approximation.
  SmallVector<Operation *> exps;

private:
  Value index(int64_t value) {
    return arith::ConstantIndexOp::create(b, value);
  }
  Value constantF32(float value) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(value));
  }

  /// Row [b, h, r, :] of a [B, H, R, D] memref as a vector<D x f32>.
  Value readRow(Value memref, ArrayRef<Value> at) {
    auto type = VectorType::get({headDim}, elementType);
    Value pad = arith::ConstantOp::create(b, b.getZeroAttr(elementType));
    Value row = vector::TransferReadOp::create(
        b, type, memref, ValueRange{at[0], at[1], at[2], index(0)}, pad,
        ArrayRef<bool>{true});
    return elementType == f32 ? row : arith::ExtFOp::create(b, rowType, row);
  }

  void writeRow(Value row, Value memref, ArrayRef<Value> at) {
    if (elementType != f32)
      row = arith::TruncFOp::create(b, VectorType::get({headDim}, elementType),
                                    row);
    vector::TransferWriteOp::create(b, row, memref,
                                    ValueRange{at[0], at[1], at[2], index(0)},
                                    ArrayRef<bool>{true});
  }

  /// Rows [begin, end) of `keys`/`values` ([B, Hkv, R, D]) in steps of
  /// `block` rows (end - begin a multiple of it), folded into every query's
  /// state. With `visibleUpTo` (the new rows), query i sees row u only if u
  /// <= visibleUpTo[i].
  SmallVector<SoftmaxState> walkRows(Value keys, Value values, Value bIndex,
                                     Value kvHead, Value begin, Value end,
                                     int64_t block, ArrayRef<Value> queries,
                                     ArrayRef<SoftmaxState> states,
                                     const SmallVector<Value> *visibleUpTo) {
    SmallVector<Value> carried;
    for (const SoftmaxState &state : states)
      llvm::append_values(carried, state.max, state.sum, state.acc);
    auto loop = scf::ForOp::create(b, begin, end, index(block), carried);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value first = loop.getInductionVar();
      ValueRange args = loop.getRegionIterArgs();
      auto scoreType = VectorType::get({block}, f32);
      Value scale = constantF32(op.getScale().convertToFloat());
      Value lowest = constantF32(-std::numeric_limits<float>::infinity());
      // Scores of the block's rows for each query.
      SmallVector<Value> scores(
          queries.size(), vector::BroadcastOp::create(b, scoreType, lowest));
      SmallVector<Value> valueRows;
      for (int64_t r = 0; r < block; ++r) {
        Value row = arith::AddIOp::create(b, first, index(r));
        Value key = readRow(keys, {bIndex, kvHead, row});
        valueRows.push_back(readRow(values, {bIndex, kvHead, row}));
        for (auto [i, query] : llvm::enumerate(queries)) {
          Value dot =
              vector::ReductionOp::create(b, vector::CombiningKind::ADD,
                                          arith::MulFOp::create(b, query, key),
                                          arith::FastMathFlags::reassoc);
          Value score = arith::MulFOp::create(b, dot, scale);
          if (visibleUpTo) {
            Value seen = arith::CmpIOp::create(b, arith::CmpIPredicate::ule,
                                               row, (*visibleUpTo)[i]);
            score = arith::SelectOp::create(b, seen, score, lowest);
          }
          scores[i] = vector::InsertOp::create(b, score, scores[i],
                                               ArrayRef<int64_t>{r});
        }
      }
      SmallVector<Value> yielded;
      for (auto [i, score] : llvm::enumerate(scores)) {
        Value oldMax = args[3 * i], oldSum = args[3 * i + 1],
              oldAcc = args[3 * i + 2];
        Value blockMax = vector::ReductionOp::create(
            b, vector::CombiningKind::MAXNUMF, score);
        Value max = arith::MaxNumFOp::create(b, oldMax, blockMax);
        // A query that has seen nothing yet keeps max = -inf: the
        // differences below are then taken against 0 (all of them
        // exp to 0 or 1 correctly).
        Value isLowest =
            arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, max, lowest);
        Value base = arith::SelectOp::create(b, isLowest, constantF32(0), max);
        Value correction = exp(arith::SubFOp::create(b, oldMax, base));
        Value weights = exp(arith::SubFOp::create(
            b, score, vector::BroadcastOp::create(b, scoreType, base)));
        Value sum = arith::AddFOp::create(
            b, arith::MulFOp::create(b, oldSum, correction),
            vector::ReductionOp::create(b, vector::CombiningKind::ADD, weights,
                                        arith::FastMathFlags::reassoc));
        Value acc = arith::MulFOp::create(
            b, oldAcc, vector::BroadcastOp::create(b, rowType, correction));
        for (int64_t r = 0; r < block; ++r) {
          Value weight =
              vector::ExtractOp::create(b, weights, ArrayRef<int64_t>{r});
          acc = vector::FMAOp::create(
              b, vector::BroadcastOp::create(b, rowType, weight), valueRows[r],
              acc);
        }
        llvm::append_values(yielded, max, sum, acc);
      }
      scf::YieldOp::create(b, yielded);
    }
    SmallVector<SoftmaxState> result;
    for (size_t i = 0; i < states.size(); ++i)
      result.push_back({loop.getResult(3 * i), loop.getResult(3 * i + 1),
                        loop.getResult(3 * i + 2)});
    return result;
  }

  Value exp(Value x) {
    Value result = math::ExpOp::create(b, x);
    exps.push_back(result.getDefiningOp());
    return result;
  }

  ImplicitLocOpBuilder &b;
  CachedAttentionOp op;
  CPUAttentionScheduleAttr schedule;
  Type elementType, f32;
  VectorType rowType;
  int64_t heads, newRows, headDim, kvHeads, group;
};

struct CPUAttentionPass
    : onebit::impl::OneBitCPUAttentionBase<CPUAttentionPass> {
  void runOnOperation() override {
    SmallVector<CachedAttentionOp> ops;
    getOperation().walk([&](CachedAttentionOp op) { ops.push_back(op); });
    SmallVector<Operation *> exps;
    for (CachedAttentionOp op : ops) {
      if (!isa<MemRefType>(op.getInit().getType())) {
        op.emitOpError() << "must be bufferized before onebit-cpu-attention";
        return signalPassFailure();
      }
      auto schedule =
          dyn_cast_or_null<CPUAttentionScheduleAttr>(op.getScheduleAttr());
      if (!schedule) {
        op.emitOpError() << "has no CPU schedule "
                            "(#onebit.cpu_attention_schedule, chosen by "
                            "onebit-cpu-select-schedules)";
        return signalPassFailure();
      }
      if (op.getMask()) {
        op.emitOpError() << "cannot honour " << schedule
                         << ": the kernel is causal, and the op has a mask "
                            "among its new positions";
        return signalPassFailure();
      }
      ImplicitLocOpBuilder b(op.getLoc(), op);
      AttentionBuilder builder(b, op, schedule);
      builder.build();
      exps.append(builder.exps);
    }
    // exp in vector code as a polynomial (libm's expf is scalar).
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, [](StringRef name) {
      return name == math::ExpOp::getOperationName();
    });
    if (failed(applyOpPatternsGreedily(exps, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
