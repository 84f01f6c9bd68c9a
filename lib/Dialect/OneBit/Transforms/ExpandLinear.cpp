//===- ExpandLinear.cpp - onebit.linear as dense TOSA ops -----------------===//

#include "onebit/Dialect/OneBit/IR/OneBitOps.h"
#include "onebit/Dialect/OneBit/Transforms/LinearDecomposition.h"
#include "onebit/Dialect/OneBit/Transforms/Passes.h"
#include "onebit/Utils/TosaBuilder.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITEXPANDLINEAR
#include "onebit/Dialect/OneBit/Transforms/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

struct ExpandLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    int64_t inFeatures = op.getInFeatures();
    int64_t outFeatures = op.getOutFeatures();
    return decomposeLinear(op, rewriter, [&](TosaBuilder &tosa, Value x) {
      Type elementType = getElementTypeOrSelf(x.getType());
      int64_t rows = cast<RankedTensorType>(x.getType()).getDimSize(0);
      auto signsType =
          RankedTensorType::get({outFeatures, inFeatures}, elementType);
      Value signs = UnpackSignsOp::create(rewriter, op.getLoc(), signsType,
                                          op.getSigns(), op.getPacking());
      Value weight = tosa.reshape(tosa.transpose(signs, {1, 0}),
                                  {1, inFeatures, outFeatures});
      Value y = tosa.matmul(tosa.reshape(x, {1, rows, inFeatures}), weight,
                            rewriter.getF32Type());
      return tosa.reshape(y, {rows, outFeatures});
    });
  }
};

struct OneBitExpandLinearPass
    : onebit::impl::OneBitExpandLinearBase<OneBitExpandLinearPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpandLinearPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    // A layer left over had a dynamic shape: say which.
    WalkResult result = getOperation()->walk([](LinearOp op) {
      op.emitError() << "cannot expand onebit.linear with a dynamic input "
                        "shape "
                     << op.getInput().getType();
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

void mlir::onebit::populateExpandLinearPatterns(RewritePatternSet &patterns) {
  patterns.add<ExpandLinear>(patterns.getContext());
}
