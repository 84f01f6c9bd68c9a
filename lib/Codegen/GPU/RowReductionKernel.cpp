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
// chain. Which ops those are is RowSteps.cpp's analysis; this file emits
// the kernels.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilding.h"
#include "RowSteps.h"
#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

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

/// Most elements of a row each thread holds in registers across the steps
/// of a chain (resident rows, below).
constexpr int64_t kMaxResidentElements = 16;

/// Per thread, the values that earlier steps of a chain loaded or stored
/// for the elements the thread owns, by buffer root: later steps take them
/// from registers instead of loading them again. A thread owns elements
/// slot * blockSize + thread of every row (clamped to the last, as the
/// steps evaluate them), whatever the step; a row of one element is slot 0
/// in every thread.
class ResidentValues {
public:
  /// What slot `slot` of `step` reads from `buffer` through `map` at
  /// `point`: a resident value, or a load that later steps may take
  /// (commitLoads). Null where the access is not one of a row's elements.
  Value read(ImplicitLocOpBuilder &b, const RowStep &step, Value buffer,
             AffineMap map, ArrayRef<Value> point, int64_t slot) {
    RowAccess access = classify(step, buffer, map);
    if (access == RowAccess::Other)
      return Value();
    int64_t elements =
        access == RowAccess::RowScalar ? 1 : getRowElements(step);
    Value root = getBufferRoot(buffer);
    if (Value value = lookup(rows, root, elements, slot))
      return value;
    if (Value value = lookup(loaded, root, elements, slot))
      return value;
    Value value =
        memref::LoadOp::create(b, buffer, getMapIndices(b, map, point));
    auto [it, inserted] = loaded.try_emplace(root, Row{elements, {}});
    if (it->second.elements == elements &&
        static_cast<int64_t>(it->second.slots.size()) == slot)
      it->second.slots.push_back(value);
    return value;
  }

  /// Makes the rows that the last step loaded whole resident.
  void commitLoads(const RowStep &step) {
    int64_t slots =
        llvm::divideCeil(getRowElements(step), rowBlockSize);
    for (auto &[root, row] : loaded)
      if (row.elements == 1 ||
          static_cast<int64_t>(row.slots.size()) == slots)
        rows[root] = row;
    loaded.clear();
  }

  /// Records what `step` stored into `buffer` (written through `map`):
  /// `slots`, or nothing known where it is not one value per owned
  /// element.
  void record(const RowStep &step, Value buffer, AffineMap map,
              ArrayRef<Value> slots) {
    Value root = getBufferRoot(buffer);
    rows.erase(root);
    RowAccess access = classify(step, buffer, map);
    int64_t elements = getRowElements(step);
    // An elementwise step over several elements into one per row races.
    if (slots.empty() || access == RowAccess::Other ||
        (access == RowAccess::RowScalar && elements != 1 && !step.reduction))
      return;
    rows[root] = {access == RowAccess::RowScalar ? 1 : elements,
                  SmallVector<Value>(slots)};
  }

  /// Forgets `buffer`'s values.
  void invalidate(Value buffer) { rows.erase(getBufferRoot(buffer)); }

  explicit ResidentValues(int64_t blockSize) : rowBlockSize(blockSize) {}

private:
  struct Row {
    int64_t elements;
    SmallVector<Value> slots;
  };

  /// The value of slot `slot` of a row of `elements` of `root`, if held.
  static Value lookup(const DenseMap<Value, Row> &held, Value root,
                      int64_t elements, int64_t slot) {
    auto it = held.find(root);
    if (it == held.end() || it->second.elements != elements)
      return Value();
    int64_t index = elements == 1 ? 0 : slot;
    return index < static_cast<int64_t>(it->second.slots.size())
               ? it->second.slots[index]
               : Value();
  }

  int64_t rowBlockSize;
  DenseMap<Value, Row> rows;
  DenseMap<Value, Row> loaded; // by the step being emitted
};

/// `getInput` for a step's inputs at slot `slot` (loop point `point`):
/// through `resident`, where given.
auto residentInputs(ImplicitLocOpBuilder &b, ResidentValues *resident,
                    const RowStep &step, ArrayRef<Value> point,
                    int64_t slot) {
  return [=, &b, &step](OpOperand *input) -> Value {
    if (!resident)
      return Value();
    auto generic = cast<linalg::GenericOp>(input->getOwner());
    return resident->read(b, step, input->get(),
                          generic.getMatchingIndexingMap(input), point, slot);
  };
}

/// What the elementwise step computes at loop point `point`.
Value computeElementwise(ImplicitLocOpBuilder &b, const RowStep &step,
                         ArrayRef<Value> point,
                         llvm::function_ref<Value(OpOperand *)> getInput) {
  if (auto fill = dyn_cast<linalg::FillOp>(step.op))
    return fill.getInputs()[0];
  return evaluatePointwiseGeneric(b, cast<linalg::GenericOp>(step.op), point,
                                  getInput);
}

/// The `count` elements a thread takes at `base` (of `elements`): indices
/// base + u * blockSize + thread, clamped to the last element so that
/// every load is in bounds, and whether each is real.
SmallVector<std::pair<Value, Value>>
getUnrolledElements(ImplicitLocOpBuilder &b, Value base, Value thread,
                    int64_t blockSize, int64_t elements, int64_t count) {
  SmallVector<std::pair<Value, Value>> result;
  for (int64_t u = 0; u < count; ++u) {
    Value index = arith::AddIOp::create(
        b, base,
        arith::AddIOp::create(b, thread, constIndex(b, u * blockSize)));
    Value real = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, index,
                                       constIndex(b, elements));
    result.push_back(
        {arith::MinUIOp::create(b, index, constIndex(b, elements - 1)), real});
  }
  return result;
}

/// The block's threads walk the row's elements with a stride of the block:
/// kUnroll at a time in a loop (all loads before the stores), or, with
/// `resident` values, all of a thread's elements at once, taking inputs
/// earlier steps stored from registers and recording what this one stores.
void emitElementwise(ImplicitLocOpBuilder &b, const RowStep &step,
                     ArrayRef<Value> row, Value thread, int64_t blockSize,
                     ResidentValues *resident) {
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
    results.back().first.push_back(real);
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
                   int64_t blockSize, ResidentValues *resident) {
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
    auto loop = scf::ForOp::create(
        b, constIndex(b, 0), constIndex(b, r.rowSize),
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
  Value stored = step.initial ? combine(b, r.combiner, step.initial, result)
                              : Value();
  if (resident) {
    resident->commitLoads(step);
    if (stored)
      resident->record(step, out->get(), op.getMatchingIndexingMap(out),
                       stored);
    else
      resident->invalidate(out->get());
  }
  Value isFirst =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, thread, zero);
  auto store = scf::IfOp::create(b, isFirst, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(store.thenBlock());
  if (!stored)
    stored = combine(b, r.combiner,
                     memref::LoadOp::create(b, out->get(), rowIndex), result);
  memref::StoreOp::create(b, stored, out->get(), rowIndex);
}
/// One gpu.launch in place of the last step that runs `steps`: a block per
/// row and independent chain of steps (splitIntoChains), which runs its
/// chain's steps in order, a barrier between them. The steps' ops go.
void buildKernel(ArrayRef<RowStep> steps, int64_t rows) {
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
  ImplicitLocOpBuilder b(steps.back().op->getLoc(), steps.back().op);
  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                              gpu::AddressSpace::Workgroup);
  auto partialsType =
      MemRefType::get({blockSize / kWarpSize}, b.getF32Type(),
                      MemRefLayoutAttrInterface(), workgroup);
  auto launch = createNamedLaunch(b, "onebit_row_reduction",
                                  constIndex(b, blocks), constIndex(b, 1),
                                  constIndex(b, blockSize),
                                  TypeRange{partialsType});
  Value partials = launch.getWorkgroupAttributions()[0];
  Value thread = launch.getThreadIds().x;
  Value rowIndex =
      arith::RemUIOp::create(b, launch.getBlockIds().x, constIndex(b, rows));
  auto emitChain = [&](ArrayRef<RowStep> chain) {
    // Where each thread's elements of every step fit in registers, the
    // steps run without loops and pass values on in registers: a row goes
    // through memory once on its way in and once out, not at every step.
    bool fitsRegisters = llvm::all_of(chain, [&](const RowStep &step) {
      return llvm::divideCeil(getRowElements(step), blockSize) <=
             kMaxResidentElements;
    });
    ResidentValues values(blockSize);
    ResidentValues *resident = fitsRegisters ? &values : nullptr;
    for (auto [index, step] : llvm::enumerate(chain)) {
      if (index > 0)
        gpu::BarrierOp::create(b);
      SmallVector<Value> row = delinearize(
          b, rowIndex,
          ArrayRef<int64_t>(step.ranges).take_front(step.rowLoops));
      if (step.reduction)
        emitReduction(b, step, row, thread, partials, blockSize, resident);
      else
        emitElementwise(b, step, row, thread, blockSize, resident);
    }
  };
  if (chains.size() == 1) {
    emitChain(chains.front());
  } else {
    // The chain is uniform across a block: its barriers are safe.
    Value chain =
        arith::DivUIOp::create(b, launch.getBlockIds().x, constIndex(b, rows));
    createIndexSwitch(b, chain, chains.size(),
                      [&](int64_t i) { emitChain(chains[i]); });
  }
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
      for (const RowGroup &group :
           collectRowGroups(block, minRowSize, maxRows))
        buildKernel(group.steps, group.rows);
    }
  }
};

} // namespace
