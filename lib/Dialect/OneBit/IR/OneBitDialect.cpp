//===- OneBitDialect.cpp - onebit dialect and attributes ------------------===//

#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::onebit;

#include "onebit/Dialect/OneBit/IR/OneBitOpsDialect.cpp.inc"
#include "onebit/Dialect/OneBit/IR/OneBitEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "onebit/Dialect/OneBit/IR/OneBitAttrs.cpp.inc"

void OneBitDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "onebit/Dialect/OneBit/IR/OneBitAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "onebit/Dialect/OneBit/IR/OneBitOps.cpp.inc"
      >();
}

Operation *OneBitDialect::materializeConstant(OpBuilder &builder,
                                             Attribute value, Type type,
                                             Location loc) {
  return arith::ConstantOp::materialize(builder, value, type, loc);
}

//===----------------------------------------------------------------------===//
// SignPackingAttr
//===----------------------------------------------------------------------===//

LogicalResult
SignPackingAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                        unsigned word, BitOrder order, unsigned negative,
                        unsigned interleave) {
  if (word != 8 && word != 16 && word != 32 && word != 64)
    return emitError() << "sign_packing word must be 8, 16, 32 or 64 bits, got "
                       << word;
  if (negative > 1)
    return emitError() << "sign_packing negative must be the bit value 0 or "
                          "1, got "
                       << negative;
  if (interleave == 0)
    return emitError() << "sign_packing interleave must be at least 1";
  return success();
}

int64_t SignPackingAttr::getWordsPerRow(int64_t inFeatures) const {
  return llvm::divideCeil(inFeatures, getWord());
}

SmallVector<int64_t> SignPackingAttr::getPackedShape(int64_t outFeatures,
                                                     int64_t inFeatures) const {
  int64_t words = getWordsPerRow(inFeatures);
  if (getInterleave() == 1)
    return {outFeatures, words};
  return {outFeatures / getInterleave(), words, getInterleave()};
}

SignPackingAttr SignPackingAttr::getOneBitDefault(MLIRContext *context) {
  return SignPackingAttr::get(context, 8, BitOrder::LSBFirst, 1, 1);
}

LogicalResult
IndexCheckAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                       int64_t dim, int64_t count, StringAttr what) {
  if (dim < 1)
    return emitError() << "index_check dim must be at least 1, got " << dim;
  if (count < 1)
    return emitError() << "index_check count must be at least 1, got "
                       << count;
  if (!what || what.getValue().empty())
    return emitError() << "index_check what must name the indices";
  return success();
}
