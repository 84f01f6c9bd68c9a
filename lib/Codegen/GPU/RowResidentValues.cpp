//===- RowResidentValues.cpp - a row's values in registers ----------------===//

#include "RowResidentValues.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace mlir::onebit;

SmallVector<std::pair<Value, Value>>
row_steps::getUnrolledElements(ImplicitLocOpBuilder &b, Value base,
                               Value thread, int64_t blockSize,
                               int64_t elements, int64_t count) {
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
