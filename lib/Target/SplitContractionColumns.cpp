//===- SplitContractionColumns.cpp - column blocks on all threads ---------===//
//
// After onebit-interchange-contractions a contraction's loops are its
// parallel rows, its reduction, then its contiguous output columns j. Only
// the rows become a parallel region, so a product of one row (an lm_head at
// batch 1: [1, 4096] x [4096, 32000]) ran on one thread while the others
// waited. Splitting j into blocks of an scf.forall gives every thread
// columns of its own; each block keeps the loop order, and each output
// element its sum order.
//
//===----------------------------------------------------------------------===//

#include "onebit/Target/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITSPLITCONTRACTIONCOLUMNS
#include "onebit/Target/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// Whether `op` is a contraction on buffers whose innermost loop is a
/// parallel loop j that every operand reading it reads as its last
/// (contiguous) index, and nothing else there; returns j's extent and the
/// iterations of its other parallel loops, or failure.
FailureOr<std::pair<int64_t, int64_t>> getColumnsAndRows(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0)
    return failure();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  unsigned j = iterators.size() - 1;
  if (iterators[j] != utils::IteratorType::parallel ||
      llvm::any_of(ranges, ShapedType::isDynamic))
    return failure();
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    bool isOutput = op.isDpsInit(&operand);
    for (auto [index, expr] : llvm::enumerate(map.getResults())) {
      bool last = index + 1 == map.getNumResults();
      if (isOutput && last && expr != getAffineDimExpr(j, op.getContext()))
        return failure();
      if (!expr.isFunctionOfDim(j))
        continue;
      if (!last || expr != getAffineDimExpr(j, op.getContext()))
        return failure();
    }
  }
  int64_t rows = 1;
  for (unsigned d = 0; d < j; ++d)
    if (iterators[d] == utils::IteratorType::parallel)
      rows *= ranges[d];
  return std::make_pair(ranges[j], rows);
}

/// `value` restricted to columns [offset, offset + size) of its last
/// dimension.
Value getColumns(OpBuilder &b, Location loc, Value value, Value offset,
                 int64_t size) {
  auto type = cast<MemRefType>(value.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes, strides(rank, b.getIndexAttr(1));
  for (int64_t size : type.getShape())
    sizes.push_back(b.getIndexAttr(size));
  offsets.back() = offset;
  sizes.back() = b.getIndexAttr(size);
  return memref::SubViewOp::create(b, loc, value, offsets, sizes, strides);
}

/// Replaces `op` by an scf.forall over blocks of `block` columns (the last
/// block may be shorter: a second copy of the op for it).
void splitColumns(IRRewriter &rewriter, linalg::GenericOp op, int64_t columns,
                  int64_t block) {
  Location loc = op.getLoc();
  int64_t full = columns / block;
  int64_t rest = columns % block;
  int64_t blocks = llvm::divideCeil(columns, block);
  rewriter.setInsertionPoint(op);
  auto forall = scf::ForallOp::create(
      rewriter, loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(blocks)},
      ValueRange(), std::nullopt);
  rewriter.setInsertionPointToStart(forall.getBody());
  Value index = forall.getInductionVars().front();
  Value offset = arith::MulIOp::create(
      rewriter, loc, index, arith::ConstantIndexOp::create(rewriter, loc, block));
  int64_t j = op.getNumLoops() - 1;
  // One copy of the op per block size: `block` for the first `full` blocks,
  // `rest` for the last.
  auto buildBlock = [&](int64_t size) {
    IRMapping mapping;
    for (OpOperand &operand : op->getOpOperands())
      if (op.getMatchingIndexingMap(&operand).isFunctionOfDim(j))
        mapping.map(operand.get(),
                    getColumns(rewriter, loc, operand.get(), offset, size));
    rewriter.clone(*op, mapping);
  };
  if (rest == 0) {
    buildBlock(block);
  } else {
    Value isFull = arith::CmpIOp::create(
        rewriter, loc, arith::CmpIPredicate::ult, index,
        arith::ConstantIndexOp::create(rewriter, loc, full));
    auto choice = scf::IfOp::create(rewriter, loc, isFull, /*withElse=*/true);
    rewriter.setInsertionPointToStart(choice.thenBlock());
    buildBlock(block);
    rewriter.setInsertionPointToStart(choice.elseBlock());
    buildBlock(rest);
  }
  rewriter.eraseOp(op);
}

struct OneBitSplitContractionColumnsPass
    : public onebit::impl::OneBitSplitContractionColumnsBase<
          OneBitSplitContractionColumnsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (maxRows < 1 || columnBlock < 1) {
      getOperation().emitError()
          << "onebit-split-contraction-columns: max-rows and column-block "
             "must be at least 1";
      return signalPassFailure();
    }
    SmallVector<std::pair<linalg::GenericOp, int64_t>> candidates;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op->getParentOfType<scf::ForallOp>() ||
          op->getParentOfType<scf::ParallelOp>())
        return;
      FailureOr<std::pair<int64_t, int64_t>> shape = getColumnsAndRows(op);
      if (succeeded(shape) && shape->second <= maxRows &&
          shape->first >= 2 * columnBlock)
        candidates.push_back({op, shape->first});
    });
    IRRewriter rewriter(&getContext());
    for (auto [op, columns] : candidates)
      splitColumns(rewriter, op, columns, columnBlock);
  }
};

} // namespace
