//===- GPUSinkIndexComputations.cpp - constants into launches, linearly ---===//
//
// Upstream's gpu-launch-sink-index-computations redirects the uses of each
// value it sinks by walking every use of that value in the function. A
// model's constants are shared by every launch, so it takes time quadratic
// in the number of launches. The same sinking, with each launch body walked
// once to redirect its uses.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITGPUSINKINDEXCOMPUTATIONS
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// Cheaper to recompute in a kernel than to pass: upstream's rule.
bool isIndexComputation(Operation *op) {
  return matchPattern(op, m_Constant()) ||
         isa<memref::DimOp, arith::SelectOp, arith::CmpIOp>(op);
}

/// Adds `op` to `sunk` after the ops its operands need, if it and they can
/// be computed in the launch. Operands in `captured` are available there
/// anyway (as kernel parameters).
bool collectSinkable(Operation *op, const llvm::SetVector<Value> &captured,
                     llvm::SetVector<Operation *> &sunk) {
  if (sunk.contains(op))
    return true;
  if (!isIndexComputation(op))
    return false;
  for (Value operand : op->getOperands()) {
    Operation *def = operand.getDefiningOp();
    bool computed = def && collectSinkable(def, captured, sunk);
    if (!computed && !captured.contains(operand))
      return false;
  }
  sunk.insert(op);
  return true;
}

void sinkIntoLaunch(gpu::LaunchOp launch) {
  Region &body = launch.getBody();
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(body, captured);
  llvm::SetVector<Operation *> sunk;
  for (Value value : captured)
    if (Operation *def = value.getDefiningOp())
      collectSinkable(def, captured, sunk);
  if (sunk.empty())
    return;

  IRMapping mapping;
  OpBuilder builder = OpBuilder::atBlockBegin(&body.front());
  for (Operation *op : sunk)
    builder.clone(*op, mapping);
  body.walk([&](Operation *op) {
    for (OpOperand &use : op->getOpOperands())
      if (Value clone = mapping.lookupOrNull(use.get()))
        use.set(clone);
  });
}

struct OneBitGPUSinkIndexComputationsPass
    : public onebit::impl::OneBitGPUSinkIndexComputationsBase<
          OneBitGPUSinkIndexComputationsPass> {
  void runOnOperation() override {
    getOperation().walk([](gpu::LaunchOp launch) { sinkIntoLaunch(launch); });
  }
};

} // namespace
