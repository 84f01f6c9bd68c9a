//===- OneBitToGPU.cpp - onebit.linear for GPU kernels ---------------------===//
//
// The GPU lowering of onebit.linear: the product on the packed words as an
// onebit.packed_sign_product, for the kernel onebit-gpu-select-schedules
// chooses, g/h/LayerNorm/bias as TOSA around it (the LayerNorm's reduction
// over all N outputs is its own kernel).
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Common/PackedSignProduct.h"
#include "onebit/Conversion/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"
#include "onebit/Dialect/OneBit/Transforms/LinearDecomposition.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_CONVERTONEBITTOGPU
#include "onebit/Conversion/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

struct LowerLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    return decomposeLinear(op, rewriter, [&](TosaBuilder &, Value x) {
      // onebit-gpu-select-schedules gives the product a hand-shaped kernel
      // where one takes it; convert-onebit-to-linalg makes the others one
      // thread per output.
      int64_t rows = cast<RankedTensorType>(x.getType()).getDimSize(0);
      Value zero = buildZeroSums(rewriter, op.getLoc(), rows,
                                 op.getOutFeatures());
      return PackedSignProductOp::create(rewriter, op.getLoc(),
                                         TypeRange{zero.getType()}, x,
                                         op.getSigns(), zero, op.getPacking(),
                                         /*schedule=*/nullptr)
          .getResult();
    });
  }
};

struct ConvertOneBitToGPUPass
    : onebit::impl::ConvertOneBitToGPUBase<ConvertOneBitToGPUPass> {
  void runOnOperation() override {
    // What the pattern cannot take is named before converting; the partial
    // conversion then names any op it could not legalize.
    WalkResult result = getOperation()->walk([](LinearOp op) {
      if (op.getInput().getType().hasStaticShape())
        return WalkResult::advance();
      op->emitError() << "cannot lower to GPU kernels: the input shape must "
                         "be static";
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerLinear>(&getContext());
    ConversionTarget target(getContext());
    target.addIllegalOp<LinearOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
