//===- OneBitToLinalg.cpp - onebit ops to linalg on packed words ----------===//

#include "onebit/Codegen/CPU/Kernels.h"
#include "onebit/Codegen/Common/PackedSignProduct.h"
#include "onebit/Conversion/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"
#include "onebit/Dialect/OneBit/Transforms/LinearDecomposition.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/DialectConversion.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_CONVERTONEBITTOLINALG
#include "onebit/Conversion/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

struct LowerLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    return decomposeLinear(op, rewriter, [&](TosaBuilder &tosa, Value x) {
      bool lookupTables = hasLookupTableKernel(op.getPacking());
      if (!lookupTables && !hasVectorKernel(op.getPacking()))
        return buildPackedSignProduct(rewriter, op.getLoc(), x, op.getSigns(),
                                  op.getPacking(), op.getOutFeatures());
      // Whole bytes of activations: zeros beyond K meet the ignored pad bits.
      x = tosa.cast(x, rewriter.getF32Type());
      auto type = cast<RankedTensorType>(x.getType());
      int64_t padded = 8 * llvm::divideCeil(type.getDimSize(1), 8);
      if (padded != type.getDimSize(1)) {
        Value zero =
            arith::ConstantOp::create(rewriter, op.getLoc(),
                                      rewriter.getF32FloatAttr(0));
        x = tensor::PadOp::create(
            rewriter, op.getLoc(),
            RankedTensorType::get({type.getDimSize(0), padded},
                                  rewriter.getF32Type()),
            x,
            ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0),
                                   rewriter.getIndexAttr(0)},
            ArrayRef<OpFoldResult>{
                rewriter.getIndexAttr(0),
                rewriter.getIndexAttr(padded - type.getDimSize(1))},
            zero);
      }
      if (lookupTables)
        return buildLookupTableProduct(rewriter, op.getLoc(), x, op.getSigns(),
                                       op.getPacking(), op.getOutFeatures());
      return buildVectorPackedProduct(rewriter, op.getLoc(), x, op.getSigns(),
                                      op.getPacking(), op.getOutFeatures());
    });
  }
};

struct LowerUnpackSigns : OpRewritePattern<UnpackSignsOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UnpackSignsOp op,
                                PatternRewriter &rewriter) const override {
    MLIRContext *context = rewriter.getContext();
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    AffineExpr n, k;
    bindDims(context, n, k);
    SmallVector<AffineMap> maps = {
        AffineMap::get(2, 0, getWordIndex(op.getPacking(), n, k), context),
        AffineMap::get(2, 0, {n, k}, context)};
    Value empty = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                          type.getElementType());
    SmallVector<utils::IteratorType> iterators(2,
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, type, ValueRange{op.getInput()}, ValueRange{empty},
        maps, iterators, [&](OpBuilder &b, Location nloc, ValueRange args) {
          Value kIndex = linalg::IndexOp::create(b, nloc, 1);
          Value negative =
              isNegativeSign(b, nloc, op.getPacking(), args[0], kIndex);
          Type elementType = type.getElementType();
          Value plus = arith::ConstantOp::create(
              b, nloc, b.getFloatAttr(elementType, 1.0));
          Value minus = arith::ConstantOp::create(
              b, nloc, b.getFloatAttr(elementType, -1.0));
          linalg::YieldOp::create(
              b, nloc,
              arith::SelectOp::create(b, nloc, negative, minus, plus)
                  .getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// A product no kernel was scheduled for (onebit-gpu-select-schedules):
/// one thread per output once the pipeline maps the generic's parallel
/// dimensions.
struct LowerUnscheduledProduct : OpRewritePattern<PackedSignProductOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PackedSignProductOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getSchedule() || !op.getResult())
      return rewriter.notifyMatchFailure(op, "scheduled, or on buffers");
    rewriter.replaceOp(op, buildPackedSignProduct(
                               rewriter, op.getLoc(), op.getInput(),
                               op.getSigns(), op.getPacking(), op.getInit()));
    return success();
  }
};

struct ConvertOneBitToLinalgPass
    : onebit::impl::ConvertOneBitToLinalgBase<ConvertOneBitToLinalgPass> {
  void runOnOperation() override {
    // What the patterns cannot take is named before converting; the partial
    // conversion then names any op it could not legalize.
    WalkResult result = getOperation()->walk([](Operation *op) {
      if (!isa<LinearOp, UnpackSignsOp>(op) ||
          (cast<ShapedType>(op->getOperand(0).getType()).hasStaticShape() &&
           cast<ShapedType>(op->getResult(0).getType()).hasStaticShape()))
        return WalkResult::advance();
      op->emitError() << "cannot lower to linalg: the input shape must be "
                         "static";
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    RewritePatternSet patterns(&getContext());
    populateOneBitToLinalgPatterns(patterns);
    ConversionTarget target(getContext());
    target.addIllegalOp<LinearOp, UnpackSignsOp>();
    target.addDynamicallyLegalOp<PackedSignProductOp>(
        [](PackedSignProductOp op) { return op.getSchedule() || !op.getResult(); });
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      return signalPassFailure();
    // Fold the constants the kernels were built from (the conversion driver
    // does not), so that later passes see one of each.
    if (failed(applyPatternsGreedily(getOperation(), FrozenRewritePatternSet())))
      signalPassFailure();
  }
};

} // namespace

void mlir::onebit::populateOneBitToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerLinear, LowerUnpackSigns, LowerUnscheduledProduct>(
      patterns.getContext());
}
