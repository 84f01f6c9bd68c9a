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
#include "mlir/IR/Matchers.h"
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

/// Activations as the CPU kernels read them: f32, zero-padded to whole bytes
/// (zeros beyond K meet the ignored pad bits).
Value prepareActivations(PatternRewriter &rewriter, Location loc, Value x) {
  TosaBuilder tosa(rewriter, loc);
  x = tosa.cast(x, rewriter.getF32Type());
  auto type = cast<RankedTensorType>(x.getType());
  int64_t padded = 8 * llvm::divideCeil(type.getDimSize(1), 8);
  if (padded == type.getDimSize(1))
    return x;
  Value zero =
      arith::ConstantOp::create(rewriter, loc, rewriter.getF32FloatAttr(0));
  return tensor::PadOp::create(
      rewriter, loc,
      RankedTensorType::get({type.getDimSize(0), padded},
                            rewriter.getF32Type()),
      x,
      ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0),
                             rewriter.getIndexAttr(0)},
      ArrayRef<OpFoldResult>{rewriter.getIndexAttr(0),
                             rewriter.getIndexAttr(padded -
                                                   type.getDimSize(1))},
      zero);
}

/// Whether `init` is all zeros, so that the kernel's sums are the result.
bool isZeroFill(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  return fill && matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
}

/// A product with a CPU kernel's schedule (onebit-cpu-select-schedules,
/// checked before converting): the kernel it names, its sums added to the
/// init unless that is zeros.
struct LowerCPUScheduledProduct : OpRewritePattern<PackedSignProductOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PackedSignProductOp op,
                                PatternRewriter &rewriter) const override {
    Attribute schedule = op.getScheduleAttr();
    if (!isa_and_nonnull<CPUSignLookupScheduleAttr, CPUSignVectorScheduleAttr>(
            schedule) ||
        !op.getResult())
      return rewriter.notifyMatchFailure(op, "no CPU kernel's schedule");
    Location loc = op.getLoc();
    Value x = prepareActivations(rewriter, loc, op.getInput());
    int64_t outFeatures =
        cast<RankedTensorType>(op.getInit().getType()).getDimSize(1);
    Value sums;
    if (auto lookup = dyn_cast<CPUSignLookupScheduleAttr>(schedule))
      sums = buildLookupTableProduct(rewriter, loc, x, op.getSigns(),
                                     op.getPacking(), lookup, outFeatures);
    else
      sums = buildVectorPackedProduct(rewriter, loc, x, op.getSigns(),
                                      op.getPacking(),
                                      cast<CPUSignVectorScheduleAttr>(schedule),
                                      outFeatures);
    if (!isZeroFill(op.getInit()))
      sums = TosaBuilder(rewriter, loc).add(op.getInit(), sums);
    rewriter.replaceOp(op, sums);
    return success();
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

/// A product no kernel was scheduled for: the linalg.generic over (m, n, k)
/// (on the GPU, one thread per output once the pipeline maps its parallel
/// dimensions).
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

/// Whether `product`'s CPU schedule, if it has one, can run it; else an
/// error on the op.
LogicalResult checkCPUSchedule(PackedSignProductOp product) {
  Attribute schedule = product.getScheduleAttr();
  if (!isa_and_nonnull<CPUSignLookupScheduleAttr, CPUSignVectorScheduleAttr>(
          schedule))
    return success();
  auto x = cast<ShapedType>(product.getInput().getType());
  auto signs = cast<ShapedType>(product.getSigns().getType());
  auto y = cast<ShapedType>(product.getInit().getType());
  if (!product.getResult() || !x.hasStaticShape() || !signs.hasStaticShape() ||
      !y.hasStaticShape())
    return product.emitOpError()
           << "has schedule " << schedule
           << ", whose kernel takes tensors of static shapes";
  if (!y.getElementType().isF32())
    return product.emitOpError() << "has schedule " << schedule
                                 << ", whose kernel sums in f32, not "
                                 << y.getElementType();
  auto emitError = [&] {
    return emitScheduleError([&] { return product.emitOpError(); }, schedule);
  };
  if (auto lookup = dyn_cast<CPUSignLookupScheduleAttr>(schedule))
    return checkLookupTableSchedule(lookup, product.getPacking(),
                                    y.getDimSize(1), emitError);
  return checkVectorSchedule(cast<CPUSignVectorScheduleAttr>(schedule),
                             product.getPacking(), signs.getDimSize(1),
                             y.getDimSize(1), emitError);
}

struct ConvertOneBitToLinalgPass
    : onebit::impl::ConvertOneBitToLinalgBase<ConvertOneBitToLinalgPass> {
  void runOnOperation() override {
    // What the patterns cannot take is named before converting; the partial
    // conversion then names any op it could not legalize.
    WalkResult result = getOperation()->walk([](Operation *op) {
      if (auto product = dyn_cast<PackedSignProductOp>(op))
        return succeeded(checkCPUSchedule(product)) ? WalkResult::advance()
                                                    : WalkResult::interrupt();
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
    // Left for the GPU kernel passes: products with their schedules, and
    // any on buffers.
    target.addDynamicallyLegalOp<PackedSignProductOp>(
        [](PackedSignProductOp op) {
          return !op.getResult() ||
                 isa_and_nonnull<GPUSignMmaScheduleAttr,
                                 GPUSignGemvScheduleAttr>(op.getScheduleAttr());
        });
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
  // A layer decomposes around a product, which (unscheduled) becomes the
  // linalg.generic in turn.
  populateDecomposeLinearPatterns(patterns);
  patterns.add<LowerUnpackSigns, LowerUnscheduledProduct,
               LowerCPUScheduledProduct>(patterns.getContext());
}
