//===- RowSteps.cpp - the ops a row-reduction kernel runs -----------------===//
//
// See RowSteps.h.
//
//===----------------------------------------------------------------------===//

#include "RowSteps.h"
#include "KernelBuilding.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

#include <functional>

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::row_steps;

namespace {

/// Elements of one row an elementwise step may cover: a single block walks
/// them.
constexpr int64_t kMaxStepElements = 32768;

bool isCombiner(Operation *op) {
  return isa<arith::AddFOp, arith::MaximumFOp, arith::MaxNumFOp,
             arith::MinimumFOp, arith::MinNumFOp>(op);
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

} // namespace

std::optional<RowReduction> row_steps::matchRowReduction(linalg::GenericOp op,
                                                         int64_t minRowSize,
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

Value row_steps::getOutput(const RowStep &step) {
  if (auto fill = dyn_cast<linalg::FillOp>(step.op))
    return fill.getOutputs()[0];
  return cast<linalg::GenericOp>(step.op).getDpsInits()[0];
}

int64_t row_steps::getRowElements(const RowStep &step) {
  return product(ArrayRef<int64_t>(step.ranges).drop_front(step.rowLoops));
}

RowAccess row_steps::classify(const RowStep &step, Value buffer,
                              AffineMap map) {
  auto type = dyn_cast<MemRefType>(buffer.getType());
  if (!type || !type.getLayout().isIdentity() ||
      map.getNumResults() != type.getRank() ||
      map.getNumResults() < step.rowLoops)
    return RowAccess::Other;
  for (unsigned i = 0; i < step.rowLoops; ++i) {
    auto dim = dyn_cast<AffineDimExpr>(map.getResult(i));
    if (!dim || dim.getPosition() != i || type.getDimSize(i) != step.ranges[i])
      return RowAccess::Other;
  }
  if (map.isIdentity() && type.getShape() == ArrayRef(step.ranges))
    return RowAccess::Element;
  if (llvm::all_of(type.getShape().drop_front(step.rowLoops),
                   [](int64_t size) { return size == 1; }))
    return RowAccess::RowScalar;
  return RowAccess::Other;
}

namespace {

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
      if (!type.getLayout().isIdentity() || map.getNumResults() < step.rowLoops)
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

} // namespace

/// Splits `steps` into chains that touch disjoint written buffers: steps
/// of one chain run in order, chains at once.
SmallVector<SmallVector<RowStep>>
row_steps::splitIntoChains(ArrayRef<RowStep> steps) {
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
void row_steps::foldFillsIntoReductions(SmallVectorImpl<RowStep> &chain) {
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
          llvm::none_of(
              linalg::GenericOp(chain[j].reduction->op).getDpsInputs(),
              [&](Value input) { return getBufferRoot(input) == root; })) {
        chain[j].initial = fill.getInputs()[0];
        chain.erase(chain.begin() + i--);
      }
      break;
    }
  }
}

/// Moves each row step down past the kernels after it that it does not
/// depend on (nor they on it), so that steps which a product kernel
/// separated (the norms after q, k and v) meet in one row group.
void row_steps::sinkRowStepsPastKernels(Block &block, int64_t minRowSize,
                                        int64_t maxRows) {
  SmallVector<Operation *> candidates;
  for (Operation &op : block) {
    auto generic = dyn_cast<linalg::GenericOp>(op);
    if ((generic && matchRowReduction(generic, minRowSize, maxRows)) ||
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

/// Splits the top-level ops of `block` into row groups: runs of steps with
/// only data-free ops between them, of one row count, holding a row
/// reduction. Elementwise steps before a run's first reduction join it
/// from the first one that fits its rows on. A run that is not row-local
/// falls back to its reductions alone.
SmallVector<RowGroup>
row_steps::collectRowGroups(Block &block, int64_t minRowSize, int64_t maxRows) {
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
              matchRowReduction(generic, minRowSize, maxRows)) {
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

Value row_steps::computeElementwise(
    ImplicitLocOpBuilder &b, const RowStep &step, ArrayRef<Value> point,
    llvm::function_ref<Value(OpOperand *)> getInput) {
  if (auto fill = dyn_cast<linalg::FillOp>(step.op))
    return fill.getInputs()[0];
  return evaluatePointwiseGeneric(b, cast<linalg::GenericOp>(step.op), point,
                                  getInput);
}
