//===- DecomposeLinear.cpp - onebit.linear around a packed-sign product ---===//
//
// onebit-decompose-linear: the product of each onebit.linear becomes an
// onebit.packed_sign_product onto f32 zeros, for the kernel that a target's
// schedule selection chooses; g, h, the LayerNorm and the bias become TOSA
// ops around it.
//
//===----------------------------------------------------------------------===//

#include "onebit/Dialect/OneBit/IR/OneBitOps.h"
#include "onebit/Dialect/OneBit/Transforms/LinearDecomposition.h"
#include "onebit/Dialect/OneBit/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITDECOMPOSELINEAR
#include "onebit/Dialect/OneBit/Transforms/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

struct DecomposeLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    return decomposeLinear(op, rewriter, [&](TosaBuilder &, Value x) {
      Location loc = op.getLoc();
      int64_t rows = cast<RankedTensorType>(x.getType()).getDimSize(0);
      Value empty = tensor::EmptyOp::create(
          rewriter, loc, ArrayRef<int64_t>{rows, op.getOutFeatures()},
          rewriter.getF32Type());
      Value zero =
          arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(0));
      Value zeros = linalg::FillOp::create(rewriter, loc, zero, empty)
                        .getResult(0);
      return PackedSignProductOp::create(rewriter, loc,
                                         TypeRange{zeros.getType()}, x,
                                         op.getSigns(), zeros, op.getPacking(),
                                         /*schedule=*/nullptr)
          .getResult();
    });
  }
};

struct OneBitDecomposeLinearPass
    : onebit::impl::OneBitDecomposeLinearBase<OneBitDecomposeLinearPass> {
  void runOnOperation() override {
    // What the pattern cannot take is named before converting; the partial
    // conversion then names any op it could not legalize.
    WalkResult result = getOperation()->walk([](LinearOp op) {
      if (op.getInput().getType().hasStaticShape())
        return WalkResult::advance();
      op->emitError() << "cannot decompose: the input shape must be static";
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateDecomposeLinearPatterns(patterns);
    ConversionTarget target(getContext());
    target.addIllegalOp<LinearOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void mlir::onebit::populateDecomposeLinearPatterns(
    RewritePatternSet &patterns) {
  patterns.add<DecomposeLinear>(patterns.getContext());
}
