//===- KernelBuilding.cpp - pieces shared by the hand-shaped GPU kernels --===//

#include "KernelBuilding.h"
#include "onebit/Codegen/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;

Value onebit::constIndex(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

Value onebit::constI32(ImplicitLocOpBuilder &b, uint32_t value) {
  return arith::ConstantIntOp::create(b, b.getI32Type(),
                                      static_cast<int64_t>(value));
}

FailureOr<onebit::ProductSizes>
onebit::getProductSizes(PackedSignProductOp product) {
  auto x = cast<ShapedType>(product.getInput().getType());
  auto signs = cast<ShapedType>(product.getSigns().getType());
  auto y = cast<ShapedType>(product.getInit().getType());
  if (!x.hasStaticShape() || !signs.hasStaticShape() || !y.hasStaticShape())
    return failure();
  return ProductSizes{x.getDimSize(0), x.getDimSize(1), y.getDimSize(1),
                      x.getElementType(), y.getElementType()};
}

FailureOr<SmallVector<onebit::ScheduledProduct>>
onebit::getScheduledProducts(Operation *root,
                             llvm::function_ref<bool(Attribute)> isMine) {
  SmallVector<ScheduledProduct> products;
  WalkResult result = root->walk([&](PackedSignProductOp product) {
    Attribute schedule = product.getScheduleAttr();
    if (!schedule || !isMine(schedule))
      return WalkResult::advance();
    SignPackingAttr packing = product.getPacking();
    FailureOr<ProductSizes> sizes = getProductSizes(product);
    if (failed(sizes) || product.getResult()) {
      product.emitOpError()
          << "has schedule " << schedule
          << ", whose kernel takes buffers of static shapes";
      return WalkResult::interrupt();
    }
    if (packing.getWord() != 8 || packing.getOrder() != BitOrder::LSBFirst ||
        packing.getInterleave() != 1) {
      product.emitOpError()
          << "has schedule " << schedule << ", whose kernel reads signs "
          << "packed in bytes, lowest input first, not " << packing;
      return WalkResult::interrupt();
    }
    for (Value operand : {product.getInput(), product.getSigns()}) {
      auto buffer = cast<MemRefType>(operand.getType());
      if (!buffer.getLayout().isIdentity()) {
        product.emitOpError()
            << "has schedule " << schedule << ", whose kernel reads buffers "
            << "with the identity layout only, not " << buffer;
        return WalkResult::interrupt();
      }
    }
    products.push_back({product, *sizes, packing, schedule});
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();
  return products;
}

SmallVector<Value> onebit::delinearize(ImplicitLocOpBuilder &b, Value linear,
                                       ArrayRef<int64_t> shape) {
  SmallVector<Value> indices(shape.size());
  for (int64_t d = shape.size() - 1; d >= 0; --d) {
    Value size = constIndex(b, shape[d]);
    indices[d] = d == 0 ? linear : arith::RemUIOp::create(b, linear, size);
    linear = arith::DivUIOp::create(b, linear, size);
  }
  return indices;
}

Value onebit::warpReduce(ImplicitLocOpBuilder &b, Value value,
                         llvm::function_ref<Value(Value, Value)> combine) {
  for (int32_t offset = kWarpSize / 2; offset > 0; offset /= 2) {
    auto shuffle = gpu::ShuffleOp::create(b, value, offset, kWarpSize,
                                          gpu::ShuffleMode::XOR);
    value = combine(value, shuffle.getShuffleResult());
  }
  return value;
}

Value onebit::warpSum(ImplicitLocOpBuilder &b, Value value) {
  return warpReduce(b, value, [&](Value x, Value y) -> Value {
    return arith::AddFOp::create(b, x, y);
  });
}

gpu::LaunchOp mlir::onebit::createNamedLaunch(ImplicitLocOpBuilder &b,
                                              StringRef kernelName, Value gridX,
                                              Value gridY, Value blockX,
                                              TypeRange workgroup) {
  Value one = constIndex(b, 1);
  auto launch = gpu::LaunchOp::create(b, gridX, gridY, one, blockX, one, one,
                                      /*dynamicSharedMemorySize=*/nullptr,
                                      /*asyncTokenType=*/nullptr,
                                      /*asyncDependencies=*/{}, workgroup);
  launch.setFunctionAttr(FlatSymbolRefAttr::get(b.getContext(), kernelName));
  Block &body = launch.getBody().front();
  b.setInsertionPointToEnd(&body);
  gpu::TerminatorOp::create(b);
  b.setInsertionPointToStart(&body);
  return launch;
}

bool onebit::isPointwiseGeneric(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 0 ||
      !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity() ||
      !op.getRegionOutputArgs()[0].use_empty())
    return false;
  for (AffineMap map : op.getIndexingMapsArray())
    for (AffineExpr expr : map.getResults())
      if (!isa<AffineDimExpr, AffineConstantExpr>(expr))
        return false;
  return llvm::all_of(op.getBody()->without_terminator(), [](Operation &inner) {
    return inner.getNumRegions() == 0 && isMemoryEffectFree(&inner);
  });
}

SmallVector<Value> onebit::getMapIndices(ImplicitLocOpBuilder &b, AffineMap map,
                                         ArrayRef<Value> point) {
  SmallVector<Value> indices;
  for (AffineExpr expr : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr))
      indices.push_back(point[dim.getPosition()]);
    else
      indices.push_back(
          constIndex(b, cast<AffineConstantExpr>(expr).getValue()));
  }
  return indices;
}

Value onebit::evaluatePointwiseGeneric(
    ImplicitLocOpBuilder &b, linalg::GenericOp op, ArrayRef<Value> point,
    llvm::function_ref<Value(OpOperand *)> getInput) {
  IRMapping mapping;
  for (OpOperand *input : op.getDpsInputOperands()) {
    BlockArgument argument = op.getMatchingBlockArgument(input);
    if (argument.use_empty())
      continue;
    if (Value given = getInput ? getInput(input) : Value())
      mapping.map(argument, given);
    else if (!isa<MemRefType>(input->get().getType()))
      mapping.map(argument, input->get());
    else
      mapping.map(
          argument,
          memref::LoadOp::create(
              b, input->get(),
              getMapIndices(b, op.getMatchingIndexingMap(input), point)));
  }
  for (Operation &inner : op.getBody()->without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(inner))
      mapping.map(index.getResult(), point[index.getDim()]);
    else
      b.clone(inner, mapping);
  }
  return mapping.lookupOrDefault(op.getBody()->getTerminator()->getOperand(0));
}

void onebit::createIndexSwitch(ImplicitLocOpBuilder &b, Value which,
                               int64_t count,
                               llvm::function_ref<void(int64_t)> buildCase) {
  auto cases = llvm::to_vector(llvm::seq<int64_t>(0, count));
  auto select = scf::IndexSwitchOp::create(b, TypeRange{}, which, cases, count);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&select.getDefaultRegion().emplaceBlock());
  scf::YieldOp::create(b);
  for (int64_t i = 0; i < count; ++i) {
    b.setInsertionPointToStart(&select.getCaseRegions()[i].emplaceBlock());
    scf::YieldOp::create(b);
    b.setInsertionPointToStart(&select.getCaseRegions()[i].front());
    buildCase(i);
  }
}

Value onebit::getBufferRoot(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (auto collapse = dyn_cast<memref::CollapseShapeOp>(def))
      value = collapse.getSrc();
    else if (auto expand = dyn_cast<memref::ExpandShapeOp>(def))
      value = expand.getSrc();
    else
      break;
  }
  return value;
}

bool onebit::touchesNoData(Operation *op) {
  return isa<gpu::AllocOp, memref::AllocOp>(op) || isMemoryEffectFree(op);
}

Value onebit::getAliasRoot(Value buffer) {
  while (auto view = buffer.getDefiningOp<ViewLikeOpInterface>())
    buffer = view.getViewSource();
  return buffer;
}

namespace {

/// The roots of the buffers `op` reads and writes, from its memory
/// effects and those of the ops inside it; false where some effect is on
/// no buffer in particular (then anything may depend on it).
bool getRoots(Operation *op, DenseSet<Value> &read, DenseSet<Value> &written) {
  auto isOutside = [&](Value root) {
    return !op->isAncestor(root.getParentBlock()->getParentOp());
  };
  bool known = true;
  op->walk([&](Operation *inner) {
    if (inner != op && inner->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return;
    auto effects = dyn_cast<MemoryEffectOpInterface>(inner);
    if (!effects) {
      if (inner->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
        return;
      // Unknown: every buffer it uses is read and written.
      for (Value operand : inner->getOperands())
        if (isa<MemRefType>(operand.getType()) &&
            isOutside(onebit::getAliasRoot(operand))) {
          read.insert(onebit::getAliasRoot(operand));
          written.insert(onebit::getAliasRoot(operand));
        }
      return;
    }
    SmallVector<MemoryEffects::EffectInstance> instances;
    effects.getEffects(instances);
    for (const MemoryEffects::EffectInstance &instance : instances) {
      bool reads = isa<MemoryEffects::Read>(instance.getEffect());
      bool writes = isa<MemoryEffects::Write>(instance.getEffect());
      if (!reads && !writes)
        continue;
      Value value = instance.getValue();
      // A barrier orders the block's own accesses, none outside it.
      if (!value) {
        known &= isa<gpu::BarrierOp>(inner);
        continue;
      }
      Value root = onebit::getAliasRoot(value);
      if (!isOutside(root))
        continue;
      if (reads)
        read.insert(root);
      if (writes)
        written.insert(root);
    }
  });
  return known;
}

} // namespace

bool onebit::areIndependent(Operation *first, Operation *second) {
  DenseSet<Value> firstRead, firstWritten, secondRead, secondWritten;
  if (!getRoots(first, firstRead, firstWritten) ||
      !getRoots(second, secondRead, secondWritten))
    return false;
  auto meets = [](const DenseSet<Value> &a, const DenseSet<Value> &b) {
    return llvm::any_of(a, [&](Value v) { return b.contains(v); });
  };
  return !meets(firstWritten, secondRead) &&
         !meets(firstWritten, secondWritten) &&
         !meets(secondWritten, firstRead);
}
