//===- FuseElementwise.cpp - elementwise fusion around decode products ----===//
//
// onebit-fuse-elementwise: upstream linalg-fuse-elementwise-ops, except
// that a product scheduled for a hand-shaped kernel (onebit.schedule) is
// never fused with its neighbours: upstream would fold the producers of its
// activations into it, making a new generic without the schedule.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITFUSEELEMENTWISE
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

bool isScheduled(Operation *op) { return op && op->hasAttr(kScheduleAttrName); }

struct FuseElementwisePass
    : onebit::impl::OneBitFuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    // Upstream's default (a producer with one use), minus scheduled products.
    linalg::ControlFusionFn control = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse() && !isScheduled(producer) &&
             !isScheduled(fused->getOwner());
    };
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, control);
    tensor::populateBubbleUpExpandShapePatterns(patterns);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, context);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, context);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, context);
    context->getLoadedDialect<linalg::LinalgDialect>()
        ->getCanonicalizationPatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, control);
    if (failed(applyPatternsGreedily(
            getOperation(), std::move(patterns),
            GreedyRewriteConfig().setUseTopDownTraversal())))
      signalPassFailure();
  }
};

} // namespace
