//===- ElementwiseFolds.cpp - neighbours evaluated inside a product kernel ===//

#include "ElementwiseFolds.h"
#include "KernelBuilding.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <functional>

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// The ops that use `root` other than by reshaping it.
SmallVector<Operation *> getDataUsers(Value root) {
  SmallVector<Operation *> users;
  for (Operation *user : root.getUsers()) {
    if (isa<memref::CollapseShapeOp, memref::ExpandShapeOp>(user))
      llvm::append_range(users, getDataUsers(user->getResult(0)));
    else
      users.push_back(user);
  }
  return users;
}

/// Whether nothing between `first` and `last` (same block) touches data.
bool onlyDataFreeOpsBetween(Operation *first, Operation *last) {
  if (first->getBlock() != last->getBlock() || !first->isBeforeInBlock(last))
    return false;
  for (Operation *op = first->getNextNode(); op != last; op = op->getNextNode())
    if (!touchesNoData(op))
      return false;
  return true;
}

/// Whether evaluating `op` at a point costs little more than loading its
/// result: no math-dialect function (exp, tanh, rsqrt, ...) and no
/// division. A product kernel evaluates its prologue again in every block
/// that stages x, so an expensive one (SiLU(gate) · up before a down
/// projection) stays its own kernel, evaluated once per element.
bool isCheapToRecompute(linalg::GenericOp op) {
  return llvm::none_of(op.getBody()->without_terminator(), [](Operation &inner) {
    return isa<math::MathDialect>(inner.getDialect()) ||
           isa<arith::DivFOp, arith::DivSIOp, arith::DivUIOp, arith::RemFOp,
               arith::RemSIOp, arith::RemUIOp>(inner);
  });
}

/// The buffer behind `value` if only `product` and one foldable generic
/// use it, that generic as a fold (`isPrologue`: it writes the buffer
/// before `product`; else it reads it after, with an identity map).
FailureOr<ElementwiseFold> findFold(PackedSignProductOp product, Value value,
                                    bool isPrologue) {
  Value root = getBufferRoot(value);
  if (!root.getDefiningOp<gpu::AllocOp>())
    return failure();
  SmallVector<Operation *> users = getDataUsers(root);
  if (users.size() != 2 || !llvm::is_contained(users, product.getOperation()))
    return failure();
  auto op = dyn_cast<linalg::GenericOp>(
      users[0] == product.getOperation() ? users[1] : users[0]);
  if (!op || !isPointwiseGeneric(op))
    return failure();
  ElementwiseFold fold{op, nullptr, root};
  if (isPrologue) {
    fold.link = op.getDpsInitOperand(0);
    if (getBufferRoot(fold.link->get()) != root || !isCheapToRecompute(op) ||
        !onlyDataFreeOpsBetween(op, product))
      return failure();
    return fold;
  }
  for (OpOperand *input : op.getDpsInputOperands()) {
    if (getBufferRoot(input->get()) != root)
      continue;
    if (fold.link || !op.getMatchingIndexingMap(input).isIdentity())
      return failure();
    fold.link = input;
  }
  if (!fold.link || getBufferRoot(op.getDpsInits()[0]) == root ||
      !onlyDataFreeOpsBetween(product, op))
    return failure();
  return fold;
}

/// The iteration point of `fold.op` at element (row, column) of the
/// [rows, columns] product operand: the same element of the (possibly
/// reshaped) linked buffer, whose indexing map is the identity.
SmallVector<Value> getFoldIndices(ImplicitLocOpBuilder &b,
                                  const ElementwiseFold &fold, Value row,
                                  Value column, int64_t columns) {
  Value linear = arith::AddIOp::create(
      b, arith::MulIOp::create(b, row, arith::ConstantIndexOp::create(b, columns)),
      column);
  return delinearize(b, linear,
                     cast<MemRefType>(fold.link->get().getType()).getShape());
}

/// What `fold.op` computes at iteration point `indices`, its other inputs
/// loaded there and its linked input (epilogue) taken as `linked`.
Value evaluateFold(ImplicitLocOpBuilder &b, const ElementwiseFold &fold,
                   ArrayRef<Value> indices, Value linked) {
  return evaluatePointwiseGeneric(b, fold.op, indices, [&](OpOperand *input) {
    return input == fold.link ? linked : Value();
  });
}

/// Whether every input of `fold.op` (a prologue) is read contiguously or
/// not at all along the innermost iteration dimension, from a buffer of
/// identity layout, and every body op maps elementwise over vectors: then
/// `width` consecutive elements of its output, starting at a multiple of
/// `width` along that dimension, are one vector evaluation.
bool isVectorizableFold(const ElementwiseFold &fold, int64_t width) {
  linalg::GenericOp op = fold.op;
  unsigned innermost = op.getNumLoops() - 1;
  ArrayRef<int64_t> shape =
      cast<MemRefType>(fold.link->get().getType()).getShape();
  if (shape.empty() || ShapedType::isDynamic(shape.back()) ||
      shape.back() % width != 0)
    return false;
  for (OpOperand *input : op.getDpsInputOperands()) {
    auto type = dyn_cast<MemRefType>(input->get().getType());
    if (!type)
      continue;
    AffineMap map = op.getMatchingIndexingMap(input);
    bool readsInnermost = map.isFunctionOfDim(innermost);
    if (!readsInnermost)
      continue;
    // Device buffers start 256-byte aligned: with whole vectors per row,
    // every vector load is aligned.
    if (!type.getLayout().isIdentity() ||
        ShapedType::isDynamic(type.getShape().back()) ||
        type.getShape().back() % width != 0 ||
        map.getResults().back() != getAffineDimExpr(innermost, op.getContext()))
      return false;
    for (AffineExpr expr : map.getResults().drop_back())
      if (expr.isFunctionOfDim(innermost))
        return false;
  }
  return llvm::all_of(op.getBody()->without_terminator(), [](Operation &inner) {
    return inner.hasTrait<OpTrait::Elementwise>() &&
           inner.hasTrait<OpTrait::Vectorizable>();
  });
}

/// What `fold.op` (a prologue, isVectorizableFold) computes at `width`
/// consecutive points along its innermost dimension from `indices`.
Value evaluateFoldVector(ImplicitLocOpBuilder &b, const ElementwiseFold &fold,
                         ArrayRef<Value> indices, int64_t width) {
  linalg::GenericOp op = fold.op;
  unsigned innermost = op.getNumLoops() - 1;
  auto widen = [&](Type type) { return VectorType::get({width}, type); };
  IRMapping mapping;
  auto broadcast = [&](Value scalar) -> Value {
    return vector::BroadcastOp::create(b, widen(scalar.getType()), scalar);
  };
  for (OpOperand *input : op.getDpsInputOperands()) {
    Value argument = op.getMatchingBlockArgument(input);
    if (!isa<MemRefType>(input->get().getType())) {
      mapping.map(argument, broadcast(input->get()));
      continue;
    }
    AffineMap map = op.getMatchingIndexingMap(input);
    SmallVector<Value> at = getMapIndices(b, map, indices);
    if (map.isFunctionOfDim(innermost))
      mapping.map(argument,
                  vector::LoadOp::create(
                      b, widen(argument.getType()), input->get(), at,
                      /*nontemporal=*/false,
                      /*alignment=*/llvm::MaybeAlign(
                          width * argument.getType().getIntOrFloatBitWidth() /
                          8)));
    else
      mapping.map(argument,
                  broadcast(memref::LoadOp::create(b, input->get(), at)));
  }
  for (Operation &inner : op.getBody()->without_terminator()) {
    // Values from above the body (constants) become splats.
    for (Value operand : inner.getOperands())
      if (!mapping.contains(operand))
        mapping.map(operand, broadcast(operand));
    Operation *clone = b.clone(inner, mapping);
    for (Value result : clone->getResults())
      result.setType(widen(result.getType()));
  }
  return mapping.lookup(op.getBody()->getTerminator()->getOperand(0));
}

/// Erases `fold.op` and then its buffer, once nothing else uses them.
void eraseFold(ElementwiseFold fold) {
  fold.op.erase();
  SmallVector<Operation *> dead;
  std::function<bool(Value)> collect = [&](Value value) {
    for (Operation *user : value.getUsers()) {
      if (!isa<memref::CollapseShapeOp, memref::ExpandShapeOp>(user) ||
          !collect(user->getResult(0)))
        return false;
      dead.push_back(user);
    }
    return true;
  };
  if (!collect(fold.root))
    return;
  for (Operation *op : llvm::reverse(dead))
    op->erase();
  fold.root.getDefiningOp()->erase();
}


/// Erases the zero fill of `y` that the product accumulates onto, if the
/// last op before `product` that touches `y` is one: the kernel then stores
/// its sums instead of adding them (one kernel launch less).
bool eraseZeroFill(PackedSignProductOp product, Value y) {
  for (Operation *op = product->getPrevNode(); op; op = op->getPrevNode()) {
    if (llvm::none_of(op->getOperands(), [&](Value v) { return v == y; }))
      continue;
    auto fill = dyn_cast<linalg::FillOp>(op);
    if (!fill || fill.getOutputs()[0] != y ||
        !matchPattern(fill.getInputs()[0], m_AnyZeroFloat()))
      return false;
    fill.erase();
    return true;
  }
  return false;
}

} // namespace

ProductFolds mlir::onebit::collectProductFolds(PackedSignProductOp product,
                                               bool foldPrologue) {
  Value x = product.getInput();
  Value y = product.getInit();
  ProductFolds folds;
  folds.overwrite = eraseZeroFill(product, y);
  if (FailureOr<ElementwiseFold> fold = findFold(product, x, true);
      foldPrologue && succeeded(fold))
    folds.prologue = *fold;
  // Without the fill, the sums add to what y holds: y must stay.
  FailureOr<ElementwiseFold> fold = findFold(product, y, false);
  if (!folds.overwrite || failed(fold))
    return folds;
  folds.epilogue = *fold;
  // What the epilogue uses is defined by the (data-free) ops between the
  // product and it: define it before the kernel.
  for (Operation *op = product->getNextNode();
       op != folds.epilogue->op.getOperation();) {
    Operation *next = op->getNextNode();
    op->moveBefore(product);
    op = next;
  }
  return folds;
}

void mlir::onebit::eraseProductFolds(const ProductFolds &folds) {
  if (folds.prologue)
    eraseFold(*folds.prologue);
  if (folds.epilogue)
    eraseFold(*folds.epilogue);
}

Value mlir::onebit::loadActivation(ImplicitLocOpBuilder &b,
                                   const ProductFolds &folds, Value x,
                                   Value row, Value k, int64_t inFeatures) {
  if (!folds.prologue)
    return memref::LoadOp::create(b, x, ValueRange{row, k});
  return evaluateFold(
      b, *folds.prologue,
      getFoldIndices(b, *folds.prologue, row, k, inFeatures), Value());
}

bool mlir::onebit::canLoadActivations(const ProductFolds &folds,
                                      int64_t width) {
  return !folds.prologue || isVectorizableFold(*folds.prologue, width);
}

Value mlir::onebit::loadActivations(ImplicitLocOpBuilder &b,
                                    const ProductFolds &folds, Value x,
                                    Value row, Value k, int64_t inFeatures,
                                    int64_t width) {
  auto type = VectorType::get(
      {width}, cast<MemRefType>(x.getType()).getElementType());
  if (!folds.prologue)
    return vector::LoadOp::create(b, type, x, ValueRange{row, k},
                                  /*nontemporal=*/false,
                                  /*alignment=*/llvm::MaybeAlign(
                                      width * type.getElementTypeBitWidth() /
                                      8));
  return evaluateFoldVector(
      b, *folds.prologue,
      getFoldIndices(b, *folds.prologue, row, k, inFeatures), width);
}

void mlir::onebit::storeSum(ImplicitLocOpBuilder &b, const ProductFolds &folds,
                            Value y, Value row, Value column,
                            int64_t outFeatures, Value sum) {
  SmallVector<Value> at{row, column};
  if (!folds.overwrite)
    sum = arith::AddFOp::create(b, memref::LoadOp::create(b, y, at), sum);
  if (!folds.epilogue) {
    memref::StoreOp::create(b, sum, y, at);
    return;
  }
  SmallVector<Value> point =
      getFoldIndices(b, *folds.epilogue, row, column, outFeatures);
  linalg::GenericOp epilogue = folds.epilogue->op;
  memref::StoreOp::create(b, evaluateFold(b, *folds.epilogue, point, sum),
                          epilogue.getDpsInits()[0], point);
}
