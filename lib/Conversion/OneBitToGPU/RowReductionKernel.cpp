//===- RowReductionKernel.cpp - a thread block per reduced row ------------===//
//
// Loops made of a row reduction give each output element one thread that
// walks the whole row. At batch 1 a norm or a softmax has one to a few rows,
// so it ran on a handful of threads for hundreds of serial steps. Here each
// row gets a block: strided coalesced loads, a partial per thread, warp
// shuffles and workgroup memory for the rest.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilding.h"
#include "onebit/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITGPUROWREDUCTIONS
#include "onebit/Conversion/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

constexpr int64_t kMaxBlockSize = 256;

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
/// operations cloned with the inputs loaded there.
Value evaluate(ImplicitLocOpBuilder &b, const RowReduction &r,
               ArrayRef<Value> point) {
  linalg::GenericOp op = r.op;
  IRMapping mapping;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    SmallVector<Value> indices;
    for (AffineExpr expr : map.getResults())
      indices.push_back(point[cast<AffineDimExpr>(expr).getPosition()]);
    BlockArgument arg = op.getMatchingBlockArgument(input);
    if (!arg.use_empty())
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

void buildKernel(const RowReduction &r) {
  linalg::GenericOp op = r.op;
  ImplicitLocOpBuilder b(op.getLoc(), op);
  int64_t rows = 1;
  for (int64_t size : r.rowShape)
    rows *= size;
  int64_t blockSize =
      std::min<int64_t>(kMaxBlockSize, llvm::alignTo(r.rowSize, kWarpSize));
  int64_t numWarps = blockSize / kWarpSize;
  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(),
                                              gpu::AddressSpace::Workgroup);
  auto partialsType = MemRefType::get({numWarps}, b.getF32Type(),
                                      MemRefLayoutAttrInterface(), workgroup);
  auto launch = createNamedLaunch(b, "onebit_row_reduction",
                                  constIndex(b, rows), constIndex(b, 1),
                                  constIndex(b, blockSize),
                                  TypeRange{partialsType});
  Value partials = launch.getWorkgroupAttributions()[0];
  Value thread = launch.getThreadIds().x;
  SmallVector<Value> rowIndex = delinearize(b, launch.getBlockIds().x, r.rowShape);

  auto loop = scf::ForOp::create(b, thread, constIndex(b, r.rowSize),
                                 constIndex(b, blockSize),
                                 ValueRange{identity(b, r.combiner)});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> point(rowIndex);
    point.push_back(loop.getInductionVar());
    Value value = toF32(b, evaluate(b, r, point));
    scf::YieldOp::create(
        b, combine(b, r.combiner, loop.getRegionIterArgs()[0], value));
  }
  auto reduce = [&](Value x, Value y) { return combine(b, r.combiner, x, y); };
  Value partial = warpReduce(b, loop.getResult(0), reduce);
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
  // identity); thread 0 writes the row.
  Value inRange = arith::CmpIOp::create(b, arith::CmpIPredicate::ult, lane,
                                        constIndex(b, numWarps));
  Value clamped = arith::MinUIOp::create(b, lane, constIndex(b, numWarps - 1));
  Value loaded = memref::LoadOp::create(b, partials, ValueRange{clamped});
  Value total = warpReduce(
      b, arith::SelectOp::create(b, inRange, loaded, identity(b, r.combiner)),
      reduce);
  Value isFirst =
      arith::CmpIOp::create(b, arith::CmpIPredicate::eq, thread, zero);
  auto store = scf::IfOp::create(b, isFirst, /*withElse=*/false);
  b.setInsertionPointToStart(store.thenBlock());
  Value out = op.getDpsInits()[0];
  Type elementType = cast<MemRefType>(out.getType()).getElementType();
  Value result = elementType.isF32()
                     ? total
                     : arith::TruncFOp::create(b, elementType, total);
  Value before = memref::LoadOp::create(b, out, rowIndex);
  memref::StoreOp::create(b, combine(b, r.combiner, before, result), out,
                          rowIndex);
  op.erase();
}

struct OneBitGPURowReductionsPass
    : public onebit::impl::OneBitGPURowReductionsBase<
          OneBitGPURowReductionsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<RowReduction> reductions;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op->getParentOfType<gpu::LaunchOp>())
        return;
      if (std::optional<RowReduction> r = match(op, minRowSize, maxRows))
        reductions.push_back(*r);
    });
    for (const RowReduction &r : reductions)
      buildKernel(r);
  }
};

} // namespace
