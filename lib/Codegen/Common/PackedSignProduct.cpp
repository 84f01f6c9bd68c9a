//===- PackedSignProduct.cpp - x Sᵀ as a linalg.generic on packed words ---===//
//
// The schedule every target can run: one linalg.generic over (m, n, k)
// that reads bit k of row n from the packed words. The ±1 matrix never
// exists.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Common/PackedSignProduct.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"

using namespace mlir;
using namespace mlir::onebit;

SmallVector<AffineExpr> mlir::onebit::getWordIndex(SignPackingAttr packing, AffineExpr n,
                                     AffineExpr k) {
  AffineExpr word = k.floorDiv(packing.getWord());
  int64_t interleave = packing.getInterleave();
  if (interleave == 1)
    return {n, word};
  return {n.floorDiv(interleave), word, n % interleave};
}

Value mlir::onebit::isNegativeSign(OpBuilder &b, Location loc, SignPackingAttr packing,
                 Value word, Value k) {
  Type wordType = word.getType();
  unsigned bits = packing.getWord();
  Value position = arith::RemUIOp::create(
      b, loc, k, arith::ConstantIndexOp::create(b, loc, bits));
  if (packing.getOrder() == BitOrder::MSBFirst)
    position = arith::SubIOp::create(
        b, loc, arith::ConstantIndexOp::create(b, loc, bits - 1), position);
  position = arith::IndexCastUIOp::create(b, loc, wordType, position);
  Value shifted = arith::ShRUIOp::create(b, loc, word, position);
  Value one = arith::ConstantIntOp::create(b, loc, wordType, 1);
  Value bit = arith::AndIOp::create(b, loc, shifted, one);
  Value negativeBit = arith::ConstantIntOp::create(b, loc, wordType,
                                                   packing.getNegative());
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, bit,
                               negativeBit);
}

InFlightDiagnostic mlir::onebit::emitScheduleError(
    llvm::function_ref<InFlightDiagnostic()> emitError, Attribute schedule) {
  InFlightDiagnostic diagnostic = emitError();
  diagnostic << "cannot run its " << schedule << ": ";
  return diagnostic;
}

Value mlir::onebit::buildPackedSignProduct(OpBuilder &b, Location loc, Value x,
                                           Value signs, SignPackingAttr packing,
                                           Value init) {
  MLIRContext *context = b.getContext();
  Type f32 = b.getF32Type();
  AffineExpr m, n, k;
  bindDims(context, m, n, k);
  SmallVector<AffineMap> maps = {
      AffineMap::get(3, 0, {m, k}, context),
      AffineMap::get(3, 0, getWordIndex(packing, n, k), context),
      AffineMap::get(3, 0, {m, n}, context)};
  SmallVector<utils::IteratorType> iterators = {utils::IteratorType::parallel,
                                                utils::IteratorType::parallel,
                                                utils::IteratorType::reduction};
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{x, signs}, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value value = args[0];
        if (value.getType() != f32)
          value = arith::ExtFOp::create(nb, nloc, f32, value);
        Value kIndex = linalg::IndexOp::create(nb, nloc, 2);
        Value negative = isNegativeSign(nb, nloc, packing, args[1], kIndex);
        Value negated = arith::NegFOp::create(nb, nloc, value);
        Value term =
            arith::SelectOp::create(nb, nloc, negative, negated, value);
        Value sum = arith::AddFOp::create(nb, nloc, args[2], term);
        linalg::YieldOp::create(nb, nloc, sum);
      });
  return generic.getResult(0);
}
