//===- KernelBuilding.cpp - pieces shared by the hand-shaped GPU kernels --===//

#include "KernelBuilding.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"

using namespace mlir;

Value onebit::constIndex(ImplicitLocOpBuilder &b, int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
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
