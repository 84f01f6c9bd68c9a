//===- RowSplit.cpp - a row shared by several blocks ----------------------===//

#include "RowSplit.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::row_steps;

Value row_steps::ownsSlot(ImplicitLocOpBuilder &b, const RowSplit &split,
                          int64_t slot) {
  return arith::CmpIOp::create(b, arith::CmpIPredicate::eq, split.index,
                               constIndex(b, slot % split.blocks));
}

SmallVector<TailSlot>
row_steps::loadTailInputs(ImplicitLocOpBuilder &b, const RowStep &step,
                          ArrayRef<Value> row, Value thread, int64_t blockSize,
                          const RowSplit &split,
                          const DenseSet<Value> &written) {
  ArrayRef<int64_t> elementShape =
      ArrayRef<int64_t>(step.ranges).drop_front(step.rowLoops);
  int64_t elements = product(elementShape);
  int64_t slots = llvm::divideCeil(elements, blockSize);
  auto generic = dyn_cast<linalg::GenericOp>(step.op);
  SmallVector<TailSlot> result;
  for (int64_t j = 0, e = llvm::divideCeil(slots, split.blocks); j < e; ++j) {
    TailSlot &tail = result.emplace_back();
    tail.slot =
        arith::AddIOp::create(b, constIndex(b, j * split.blocks), split.index);
    Value index = arith::AddIOp::create(
        b, arith::MulIOp::create(b, tail.slot, constIndex(b, blockSize)),
        thread);
    tail.real = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, index,
                                      constIndex(b, elements));
    tail.point.assign(row.begin(), row.end());
    llvm::append_range(
        tail.point,
        delinearize(
            b, arith::MinUIOp::create(b, index, constIndex(b, elements - 1)),
            elementShape));
    if (!generic)
      continue;
    for (OpOperand *input : generic.getDpsInputOperands())
      if (!generic.getMatchingBlockArgument(input).use_empty() &&
          isa<MemRefType>(input->get().getType()) &&
          !written.contains(getAliasRoot(input->get())))
        tail.inputs[input] = memref::LoadOp::create(
            b, input->get(),
            getMapIndices(b, generic.getMatchingIndexingMap(input),
                          tail.point));
  }
  return result;
}

void row_steps::preloadInputs(ImplicitLocOpBuilder &b, const RowStep &step,
                              ArrayRef<Value> row, Value thread,
                              int64_t blockSize, const DenseSet<Value> &written,
                              ResidentValues &resident) {
  auto generic = dyn_cast<linalg::GenericOp>(step.op);
  if (!generic)
    return;
  ArrayRef<int64_t> elementShape =
      ArrayRef<int64_t>(step.ranges).drop_front(step.rowLoops);
  int64_t elements = product(elementShape);
  for (auto [slot, element] : llvm::enumerate(
           getUnrolledElements(b, constIndex(b, 0), thread, blockSize, elements,
                               llvm::divideCeil(elements, blockSize)))) {
    SmallVector<Value> point(row);
    llvm::append_range(point, delinearize(b, element.first, elementShape));
    for (OpOperand *input : generic.getDpsInputOperands())
      if (!generic.getMatchingBlockArgument(input).use_empty() &&
          isa<MemRefType>(input->get().getType()) &&
          !written.contains(getAliasRoot(input->get())))
        resident.read(b, step, input->get(),
                      generic.getMatchingIndexingMap(input), point, slot);
  }
  resident.commitLoads(step);
}

void row_steps::emitTail(ImplicitLocOpBuilder &b, const RowStep &step,
                         ArrayRef<TailSlot> slots, ResidentValues &resident) {
  SmallVector<Value> values;
  for (const TailSlot &tail : slots)
    values.push_back(
        computeElementwise(b, step, tail.point, [&](OpOperand *input) -> Value {
          if (Value loaded = tail.inputs.lookup(input))
            return loaded;
          auto generic = cast<linalg::GenericOp>(input->getOwner());
          Value held =
              resident.readAt(b, step, input->get(),
                              generic.getMatchingIndexingMap(input), tail.slot);
          if (!held)
            resident.noteMemoryRead(input->get());
          return held;
        }));
  for (auto [tail, value] : llvm::zip(slots, values)) {
    auto ifReal = scf::IfOp::create(b, tail.real, /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifReal.thenBlock());
    memref::StoreOp::create(b, value, getOutput(step), tail.point);
  }
}

bool row_steps::isTail(ArrayRef<RowStep> chain, size_t index) {
  if (chain[index].reduction)
    return false;
  Value root = getAliasRoot(getOutput(chain[index]));
  return llvm::none_of(chain.drop_front(index + 1), [&](const RowStep &later) {
    if (getAliasRoot(getOutput(later)) == root)
      return true;
    auto generic = dyn_cast<linalg::GenericOp>(later.op);
    return generic && llvm::any_of(generic.getDpsInputs(), [&](Value input) {
             return getAliasRoot(input) == root;
           });
  });
}

bool row_steps::fitsRegisters(ArrayRef<RowStep> chain, int64_t blockSize) {
  return llvm::all_of(chain, [&](const RowStep &step) {
    return llvm::divideCeil(getRowElements(step), blockSize) <=
           kMaxResidentElements;
  });
}

int64_t row_steps::getBlocksPerRow(ArrayRef<SmallVector<RowStep>> chains,
                                   int64_t rows, int64_t blockSize,
                                   int64_t maxBlocks, int64_t maxGrid) {
  int64_t tailSlots = 0;
  for (ArrayRef<RowStep> chain : chains) {
    if (!fitsRegisters(chain, blockSize))
      return 1;
    for (size_t i = 0; i < chain.size(); ++i)
      if (isTail(chain, i))
        tailSlots = std::max<int64_t>(
            tailSlots, llvm::divideCeil(getRowElements(chain[i]), blockSize));
  }
  int64_t blocks = rows * static_cast<int64_t>(chains.size());
  return std::max<int64_t>(1,
                           std::min({maxBlocks, tailSlots, maxGrid / blocks}));
}
