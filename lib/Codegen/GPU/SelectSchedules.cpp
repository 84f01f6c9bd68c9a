//===- SelectSchedules.cpp - the GPU kernels' schedules -------------------===//
//
// onebit-gpu-select-schedules: the one place that decides how the GPU
// kernels of scheduled ops run, recorded on each op as an attribute that
// the kernel passes read (and that a test may set by hand instead).
//
//===----------------------------------------------------------------------===//

#include "SignGemv.h"
#include "SignMma.h"
#include "onebit/Codegen/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITGPUSELECTSCHEDULES
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

std::string
onebit::verifyGPUScheduleOptions(const OneBitGPUSelectSchedulesOptions &o,
                                 StringRef dashes) {
  auto flag = [&](StringRef name) { return (dashes + name).str(); };
  if (o.attentionWarps < 1 || o.attentionWarps > 8 || o.attentionBlocks < 1 ||
      o.attentionRowsInFlight < 1 || o.attentionRowsInFlight > 8)
    return flag("attention-warps") + " and " +
           flag("attention-rows-in-flight") + " must be 1..8 and " +
           flag("attention-blocks") + " at least 1";
  if (o.gemvRowsPerStep < 1 || o.gemvRowsPerStep > 8 || o.gemvMaxGridSize < 1)
    return flag("gemv-rows-per-step") + " must be 1..8 and " +
           flag("gemv-max-grid-size") + " at least 1";
  if (o.mmaMinRows < 1 || o.mmaMinGridSize < 1)
    return flag("mma-min-rows") + " and " + flag("mma-min-grid-size") +
           " must be at least 1";
  if (o.mmaRowTiles < 0 || o.mmaRowTiles > 4)
    return flag("mma-row-tiles") + " must be 0..4";
  if (o.mmaBitClasses < 2 || o.mmaBitClasses > 16 ||
      !llvm::isPowerOf2_64(o.mmaBitClasses) || o.mmaLoadsAhead < 1 ||
      o.mmaLoadsAhead > 8)
    return flag("mma-bit-classes") + " must be 2, 4, 8 or 16 and " +
           flag("mma-loads-ahead") + " 1..8";
  return "";
}

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

  /// With `report`, the schedule `op` runs with, or why it has none,
  /// naming the ONNX nodes the op came from (its location's names, which
  /// diagnostics print only as the model's file).
  void remark(Operation *op, Attribute schedule, StringRef what) {
    if (!report)
      return;
    SmallVector<StringRef> nodes;
    op->getLoc()->walk([&](Location location) {
      if (auto name = dyn_cast<NameLoc>(location))
        nodes.push_back(name.getName().getValue());
      return WalkResult::advance();
    });
    InFlightDiagnostic diagnostic = op->emitRemark() << what;
    if (!nodes.empty())
      diagnostic << " ('" << llvm::join(nodes, "', '") << "')";
    diagnostic << ": ";
    if (schedule)
      diagnostic << schedule;
    else
      diagnostic << "no kernel takes it (one thread per output)";
  }

  /// The product's kernel: the tensor cores where they take it, else the
  /// decode kernel, else none (one thread per output).
  LogicalResult select(PackedSignProductOp product) {
    Attribute schedule = product.getScheduleAttr();
    if (schedule &&
        !isa<GPUSignMmaScheduleAttr, GPUSignGemvScheduleAttr>(schedule))
      return product.emitOpError() << "has schedule " << schedule
                                   << ", which is not a GPU schedule";
    FailureOr<ProductSizes> sizes = getProductSizes(product);
    std::string what = "1-bit product";
    if (succeeded(sizes))
      what = llvm::formatv("1-bit product {0}x{1} -> {2}", sizes->rows,
                           sizes->inFeatures, sizes->outFeatures);
    if (schedule || failed(sizes)) {
      remark(product, schedule, what);
      return success();
    }
    SignPackingAttr packing = product.getPacking();
    if (sizes->rows >= mmaMinRows &&
        isSignMmaCandidate(sizes->xElement, sizes->inFeatures, packing))
      schedule = sign_mma::selectSchedule(
          &getContext(), *sizes,
          {mmaRowTiles, mmaMinGridSize, mmaBitClasses, mmaLoadsAhead,
           mmaInt8Activations, mmaDirectFragments});
    if (!schedule)
      schedule = sign_gemv::selectSchedule(&getContext(), *sizes, packing,
                                           {gemvRowsPerStep, gemvMaxGridSize});
    remark(product, schedule, what);
    if (!schedule)
      return success();
    product.setScheduleAttr(schedule);
    copyViewedInputs(product);
    return success();
  }

  /// The kernels read their inputs with the identity layout: an input that
  /// bufferizes to a view (a slice, also through reshapes) is copied first.
  static void copyViewedInputs(PackedSignProductOp product) {
    for (OpOperand *input :
         {&product.getInputMutable(), &product.getSignsMutable()}) {
      Value source = input->get();
      while (isa_and_nonnull<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(
          source.getDefiningOp()))
        source = source.getDefiningOp()->getOperand(0);
      auto type = dyn_cast<RankedTensorType>(input->get().getType());
      if (!type || !isa_and_nonnull<tensor::ExtractSliceOp>(source.getDefiningOp()))
        continue;
      OpBuilder b(product);
      input->set(bufferization::AllocTensorOp::create(
          b, product.getLoc(), type, ValueRange{}, /*copy=*/input->get()));
    }
  }

  void runOnOperation() override {
    OneBitGPUSelectSchedulesOptions options;
    options.attentionWarps = attentionWarps;
    options.attentionBlocks = attentionBlocks;
    options.attentionRowsInFlight = attentionRowsInFlight;
    options.mmaMinRows = mmaMinRows;
    options.mmaRowTiles = mmaRowTiles;
    options.mmaMinGridSize = mmaMinGridSize;
    options.mmaBitClasses = mmaBitClasses;
    options.mmaLoadsAhead = mmaLoadsAhead;
    options.gemvRowsPerStep = gemvRowsPerStep;
    options.gemvMaxGridSize = gemvMaxGridSize;
    if (std::string invalid = verifyGPUScheduleOptions(options, "");
        !invalid.empty()) {
      getOperation()->emitError() << "onebit-gpu-select-schedules: "
                                  << invalid;
      return signalPassFailure();
    }
    WalkResult result = getOperation()->walk([&](Operation *op) {
      if (auto product = dyn_cast<PackedSignProductOp>(op))
        return succeeded(select(product)) ? WalkResult::advance()
                                          : WalkResult::interrupt();
      auto attention = dyn_cast<CachedAttentionOp>(op);
      if (!attention)
        return WalkResult::advance();
      if (failed(select(attention)))
        return WalkResult::interrupt();
      remark(attention, attention.getScheduleAttr(), "attention");
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
