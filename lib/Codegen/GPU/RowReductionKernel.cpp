//===- RowReductionKernel.cpp - a thread block per reduced row ------------===//
//
// Loops made of a row reduction give each output element one thread that
// walks the whole row. At batch 1 a norm or a softmax has one to a few rows,
// so it ran on a handful of threads for hundreds of serial steps. Here each
// row gets a block: strided coalesced loads, a partial per thread, warp
// shuffles and workgroup memory for the rest. The row-local fills and
// elementwise ops around the reductions (a LayerNorm's centring and
// normalization) run in the same kernel, one step after another: at batch
// 1 each of them was a launch of its own, mostly latency. Independent
// chains of such steps (the norms after q, k and v, moved together past
// the product kernels between them) share one launch, a block per row and
// chain; where the blocks are few, several blocks share a row
// (RowSplit.cpp). Which ops those are is RowSteps.cpp's analysis, how a
// row's values stay in registers RowResidentValues.h; this file emits the
// kernels.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilding.h"
#include "RowSplit.h"
#include "RowSteps.h"
#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITGPUROWREDUCTIONS
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::row_steps;

namespace {

/// Most threads per block: 1024 where few rows leave the GPU to one or a
/// few blocks, 256 where the rows fill it.
constexpr int64_t kMaxBlockSize = 1024;
constexpr int64_t kMaxManyRowsBlockSize = 256;
constexpr int64_t kManyRows = 128;
/// Elements a thread loads at once per step: a block walks a row with
/// this many loads in flight per thread.
constexpr int64_t kUnroll = 4;

/// The combiner's identity in f32.
Value identity(ImplicitLocOpBuilder &b, Operation *combiner) {
  double value = 0.0;
  if (isa<arith::MaximumFOp, arith::MaxNumFOp>(combiner))
    value = -std::numeric_limits<double>::infinity();
  else if (isa<arith::MinimumFOp, arith::MinNumFOp>(combiner))
    value = std::numeric_limits<double>::infinity();
  return arith::ConstantOp::create(b, b.getF32FloatAttr(value));
}

/// `combiner`'s operation on two values of their type.
Value combine(ImplicitLocOpBuilder &b, Operation *combiner, Value x, Value y) {
  OperationState state(b.getLoc(), combiner->getName());
  state.addOperands({x, y});
  state.addTypes(x.getType());
  state.addAttributes(combiner->getAttrs());
  return b.create(state)->getResult(0);
}

/// The value the body folds in at loop point `point`: the body's other
/// operations cloned with the inputs loaded there (or given by
/// `getInput`, where it returns a value).
Value evaluate(ImplicitLocOpBuilder &b, const RowReduction &r,
               ArrayRef<Value> point,
               llvm::function_ref<Value(OpOperand *)> getInput) {
  linalg::GenericOp op = r.op;
  IRMapping mapping;
  for (OpOperand *input : op.getDpsInputOperands()) {
    BlockArgument arg = op.getMatchingBlockArgument(input);
    if (arg.use_empty())
      continue;
    if (Value given = getInput(input)) {
      mapping.map(arg, given);
      continue;
    }
    AffineMap map = op.getMatchingIndexingMap(input);
    SmallVector<Value> indices;
    for (AffineExpr expr : map.getResults())
      indices.push_back(point[cast<AffineDimExpr>(expr).getPosition()]);
    mapping.map(arg, memref::LoadOp::create(b, input->get(), indices));
  }
  for (Operation &inner : op.getBody()->without_terminator()) {
    if (&inner == r.combiner)
      continue;
    if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
      mapping.map(index.getResult(), point[index.getDim()]);
      continue;
    }
    b.clone(inner, mapping);
  }
  return mapping.lookupOrDefault(r.value);
}

Value toF32(ImplicitLocOpBuilder &b, Value v) {
  return v.getType().isF32() ? v : arith::ExtFOp::create(b, b.getF32Type(), v);
}

/// `getInput` for a step's inputs at slot `slot` (loop point `point`):
/// through `resident`, where given.
auto residentInputs(ImplicitLocOpBuilder &b, ResidentValues *resident,
                    const RowStep &step, ArrayRef<Value> point, int64_t slot) {
  return [=, &b, &step](OpOperand *input) -> Value {
    if (!resident)
      return Value();
    auto generic = cast<linalg::GenericOp>(input->getOwner());
    Value value =
        resident->read(b, step, input->get(),
                       generic.getMatchingIndexingMap(input), point, slot);
    if (!value)
      resident->noteMemoryRead(input->get());
    return value;
  };
}

/// The block's threads walk the row's elements with a stride of the block:
/// kUnroll at a time in a loop (all loads before the stores), or, with
/// `resident` values, all of a thread's elements at once, taking inputs
/// earlier steps stored from registers and recording what this one stores.
void emitElementwise(ImplicitLocOpBuilder &b, const RowStep &step,
                     ArrayRef<Value> row, Value thread, int64_t blockSize,
                     ResidentValues *resident, const RowSplit &split) {
  ArrayRef<int64_t> elementShape =
      ArrayRef<int64_t>(step.ranges).drop_front(step.rowLoops);
  int64_t elements = product(elementShape);
  OpBuilder::InsertionGuard guard(b);
  Value base = constIndex(b, 0);
  int64_t count = llvm::divideCeil(elements, blockSize);
  if (!resident) {
    auto loop = scf::ForOp::create(b, base, constIndex(b, elements),
                                   constIndex(b, blockSize * kUnroll));
    b.setInsertionPointToStart(loop.getBody());
    base = loop.getInductionVar();
    count = kUnroll;
  }
  SmallVector<std::pair<SmallVector<Value>, Value>> results;
  SmallVector<Value> values;
  for (auto [slot, element] : llvm::enumerate(
           getUnrolledElements(b, base, thread, blockSize, elements, count))) {
    auto [index, real] = element;
    SmallVector<Value> point(row);
    llvm::append_range(point, delinearize(b, index, elementShape));
    values.push_back(computeElementwise(
        b, step, point, residentInputs(b, resident, step, point, slot)));
    results.push_back({point, values.back()});
    results.back().first.push_back(
        split.blocks > 1
            ? arith::AndIOp::create(b, real, ownsSlot(b, split, slot))
            : real);
  }
  for (auto &[point, value] : results) {
    Value real = point.pop_back_val();
    auto ifReal = scf::IfOp::create(b, real, /*withElse=*/false);
    OpBuilder::InsertionGuard storeGuard(b);
    b.setInsertionPointToStart(ifReal.thenBlock());
    memref::StoreOp::create(b, value, getOutput(step), point);
  }
  if (resident) {
    resident->commitLoads(step);
    AffineMap outMap =
        isa<linalg::FillOp>(step.op)
            ? AffineMap::getMultiDimIdentityMap(step.ranges.size(),
                                                b.getContext())
            : cast<linalg::GenericOp>(step.op).getMatchingIndexingMap(
                  cast<linalg::GenericOp>(step.op).getDpsInitOperand(0));
    resident->record(step, getOutput(step), outMap, values);
  }
}

/// The block reduces the row: a partial per thread (kUnroll elements at a
/// time in a loop, or with `resident` values all at once, as
/// emitElementwise), warp shuffles, `partials` for the warps; thread 0
/// combines the result with the output's value and stores it.
void emitReduction(ImplicitLocOpBuilder &b, const RowStep &step,
                   ArrayRef<Value> rowIndex, Value thread, Value partials,
                   int64_t blockSize, ResidentValues *resident,
                   const RowSplit &split) {
  const RowReduction &r = *step.reduction;
  int64_t numWarps = blockSize / kWarpSize;
  auto addSlots = [&](Value base, int64_t count, Value partial) {
    SmallVector<Value> values;
    for (auto [slot, element] : llvm::enumerate(getUnrolledElements(
             b, base, thread, blockSize, r.rowSize, count))) {
      auto [index, real] = element;
      SmallVector<Value> point(rowIndex);
      point.push_back(index);
      values.push_back(arith::SelectOp::create(
          b, real,
          toF32(b, evaluate(b, r, point,
                            residentInputs(b, resident, step, point, slot))),
          identity(b, r.combiner)));
    }
    for (Value value : values)
      partial = combine(b, r.combiner, partial, value);
    return partial;
  };
  Value partial;
  if (resident) {
    partial = addSlots(constIndex(b, 0), llvm::divideCeil(r.rowSize, blockSize),
                       identity(b, r.combiner));
  } else {
    auto loop =
        scf::ForOp::create(b, constIndex(b, 0), constIndex(b, r.rowSize),
                           constIndex(b, blockSize * kUnroll),
                           ValueRange{identity(b, r.combiner)});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    scf::YieldOp::create(b, addSlots(loop.getInductionVar(), kUnroll,
                                     loop.getRegionIterArgs()[0]));
    partial = loop.getResult(0);
  }
  auto reduce = [&](Value x, Value y) { return combine(b, r.combiner, x, y); };
  partial = warpReduce(b, partial, reduce);
  Value lane = arith::RemUIOp::create(b, thread, constIndex(b, kWarpSize));
  Value warp = arith::DivUIOp::create(b, thread, constIndex(b, kWarpSize));
  Value zero = constIndex(b, 0);
  Value isLeader =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, zero);
  auto storePartial = scf::IfOp::create(b, isLeader, /*withElse=*/false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(storePartial.thenBlock());
    memref::StoreOp::create(b, partial, partials, ValueRange{warp});
  }
  gpu::BarrierOp::create(b);
  // Every warp combines the warps' partials (lanes past them hold the
  // identity), so every thread holds the row's result; thread 0 writes it.
  Value inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, lane,
                                        constIndex(b, numWarps));
  Value clamped = arith::MinUIOp::create(b, lane, constIndex(b, numWarps - 1));
  Value loaded = memref::LoadOp::create(b, partials, ValueRange{clamped});
  Value total = warpReduce(
      b, arith::SelectOp::create(b, inRange, loaded, identity(b, r.combiner)),
      reduce);
  linalg::GenericOp op = r.op;
  OpOperand *out = op.getDpsInitOperand(0);
  Type elementType = cast<MemRefType>(out->get().getType()).getElementType();
  Value result = elementType.isF32()
                     ? total
                     : arith::TruncFOp::create(b, elementType, total);
  // Where a fill gave the output's value before, every thread knows the
  // stored value.
  Value stored =
      step.initial ? combine(b, r.combiner, step.initial, result) : Value();
  if (resident) {
    resident->commitLoads(step);
    if (stored) {
      resident->record(step, out->get(), op.getMatchingIndexingMap(out),
                       stored);
    } else {
      resident->invalidate(out->get());
      // Thread 0 loads the output's value before it (below).
      resident->noteMemoryRead(out->get());
    }
  }
  Value isFirst =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, thread, zero);
  if (split.blocks > 1)
    isFirst = arith::AndIOp::create(b, isFirst, ownsSlot(b, split, 0));
  auto store = scf::IfOp::create(b, isFirst, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(store.thenBlock());
  if (!stored)
    stored = combine(b, r.combiner,
                     memref::LoadOp::create(b, out->get(), rowIndex), result);
  memref::StoreOp::create(b, stored, out->get(), rowIndex);
}

/// The gpu.launch that runs `chains` (of `rows` rows each) before the
/// last step: a block per row and chain (`blocksPerRow` per row, RowSplit),
/// which runs its chain's steps in order, a barrier between them. Null,
/// with nothing built, where a split row's block would read back what
/// another block stores. A split row's steps read nothing back from
/// memory: they need no barrier between them, and its reductions take
/// turns with two buffers of partials, so that one reduction's writes
/// never meet the reads of the one before (the barrier inside the
/// reduction between them orders them).
gpu::LaunchOp buildLaunch(ArrayRef<RowStep> steps,
                          ArrayRef<SmallVector<RowStep>> chains, int64_t rows,
                          int64_t blockSize, int64_t blocksPerRow) {
  ImplicitLocOpBuilder b(steps.back().op->getLoc(), steps.back().op);
  auto workgroup =
      gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  auto partialsType = MemRefType::get({blockSize / kWarpSize}, b.getF32Type(),
                                      MemRefLayoutAttrInterface(), workgroup);
  int64_t blocks = rows * static_cast<int64_t>(chains.size()) * blocksPerRow;
  bool split = blocksPerRow > 1;
  auto launch = createNamedLaunch(
      b, "onebit_row_reduction", constIndex(b, blocks), constIndex(b, 1),
      constIndex(b, blockSize),
      SmallVector<Type>(split ? 2 : 1, partialsType));
  ArrayRef<BlockArgument> partials = launch.getWorkgroupAttributions();
  Value thread = launch.getThreadIds().x;
  RowSplit rowSplit{blocksPerRow, Value()};
  Value rowAndChain = launch.getBlockIds().x;
  if (split) {
    rowSplit.index =
        arith::RemUIOp::create(b, rowAndChain, constIndex(b, blocksPerRow));
    rowAndChain =
        arith::DivUIOp::create(b, rowAndChain, constIndex(b, blocksPerRow));
  }
  Value rowIndex = arith::RemUIOp::create(b, rowAndChain, constIndex(b, rows));
  bool readBack = false;
  auto emitChain = [&](ArrayRef<RowStep> chain) {
    ResidentValues values(blockSize);
    ResidentValues *resident =
        fitsRegisters(chain, blockSize) ? &values : nullptr;
    auto getRow = [&](const RowStep &step) {
      return delinearize(
          b, rowIndex,
          ArrayRef<int64_t>(step.ranges).take_front(step.rowLoops));
    };
    DenseMap<size_t, SmallVector<TailSlot>> tails;
    if (split) {
      DenseSet<Value> written;
      for (const RowStep &step : chain)
        written.insert(getAliasRoot(getOutput(step)));
      for (size_t i = 0; i < chain.size(); ++i) {
        if (isTail(chain, i))
          tails[i] = loadTailInputs(b, chain[i], getRow(chain[i]), thread,
                                    blockSize, rowSplit, written);
        else
          preloadInputs(b, chain[i], getRow(chain[i]), thread, blockSize,
                        written, values);
      }
      values.setHeldOnly(std::move(written));
    }
    int64_t reductions = 0;
    for (auto [index, step] : llvm::enumerate(chain)) {
      if (index > 0 && !split)
        gpu::BarrierOp::create(b);
      SmallVector<Value> row = getRow(step);
      if (auto tail = tails.find(index); tail != tails.end())
        emitTail(b, step, tail->second, values);
      else if (step.reduction)
        emitReduction(b, step, row, thread,
                      partials[reductions++ % partials.size()], blockSize,
                      resident, rowSplit);
      else
        emitElementwise(b, step, row, thread, blockSize, resident, rowSplit);
    }
    readBack |= values.readHeldOnlyFromMemory();
  };
  if (chains.size() == 1) {
    emitChain(chains.front());
  } else {
    // The chain is uniform across a block: its barriers are safe.
    Value chain = arith::DivUIOp::create(b, rowAndChain, constIndex(b, rows));
    createIndexSwitch(b, chain, chains.size(),
                      [&](int64_t i) { emitChain(chains[i]); });
  }
  if (!readBack)
    return launch;
  // A size's op once each: several sizes share one constant.
  llvm::SmallSetVector<Operation *, 8> sizeOps;
  for (Value size : launch.getOperands())
    if (Operation *def = size.getDefiningOp())
      sizeOps.insert(def);
  launch.erase();
  for (Operation *def : sizeOps)
    if (def->use_empty())
      def->erase();
  return nullptr;
}

/// One gpu.launch in place of the last step that runs `steps` (buildLaunch),
/// its rows split over blocks where that takes no read back. The steps'
/// ops go.
void buildKernel(ArrayRef<RowStep> steps, int64_t rows,
                 int64_t maxBlocksPerRow) {
  // Threads enough for the longest row in one unrolled round.
  int64_t longestRow = 1;
  for (const RowStep &step : steps)
    longestRow = std::max(
        longestRow,
        product(ArrayRef<int64_t>(step.ranges).drop_front(step.rowLoops)));
  SmallVector<SmallVector<RowStep>> chains = splitIntoChains(steps);
  for (SmallVector<RowStep> &chain : chains)
    foldFillsIntoReductions(chain);
  int64_t blocks = rows * static_cast<int64_t>(chains.size());
  int64_t blockSize = std::min<int64_t>(
      blocks >= kManyRows ? kMaxManyRowsBlockSize : kMaxBlockSize,
      llvm::alignTo(llvm::divideCeil(longestRow, kUnroll), kWarpSize));
  int64_t blocksPerRow =
      getBlocksPerRow(chains, rows, blockSize, maxBlocksPerRow, kManyRows);
  if (blocksPerRow == 1 ||
      !buildLaunch(steps, chains, rows, blockSize, blocksPerRow))
    buildLaunch(steps, chains, rows, blockSize, 1);
  for (const RowStep &step : steps)
    step.op->erase();
}

struct OneBitGPURowReductionsPass
    : public onebit::impl::OneBitGPURowReductionsBase<
          OneBitGPURowReductionsPass> {
  using Base::Base;

  void runOnOperation() override {
    for (Block &block : getOperation().getBody()) {
      sinkRowStepsPastKernels(block, minRowSize, maxRows);
      for (const RowGroup &group : collectRowGroups(block, minRowSize, maxRows))
        buildKernel(group.steps, group.rows, maxBlocksPerRow);
    }
  }
};

} // namespace
