//===- OneBitToGPU.cpp - onebit.linear for GPU kernels ---------------------===//
//
// The GPU lowering of onebit.linear: the product on the packed words as a
// linalg.generic in (m, n, k) whose parallel dims become the threads of a
// kernel (onebit-cuda-pipeline), g/h/LayerNorm/bias as TOSA around it (the
// LayerNorm's reduction over all N outputs is its own kernel).
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Common/PackedSignProduct.h"
#include "onebit/Codegen/Passes.h"
#include "onebit/Conversion/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"
#include "onebit/Dialect/OneBit/Transforms/LinearDecomposition.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_CONVERTONEBITTOGPU
#include "onebit/Conversion/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

struct LowerLinear : OpRewritePattern<LinearOp> {
  LowerLinear(MLIRContext *context, int64_t mmaMinRows)
      : OpRewritePattern(context), mmaMinRows(mmaMinRows) {}

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    return decomposeLinear(op, rewriter, [&](TosaBuilder &, Value x) {
      // One output per thread once the pipeline maps the parallel dims,
      // unless a hand-shaped kernel takes it: the tensor-core one for f16
      // activations with enough rows, else the decode one for few rows.
      Value product =
          buildPackedSignProduct(rewriter, op.getLoc(), x, op.getSigns(),
                                 op.getPacking(), op.getOutFeatures());
      auto xType = cast<RankedTensorType>(x.getType());
      int64_t rows = xType.getDimSize(0), inFeatures = xType.getDimSize(1);
      Operation *generic = product.getDefiningOp();
      if (rows >= mmaMinRows &&
          isSignMmaCandidate(xType.getElementType(), inFeatures,
                             op.getPacking()))
        generic->setAttr(kSignMmaAttrName, op.getPacking());
      else if (isSignGemvCandidate(rows, inFeatures, op.getPacking()))
        generic->setAttr(kSignGemvAttrName, op.getPacking());
      return product;
    });
  }

  int64_t mmaMinRows;
};

struct ConvertOneBitToGPUPass
    : onebit::impl::ConvertOneBitToGPUBase<ConvertOneBitToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    if (mmaMinRows < 1) {
      getOperation()->emitError()
          << "convert-onebit-to-gpu: mma-min-rows must be at least 1";
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    patterns.add<LowerLinear>(&getContext(), mmaMinRows);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    WalkResult result = getOperation()->walk([](LinearOp op) {
      op->emitError() << "cannot lower to GPU kernels: the input shape must "
                         "be static";
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
