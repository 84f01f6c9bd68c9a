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

#include "onebit/Dialect/OneBit/IR/ConstantVector.h"
#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/SetVector.h"

#include <cstring>

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITSPLITCONTRACTIONCOLUMNS
#include "onebit/Codegen/Passes.h.inc"
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

/// A constant weight that a column split stores block by block: the
/// operand, read through a `memref.get_global` of a constant global (and
/// reshapes, which keep a row-major buffer's bytes), has `rows` rows of
/// `columns` elements.
struct ConstantOperand {
  memref::GlobalOp global;
  ArrayRef<char> bytes;
  int64_t rows;
};

/// `operand` as a ConstantOperand, or nothing. Only a weight that nothing
/// else reads: a second reader would keep the old global, and the library
/// would hold the weight twice.
std::optional<ConstantOperand> getConstantOperand(Value operand,
                                                  SymbolTable &symbols,
                                                  Operation *module) {
  auto type = cast<MemRefType>(operand.getType());
  if (!type.getLayout().isIdentity() || !type.hasStaticShape() ||
      !operand.hasOneUse())
    return std::nullopt;
  Value source = operand;
  while (auto expand = source.getDefiningOp<memref::ExpandShapeOp>()) {
    source = expand.getSrc();
    if (!source.hasOneUse())
      return std::nullopt;
  }
  auto getGlobal = source.getDefiningOp<memref::GetGlobalOp>();
  if (!getGlobal || !getGlobal.getType().getLayout().isIdentity())
    return std::nullopt;
  auto global = symbols.lookup<memref::GlobalOp>(getGlobal.getName());
  if (!global || !global.getConstant() ||
      type.getElementTypeBitWidth() % 8 != 0)
    return std::nullopt;
  std::optional<SymbolTable::UseRange> uses =
      SymbolTable::getSymbolUses(global, module);
  if (!uses || llvm::range_size(*uses) != 1)
    return std::nullopt;
  std::optional<ArrayRef<char>> bytes =
      getRawElementBytes(global.getInitialValue().value_or(Attribute()));
  if (!bytes || int64_t(bytes->size()) != type.getNumElements() *
                                              type.getElementTypeBitWidth() /
                                              8)
    return std::nullopt;
  return ConstantOperand{global, *bytes,
                         type.getNumElements() / type.getShape().back()};
}

/// The bytes of `weight` ([rows, columns]) block by block: block b holds
/// columns [b * block, b * block + width) of every row, rows `width`
/// elements apart (width = block, or the rest for the last block).
std::vector<char> getColumnBlocks(const ConstantOperand &weight,
                                  int64_t columns, int64_t block,
                                  int64_t elementBytes) {
  std::vector<char> blocked(weight.bytes.size());
  for (int64_t first = 0; first < columns; first += block) {
    int64_t width = std::min(block, columns - first);
    for (int64_t row = 0; row < weight.rows; ++row)
      std::memcpy(&blocked[(first * weight.rows + row * width) * elementBytes],
                  &weight.bytes[(row * columns + first) * elementBytes],
                  width * elementBytes);
  }
  return blocked;
}

/// `value` restricted to columns [offset, offset + width) of its last
/// dimension.
Value getColumns(OpBuilder &b, Location loc, Value value, Value offset,
                 int64_t width) {
  auto type = cast<MemRefType>(value.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes, strides(rank, b.getIndexAttr(1));
  for (int64_t size : type.getShape())
    sizes.push_back(b.getIndexAttr(size));
  offsets.back() = offset;
  sizes.back() = b.getIndexAttr(width);
  return memref::SubViewOp::create(b, loc, value, offsets, sizes, strides);
}

/// Block `index` of a weight stored by getColumnBlocks (`blocked`, flat),
/// in the shape of `original` with `width` columns: rows `width` apart from
/// element `index * block * rows`.
Value getBlock(OpBuilder &b, Location loc, Value blocked, Value original,
               Value index, int64_t block, int64_t width) {
  auto type = cast<MemRefType>(original.getType());
  int64_t rows = type.getNumElements() / type.getShape().back();
  SmallVector<int64_t> shape(type.getShape());
  shape.back() = width;
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  Value offset = arith::MulIOp::create(
      b, loc, index, arith::ConstantIndexOp::create(b, loc, block * rows));
  auto viewType = MemRefType::get(
      shape, type.getElementType(),
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic, strides));
  SmallVector<OpFoldResult> sizes, strideValues;
  for (auto [size, stride] : llvm::zip(shape, strides)) {
    sizes.push_back(b.getIndexAttr(size));
    strideValues.push_back(b.getIndexAttr(stride));
  }
  return memref::ReinterpretCastOp::create(b, loc, viewType, blocked,
                                           OpFoldResult(offset), sizes,
                                           strideValues);
}

/// Erases `op` and, once unused, the reshapes and get_global it read
/// through.
void eraseWithUnusedReads(IRRewriter &rewriter, Operation *op) {
  SmallVector<Operation *> reads;
  for (Value operand : op->getOperands())
    if (Operation *read = operand.getDefiningOp();
        read && isa<memref::ExpandShapeOp, memref::GetGlobalOp>(read))
      reads.push_back(read);
  rewriter.eraseOp(op);
  while (!reads.empty()) {
    Operation *read = reads.pop_back_val();
    if (!read->use_empty())
      continue;
    if (auto expand = dyn_cast<memref::ExpandShapeOp>(read))
      if (Operation *source = expand.getSrc().getDefiningOp())
        reads.push_back(source);
    rewriter.eraseOp(read);
  }
}

/// Replaces `op` by an scf.forall over blocks of `block` columns (the last
/// block may be shorter: a second copy of the op for it). Constant inputs
/// that read the columns are stored block by block in a new global, so
/// that each block streams one contiguous run; `replaced` collects the old
/// globals, to be erased once unused.
void splitColumns(IRRewriter &rewriter, linalg::GenericOp op, int64_t columns,
                  int64_t block, SymbolTable &symbols,
                  SetVector<memref::GlobalOp> &replaced) {
  Location loc = op.getLoc();
  int64_t full = columns / block;
  int64_t rest = columns % block;
  int64_t blocks = llvm::divideCeil(columns, block);
  int64_t j = op.getNumLoops() - 1;
  // The flat, blocked copy of each constant input that reads the columns.
  DenseMap<Value, Value> blockedInputs;
  for (OpOperand *operand : op.getDpsInputOperands()) {
    Value input = operand->get();
    if (!op.getMatchingIndexingMap(operand).isFunctionOfDim(j) ||
        blockedInputs.count(input))
      continue;
    std::optional<ConstantOperand> weight =
        getConstantOperand(input, symbols, symbols.getOp());
    if (!weight)
      continue;
    auto type = cast<MemRefType>(input.getType());
    auto flatType =
        MemRefType::get({type.getNumElements()}, type.getElementType());
    std::vector<char> bytes = getColumnBlocks(
        *weight, columns, block, type.getElementTypeBitWidth() / 8);
    ElementsAttr value = getElementsFromRawBytes(
        RankedTensorType::get(flatType.getShape(), type.getElementType()),
        bytes, "column_blocks");
    rewriter.setInsertionPoint(weight->global);
    auto global = memref::GlobalOp::create(
        rewriter, weight->global.getLoc(),
        (weight->global.getSymName() + "_column_blocks").str(),
        rewriter.getStringAttr("private"), flatType, value,
        /*constant=*/true, weight->global.getAlignmentAttr());
    symbols.insert(global);
    replaced.insert(weight->global);
    rewriter.setInsertionPoint(op);
    blockedInputs[input] = memref::GetGlobalOp::create(
        rewriter, loc, flatType, global.getSymName());
  }

  rewriter.setInsertionPoint(op);
  auto forall = scf::ForallOp::create(
      rewriter, loc, ArrayRef<OpFoldResult>{rewriter.getIndexAttr(blocks)},
      ValueRange(), std::nullopt);
  rewriter.setInsertionPointToStart(forall.getBody());
  Value index = forall.getInductionVars().front();
  Value offset = arith::MulIOp::create(
      rewriter, loc, index, arith::ConstantIndexOp::create(rewriter, loc, block));
  // One copy of the op per block width: `block` for the first `full`
  // blocks, `rest` for the last.
  auto buildBlock = [&](int64_t width) {
    IRMapping mapping;
    for (OpOperand &operand : op->getOpOperands()) {
      Value value = operand.get();
      if (!op.getMatchingIndexingMap(&operand).isFunctionOfDim(j))
        continue;
      if (Value blocked = blockedInputs.lookup(value))
        mapping.map(value, getBlock(rewriter, loc, blocked, value, index,
                                    block, width));
      else
        mapping.map(value, getColumns(rewriter, loc, value, offset, width));
    }
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
  eraseWithUnusedReads(rewriter, op);
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
    SymbolTable symbols(getOperation());
    SetVector<memref::GlobalOp> replaced;
    IRRewriter rewriter(&getContext());
    for (auto [op, columns] : candidates)
      splitColumns(rewriter, op, columns, columnBlock, symbols, replaced);
    for (memref::GlobalOp global : replaced)
      if (SymbolTable::symbolKnownUseEmpty(global, getOperation()))
        symbols.erase(global);
  }
};

} // namespace
