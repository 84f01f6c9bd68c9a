//===- SelectSchedules.cpp - the CPU kernels' schedules -------------------===//
//
// onebit-cpu-select-schedules: the one place that decides how the CPU
// kernels of scheduled ops run, recorded on each op as an attribute that
// the kernel builders read (and that a test may set by hand instead).
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/CPU/Kernels.h"
#include "onebit/Codegen/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITCPUSELECTSCHEDULES
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

bool isCPUSchedule(Attribute schedule) {
  return isa<CPUAttentionScheduleAttr, CPUSignLookupScheduleAttr,
             CPUSignVectorScheduleAttr>(schedule);
}

/// The schedule of the kernel that reads `product`'s layout, or null where
/// none does (or the sizes are not static): the product becomes a
/// linalg.generic.
Attribute selectProductSchedule(PackedSignProductOp product) {
  auto x = cast<ShapedType>(product.getInput().getType());
  auto signs = cast<ShapedType>(product.getSigns().getType());
  auto y = cast<ShapedType>(product.getInit().getType());
  if (!product.getResult() || !x.hasStaticShape() || !signs.hasStaticShape() ||
      !y.hasStaticShape())
    return nullptr;
  MLIRContext *context = product.getContext();
  SignPackingAttr packing = product.getPacking();
  int64_t rows = x.getDimSize(0), outFeatures = y.getDimSize(1);
  if (hasLookupTableKernel(packing))
    return selectLookupTableSchedule(context, rows, outFeatures);
  if (hasVectorKernel(packing))
    return selectVectorSchedule(context, rows, signs.getDimSize(1),
                                outFeatures);
  return nullptr;
}

struct CPUSelectSchedulesPass
    : onebit::impl::OneBitCPUSelectSchedulesBase<CPUSelectSchedulesPass> {
  using Base::Base;

  void runOnOperation() override {
    WalkResult result = getOperation()->walk([&](Operation *op) {
      auto attention = dyn_cast<CachedAttentionOp>(op);
      auto product = dyn_cast<PackedSignProductOp>(op);
      if (!attention && !product)
        return WalkResult::advance();
      Attribute schedule = attention ? Attribute(attention.getScheduleAttr())
                                     : Attribute(product.getScheduleAttr());
      if (schedule && !isCPUSchedule(schedule)) {
        op->emitOpError() << "has schedule " << schedule
                          << ", which is not a CPU schedule";
        return WalkResult::interrupt();
      }
      if (schedule)
        return WalkResult::advance();
      if (product) {
        if (Attribute selected = selectProductSchedule(product))
          product.setScheduleAttr(selected);
        return WalkResult::advance();
      }
      auto attr = CPUAttentionScheduleAttr::getChecked(
          [&] { return attention.emitOpError(); }, op->getContext(),
          int64_t(attentionRowBlock), int64_t(attentionQueryTile));
      if (!attr)
        return WalkResult::interrupt();
      attention.setScheduleAttr(attr);
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
