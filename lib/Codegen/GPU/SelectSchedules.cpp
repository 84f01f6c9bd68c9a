//===- SelectSchedules.cpp - the GPU kernels' schedules -------------------===//
//
// onebit-gpu-select-schedules: the one place that decides how the GPU
// kernels of scheduled ops run, recorded on each op as an attribute that
// the kernel passes read (and that a test may set by hand instead).
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITGPUSELECTSCHEDULES
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

struct GPUSelectSchedulesPass
    : onebit::impl::OneBitGPUSelectSchedulesBase<GPUSelectSchedulesPass> {
  using Base::Base;

  LogicalResult select(CachedAttentionOp op) {
    Attribute schedule = op.getScheduleAttr();
    if (schedule && !isa<GPUAttentionScheduleAttr>(schedule))
      return op.emitOpError()
             << "has schedule " << schedule << ", which is not a GPU schedule";
    if (schedule)
      return success();
    auto query = cast<ShapedType>(op.getQuery().getType());
    int64_t headDim = query.getDimSize(3);
    if (headDim % 8 != 0 || headDim > 256 || !llvm::isPowerOf2_64(headDim / 8))
      return op.emitOpError()
             << "has head dimension " << headDim
             << "; the GPU attention kernel reads rows of 8 x 2^k "
                "elements, up to 256";
    if (attentionBlocks < 1)
      return op.emitOpError() << "attention-blocks must be at least 1";
    // Blocks per split: one per (batch, key/value head, new position).
    int64_t groups = query.getDimSize(0) *
                     cast<ShapedType>(op.getKey().getType()).getDimSize(1) *
                     query.getDimSize(2);
    int64_t splits =
        std::clamp<int64_t>(llvm::divideCeil(attentionBlocks, groups), 1, 1024);
    auto attr = GPUAttentionScheduleAttr::getChecked(
        [&] { return op.emitOpError(); }, op.getContext(), splits,
        int64_t(attentionWarps), headDim / 8, int64_t(attentionRowsInFlight));
    if (!attr)
      return failure();
    op.setScheduleAttr(attr);
    return success();
  }

  void runOnOperation() override {
    WalkResult result = getOperation()->walk([&](CachedAttentionOp op) {
      return failed(select(op)) ? WalkResult::interrupt()
                                : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
