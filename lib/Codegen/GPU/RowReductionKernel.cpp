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
// chain.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilding.h"
#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <functional>

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITGPUROWREDUCTIONS
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// Most threads per block: 1024 where few rows leave the GPU to one or a
/// few blocks, 256 where the rows fill it.
constexpr int64_t kMaxBlockSize = 1024;
constexpr int64_t kMaxManyRowsBlockSize = 256;
constexpr int64_t kManyRows = 128;
/// Elements a thread loads at once per step: a block walks a row with
/// this many loads in flight per thread.
constexpr int64_t kUnroll = 4;

/// A row reduction the kernel can take.
struct RowReduction {
  linalg::GenericOp op;
  Operation *combiner;  // the op that folds a value into the output's
  Value value;          // what the combiner folds in
  SmallVector<int64_t> rowShape; // the parallel loops' sizes
  int64_t rowSize;
};

bool isCombiner(Operation *op) {
  return isa<arith::AddFOp, arith::MaximumFOp, arith::MaxNumFOp,
             arith::MinimumFOp, arith::MinNumFOp>(op);
}

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

std::optional<RowReduction> match(linalg::GenericOp op, int64_t minRowSize,
                                  int64_t maxRows) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 1)
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  unsigned numLoops = iterators.size();
  if (iterators.back() != utils::IteratorType::reduction)
    return std::nullopt;
  // The output is indexed by the parallel loops in order.
  OpOperand *init = op.getDpsInitOperand(0);
  AffineMap outMap = op.getMatchingIndexingMap(init);
  if (outMap.getNumResults() != numLoops - 1)
    return std::nullopt;
  for (auto [index, expr] : llvm::enumerate(outMap.getResults())) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim || dim.getPosition() != index)
      return std::nullopt;
  }
  for (OpOperand *input : op.getDpsInputOperands())
    if (!op.getMatchingIndexingMap(input).isProjectedPermutation())
      return std::nullopt;
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.hasStaticShape())
      return std::nullopt;
  }
  auto outType = cast<MemRefType>(init->get().getType());
  if (!isa<Float32Type, Float16Type, BFloat16Type>(outType.getElementType()))
    return std::nullopt;
  std::optional<SmallVector<int64_t>> ranges = op.getStaticLoopRanges();
  if (!ranges)
    return std::nullopt;

  // The body folds one value into the output's element, once.
  Block *body = op.getBody();
  BlockArgument acc = op.getMatchingBlockArgument(init);
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  Operation *combiner = yield.getValues()[0].getDefiningOp();
  if (!combiner || !isCombiner(combiner) || !acc.hasOneUse() ||
      acc.getUses().begin()->getOwner() != combiner)
    return std::nullopt;
  Value value = combiner->getOperand(0) == acc ? combiner->getOperand(1)
                                               : combiner->getOperand(0);
  if (value == acc)
    return std::nullopt;

  RowReduction r{op, combiner, value,
                 SmallVector<int64_t>(ranges->begin(), ranges->end() - 1),
                 ranges->back()};
  int64_t rows = 1;
  for (int64_t size : r.rowShape)
    rows *= size;
  if (r.rowSize < minRowSize || rows > maxRows || rows == 0)
    return std::nullopt;
  return r;
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

/// One op of a row group: per block (one row), a row reduction or an
/// elementwise linalg.generic or linalg.fill over the row's elements.
struct RowStep {
  Operation *op;
  std::optional<RowReduction> reduction;
  SmallVector<int64_t> ranges; // the op's loop sizes
  unsigned rowLoops = 0;       // leading loops that pick the row
  /// A reduction's output value before it, where a fill it absorbed set
  /// it (foldFillsIntoReductions): not loaded again.
  Value initial;
};

/// Elements of one row an elementwise step may cover: a single block walks
/// them.
constexpr int64_t kMaxStepElements = 32768;
/// Most elements of a row each thread holds in registers across the steps
/// of a chain (resident rows, below).
constexpr int64_t kMaxResidentElements = 16;

int64_t product(ArrayRef<int64_t> sizes) {
  int64_t result = 1;
  for (int64_t size : sizes)
    result *= size;
  return result;
}

/// `op` as an elementwise step (a pointwise generic on static buffers) or a
/// fill.
std::optional<RowStep> matchElementwise(Operation *op) {
  RowStep step{op, std::nullopt, {}, 0, Value()};
  if (auto fill = dyn_cast<linalg::FillOp>(op)) {
    auto type = dyn_cast<MemRefType>(fill.getOutputs()[0].getType());
    if (!type || !type.hasStaticShape() || !fill.hasPureBufferSemantics())
      return std::nullopt;
    step.ranges.assign(type.getShape().begin(), type.getShape().end());
    return step;
  }
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !isPointwiseGeneric(generic))
    return std::nullopt;
  for (Value operand : generic->getOperands()) {
    auto type = dyn_cast<MemRefType>(operand.getType());
    if (type && !type.hasStaticShape())
      return std::nullopt;
  }
  std::optional<SmallVector<int64_t>> ranges = generic.getStaticLoopRanges();
  if (!ranges)
    return std::nullopt;
  step.ranges = *ranges;
  return step;
}

/// Sets how many leading loops of `step` pick one of `rows` rows: all the
/// parallel loops of a reduction, the fewest whose sizes multiply to `rows`
/// of an elementwise step (whose remaining loops, at most
/// kMaxStepElements points, are the row's elements).
bool setRowLoops(RowStep &step, int64_t rows) {
  if (step.reduction) {
    step.rowLoops = step.reduction->rowShape.size();
    return product(step.reduction->rowShape) == rows;
  }
  int64_t size = 1;
  unsigned loops = 0;
  while (size < rows && loops < step.ranges.size())
    size *= step.ranges[loops++];
  step.rowLoops = loops;
  return size == rows &&
         product(ArrayRef<int64_t>(step.ranges).drop_front(loops)) <=
             kMaxStepElements;
}

/// The memref operands of a step with their indexing maps.
SmallVector<std::pair<Value, AffineMap>> getAccesses(const RowStep &step) {
  SmallVector<std::pair<Value, AffineMap>> accesses;
  if (auto fill = dyn_cast<linalg::FillOp>(step.op)) {
    Value out = fill.getOutputs()[0];
    accesses.push_back({out, AffineMap::getMultiDimIdentityMap(
                                 step.ranges.size(), out.getContext())});
    return accesses;
  }
  auto generic = cast<linalg::GenericOp>(step.op);
  for (OpOperand &operand : generic->getOpOperands())
    if (isa<MemRefType>(operand.get().getType()))
      accesses.push_back(
          {operand.get(), generic.getMatchingIndexingMap(&operand)});
  return accesses;
}

/// The buffer a step writes.
Value getOutput(const RowStep &step) {
  if (auto fill = dyn_cast<linalg::FillOp>(step.op))
    return fill.getOutputs()[0];
  return cast<linalg::GenericOp>(step.op).getDpsInits()[0];
}

/// Whether blocks of one row at a time may run `steps` in order: every
/// access to a buffer that a step writes touches only the row's part of
/// it. Such an access is indexed first by the row loops, in order, over
/// leading buffer dimensions of their sizes, the rest by the row's
/// elements: row r is then the r-th of `rows` equal contiguous pieces of
/// the buffer, in every view of it.
bool isRowLocal(ArrayRef<RowStep> steps) {
  DenseSet<Value> written;
  for (const RowStep &step : steps)
    written.insert(getBufferRoot(getOutput(step)));
  for (const RowStep &step : steps)
    for (auto [buffer, map] : getAccesses(step)) {
      if (!written.contains(getBufferRoot(buffer)))
        continue;
      auto type = cast<MemRefType>(buffer.getType());
      if (!type.getLayout().isIdentity() ||
          map.getNumResults() < step.rowLoops)
        return false;
      for (auto [index, expr] : llvm::enumerate(map.getResults())) {
        auto dim = dyn_cast<AffineDimExpr>(expr);
        if (index < step.rowLoops) {
          if (!dim || dim.getPosition() != index ||
              type.getDimSize(index) != step.ranges[index])
            return false;
        } else if (dim && dim.getPosition() < step.rowLoops) {
          return false;
        }
      }
    }
  return true;
}

/// The elements of one row a step covers.
int64_t getRowElements(const RowStep &step) {
  return product(ArrayRef<int64_t>(step.ranges).drop_front(step.rowLoops));
}

/// How a step's access to `buffer` through `map` addresses the buffer's
/// root (identity layouts, reshapes only): element e of the block's row,
/// at row * (the row's elements) + e (the identity map on a buffer shaped
/// like the step's loops), or the row's only element, at row (the row
/// loops in order, then a buffer dimension of 1).
enum class RowAccess { Element, RowScalar, Other };

RowAccess classify(const RowStep &step, Value buffer, AffineMap map) {
  auto type = dyn_cast<MemRefType>(buffer.getType());
  if (!type || !type.getLayout().isIdentity() ||
      map.getNumResults() != type.getRank() ||
      map.getNumResults() < step.rowLoops)
    return RowAccess::Other;
  for (unsigned i = 0; i < step.rowLoops; ++i) {
    auto dim = dyn_cast<AffineDimExpr>(map.getResult(i));
    if (!dim || dim.getPosition() != i ||
        type.getDimSize(i) != step.ranges[i])
      return RowAccess::Other;
  }
  if (map.isIdentity() && type.getShape() == ArrayRef(step.ranges))
    return RowAccess::Element;
  if (llvm::all_of(type.getShape().drop_front(step.rowLoops),
                   [](int64_t size) { return size == 1; }))
    return RowAccess::RowScalar;
  return RowAccess::Other;
}

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

/// Splits `steps` into chains that touch disjoint written buffers: steps
/// of one chain run in order, chains at once.
SmallVector<SmallVector<RowStep>> splitIntoChains(ArrayRef<RowStep> steps) {
  SmallVector<unsigned> chainOf(steps.size());
  for (unsigned i = 0; i < steps.size(); ++i)
    chainOf[i] = i;
  std::function<unsigned(unsigned)> find = [&](unsigned i) {
    return chainOf[i] == i ? i : chainOf[i] = find(chainOf[i]);
  };
  for (unsigned j = 0; j < steps.size(); ++j)
    for (unsigned i = 0; i < j; ++i)
      if (!areIndependent(steps[i].op, steps[j].op))
        chainOf[find(j)] = find(i);
  SmallVector<SmallVector<RowStep>> chains;
  DenseMap<unsigned, unsigned> indexOf;
  for (unsigned i = 0; i < steps.size(); ++i) {
    auto [it, inserted] = indexOf.try_emplace(find(i), chains.size());
    if (inserted)
      chains.emplace_back();
    chains[it->second].push_back(steps[i]);
  }
  return chains;
}

/// Drops from `chain` each fill whose buffer the next step touching it
/// reduces into, over exactly the filled elements: the reduction takes the
/// fill's value as its output's value before it instead of loading it
/// (a step, a barrier and a round trip through memory less). The fill's
/// op still goes with the group's.
void foldFillsIntoReductions(SmallVectorImpl<RowStep> &chain) {
  auto touches = [](const RowStep &step, Value root) {
    Value out = getOutput(step);
    if (getBufferRoot(out) == root)
      return true;
    auto generic = dyn_cast<linalg::GenericOp>(step.op);
    return generic && llvm::any_of(generic.getDpsInputs(), [&](Value input) {
             return getBufferRoot(input) == root;
           });
  };
  for (unsigned i = 0; i < chain.size(); ++i) {
    auto fill = dyn_cast<linalg::FillOp>(chain[i].op);
    if (!fill)
      continue;
    Value filled = fill.getOutputs()[0];
    Value root = getBufferRoot(filled);
    for (unsigned j = i + 1; j < chain.size(); ++j) {
      if (!touches(chain[j], root))
        continue;
      Value out = getOutput(chain[j]);
      if (chain[j].reduction && !chain[j].initial &&
          getBufferRoot(out) == root &&
          cast<MemRefType>(out.getType()).getNumElements() ==
              cast<MemRefType>(filled.getType()).getNumElements() &&
          llvm::none_of(linalg::GenericOp(chain[j].reduction->op)
                            .getDpsInputs(),
                        [&](Value input) {
                          return getBufferRoot(input) == root;
                        })) {
        chain[j].initial = fill.getInputs()[0];
        chain.erase(chain.begin() + i--);
      }
      break;
    }
  }
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

/// Moves each row step down past the kernels after it that it does not
/// depend on (nor they on it), so that steps which a product kernel
/// separated (the norms after q, k and v) meet in one row group.
void sinkRowStepsPastKernels(Block &block, int64_t minRowSize,
                             int64_t maxRows) {
  SmallVector<Operation *> candidates;
  for (Operation &op : block) {
    auto generic = dyn_cast<linalg::GenericOp>(op);
    if ((generic && match(generic, minRowSize, maxRows)) ||
        matchElementwise(&op))
      candidates.push_back(&op);
  }
  for (Operation *op : llvm::reverse(candidates)) {
    Operation *after = nullptr;
    for (Operation *next = op->getNextNode(); next;
         next = next->getNextNode()) {
      if (touchesNoData(next))
        continue;
      if (!isa<gpu::LaunchOp>(next) || !areIndependent(op, next))
        break;
      after = next;
    }
    if (after)
      op->moveAfter(after);
  }
}

/// A row group: steps a kernel with one block per row runs in order.
struct RowGroup {
  SmallVector<RowStep> steps;
  int64_t rows;
};

/// Splits the top-level ops of `block` into row groups: runs of steps with
/// only data-free ops between them, of one row count, holding a row
/// reduction. Elementwise steps before a run's first reduction join it
/// from the first one that fits its rows on. A run that is not row-local
/// falls back to its reductions alone.
SmallVector<RowGroup> collectRowGroups(Block &block, int64_t minRowSize,
                                       int64_t maxRows) {
  SmallVector<RowGroup> groups;
  SmallVector<RowStep> current;
  std::optional<int64_t> rows;
  auto close = [&] {
    if (rows && isRowLocal(current)) {
      groups.push_back({current, *rows});
    } else if (rows) {
      for (const RowStep &step : current)
        if (step.reduction)
          groups.push_back({{step}, *rows});
    }
    current.clear();
    rows.reset();
  };
  for (Operation &op : block) {
    std::optional<RowStep> step;
    if (auto generic = dyn_cast<linalg::GenericOp>(op))
      if (std::optional<RowReduction> r =
              match(generic, minRowSize, maxRows)) {
        step = RowStep{&op, r, r->rowShape, 0, Value()};
        step->ranges.push_back(r->rowSize);
      }
    if (!step)
      step = matchElementwise(&op);
    if (!step) {
      if (!touchesNoData(&op))
        close();
      continue;
    }
    if (!step->reduction) {
      if (rows && !setRowLoops(*step, *rows))
        close();
      current.push_back(*step);
      continue;
    }
    int64_t stepRows = product(step->reduction->rowShape);
    if (rows && *rows != stepRows)
      close();
    if (!rows) {
      SmallVector<RowStep> fitting;
      for (RowStep &earlier : current) {
        if (setRowLoops(earlier, stepRows))
          fitting.push_back(earlier);
        else
          fitting.clear();
      }
      current = fitting;
      rows = stepRows;
    }
    setRowLoops(*step, stepRows);
    current.push_back(*step);
  }
  close();
  return groups;
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
