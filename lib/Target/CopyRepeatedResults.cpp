//===- CopyRepeatedResults.cpp - one buffer per returned result -----------===//

#include "onebit/Target/Passes.h"

#include "llvm/ADT/DenseSet.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITCOPYREPEATEDRESULTS
#include "onebit/Target/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

struct OneBitCopyRepeatedResultsPass
    : onebit::impl::OneBitCopyRepeatedResultsBase<
          OneBitCopyRepeatedResultsPass> {
  void runOnOperation() override {
    WalkResult result = getOperation().walk([&](func::ReturnOp ret) {
      llvm::SmallDenseSet<Value> returned;
      OpBuilder builder(ret);
      for (OpOperand &operand : ret->getOpOperands()) {
        Value value = operand.get();
        auto type = dyn_cast<MemRefType>(value.getType());
        if (!type || returned.insert(value).second)
          continue;
        if (!type.hasStaticShape() || !type.getLayout().isIdentity()) {
          ret.emitError() << "returns " << type
                          << " twice; only buffers "
                             "of static shape and identity layout can be "
                             "copied for the second result";
          return WalkResult::interrupt();
        }
        Value copy = memref::AllocOp::create(builder, ret.getLoc(), type);
        memref::CopyOp::create(builder, ret.getLoc(), value, copy);
        operand.set(copy);
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
