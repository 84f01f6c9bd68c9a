//===- SelectSchedules.cpp - the CPU kernels' schedules -------------------===//
//
// onebit-cpu-select-schedules: the one place that decides how the CPU
// kernels of scheduled ops run, recorded on each op as an attribute that
// the kernel passes read (and that a test may set by hand instead).
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITCPUSELECTSCHEDULES
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

struct CPUSelectSchedulesPass
    : onebit::impl::OneBitCPUSelectSchedulesBase<CPUSelectSchedulesPass> {
  using Base::Base;

  void runOnOperation() override {
    WalkResult result = getOperation()->walk([&](CachedAttentionOp op) {
      Attribute schedule = op.getScheduleAttr();
      if (schedule && !isa<CPUAttentionScheduleAttr>(schedule)) {
        op.emitOpError() << "has schedule " << schedule
                         << ", which is not a CPU schedule";
        return WalkResult::interrupt();
      }
      if (schedule)
        return WalkResult::advance();
      auto attr = CPUAttentionScheduleAttr::getChecked(
          [&] { return op.emitOpError(); }, op.getContext(),
          int64_t(attentionRowBlock), int64_t(attentionQueryTile));
      if (!attr)
        return WalkResult::interrupt();
      op.setScheduleAttr(attr);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
