//===- OneBitToLinalg.cpp - onebit ops to linalg on packed words ----------===//

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
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_CONVERTONEBITTOLINALG
#include "onebit/Conversion/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// The affine map from (n, k) dims to the packed word holding sign (n, k).
SmallVector<AffineExpr> getWordIndex(SignPackingAttr packing, AffineExpr n,
                                     AffineExpr k) {
  AffineExpr word = k.floorDiv(packing.getWord());
  int64_t interleave = packing.getInterleave();
  if (interleave == 1)
    return {n, word};
  return {n.floorDiv(interleave), word, n % interleave};
}

/// Whether sign (·, k) of `word` is -1, inside a linalg body.
Value isNegative(OpBuilder &b, Location loc, SignPackingAttr packing,
                 Value word, Value k) {
  Type wordType = word.getType();
  unsigned bits = packing.getWord();
  Value position = arith::RemUIOp::create(
      b, loc, k, arith::ConstantIndexOp::create(b, loc, bits));
  if (packing.getOrder() == BitOrder::MSBFirst)
    position = arith::SubIOp::create(
        b, loc, arith::ConstantIndexOp::create(b, loc, bits - 1), position);
  position = arith::IndexCastUIOp::create(b, loc, wordType, position);
  Value shifted = arith::ShRUIOp::create(b, loc, word, position);
  Value one = arith::ConstantIntOp::create(b, loc, wordType, 1);
  Value bit = arith::AndIOp::create(b, loc, shifted, one);
  Value negativeBit = arith::ConstantIntOp::create(b, loc, wordType,
                                                   packing.getNegative());
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, bit,
                               negativeBit);
}

/// Whether the vector kernel reads this layout: OneBit's bytes, LSB first,
/// so that a byte bitcast to vector<8xi1> puts input k of the byte in lane
/// k.
bool hasVectorKernel(SignPackingAttr packing) {
  return packing.getWord() == 8 && packing.getOrder() == BitOrder::LSBFirst &&
         packing.getInterleave() == 1;
}

/// The same product as buildPackedSignProduct, as a vector kernel. An
/// scf.forall (parallel over N) takes `blockRows` output rows at a time and
/// walks their packed rows `chunkBytes` bytes at a time: each chunk of
/// bytes, bitcast to a vector of i1, selects -x or x for 8 * chunkBytes
/// activations at once (a masked sign flip). Activations are loaded once
/// for all output rows of the block and, for small batches, the bytes once
/// for all input rows; the accumulators are independent. The ±1 matrix is
/// never formed. `x` is [rows, K] in f32, padded with zeros to whole bytes.
Value buildVectorPackedProduct(OpBuilder &b, Location loc, Value x,
                               Value signs, SignPackingAttr packing,
                               int64_t outFeatures) {
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t rows = xType.getDimSize(0);
  int64_t wordsPerRow = cast<RankedTensorType>(signs.getType()).getDimSize(1);
  int64_t chunkBytes = wordsPerRow % 2 == 0 ? 2 : 1;
  int64_t lanes = 8 * chunkBytes;
  int64_t blockRows = outFeatures % 4 == 0 ? 4 : outFeatures % 2 == 0 ? 2 : 1;
  Type f32 = b.getF32Type();
  auto accType = VectorType::get({lanes}, f32);
  auto byteVector = VectorType::get({chunkBytes}, b.getI8Type());
  auto maskVector = VectorType::get({lanes}, b.getI1Type());
  auto index = [&](OpBuilder &ib, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(ib, loc, v);
  };
  Value floatZero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  Value byteZero = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0);
  Value zeros = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(accType, b.getF32FloatAttr(0)));
  Value init = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{rows, outFeatures}, f32);
  bool negativeIsOne = packing.getNegative() == 1;

  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(outFeatures / blockRows)},
      ValueRange{init}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  Block *body = forall.getBody();
  b.setInsertionPointToStart(body);
  Value firstRow =
      arith::MulIOp::create(b, loc, body->getArgument(0), index(b, blockRows));
  Value block = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{rows, blockRows}, f32);
  // Small batches (decode) keep an accumulator per (input row, output row)
  // so each packed byte is read once; larger ones go one input row at a
  // time.
  int64_t inputBlock = rows * blockRows <= 32 ? rows : 1;
  auto overInputRows = scf::ForOp::create(
      b, loc, index(b, 0), index(b, rows), index(b, inputBlock),
      ValueRange{block},
      [&](OpBuilder &rb, Location, Value firstInput, ValueRange rowArgs) {
        SmallVector<Value> initial(inputBlock * blockRows, zeros);
        auto overChunks = scf::ForOp::create(
            rb, loc, index(rb, 0), index(rb, wordsPerRow / chunkBytes),
            index(rb, 1), initial,
            [&](OpBuilder &cb, Location, Value c, ValueRange sums) {
              Value column = arith::MulIOp::create(cb, loc, c, index(cb, lanes));
              Value byte = arith::MulIOp::create(cb, loc, c,
                                                 index(cb, chunkBytes));
              SmallVector<Value> masks;
              for (int64_t r = 0; r < blockRows; ++r) {
                Value row = arith::AddIOp::create(cb, loc, firstRow,
                                                  index(cb, r));
                Value bytes = vector::TransferReadOp::create(
                    cb, loc, byteVector, signs, ValueRange{row, byte},
                    byteZero, ArrayRef<bool>{true});
                masks.push_back(
                    vector::BitCastOp::create(cb, loc, maskVector, bytes));
              }
              SmallVector<Value> next;
              for (int64_t i = 0; i < inputBlock; ++i) {
                Value m = arith::AddIOp::create(cb, loc, firstInput,
                                                index(cb, i));
                Value xs = vector::TransferReadOp::create(
                    cb, loc, accType, x, ValueRange{m, column}, floatZero,
                    ArrayRef<bool>{true});
                Value negated = arith::NegFOp::create(cb, loc, xs);
                for (int64_t r = 0; r < blockRows; ++r) {
                  Value term =
                      negativeIsOne
                          ? arith::SelectOp::create(cb, loc, masks[r], negated,
                                                    xs)
                          : arith::SelectOp::create(cb, loc, masks[r], xs,
                                                    negated);
                  next.push_back(arith::AddFOp::create(
                      cb, loc, sums[i * blockRows + r], term,
                      arith::FastMathFlags::reassoc));
                }
              }
              scf::YieldOp::create(cb, loc, next);
            });
        Value updated = rowArgs[0];
        for (int64_t i = 0; i < inputBlock; ++i) {
          Value m = arith::AddIOp::create(rb, loc, firstInput, index(rb, i));
          for (int64_t r = 0; r < blockRows; ++r) {
            Value total = vector::ReductionOp::create(
                rb, loc, vector::CombiningKind::ADD,
                overChunks.getResult(i * blockRows + r),
                arith::FastMathFlags::reassoc);
            updated = tensor::InsertOp::create(rb, loc, total, updated,
                                               ValueRange{m, index(rb, r)});
          }
        }
        scf::YieldOp::create(rb, loc, updated);
      });
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), firstRow};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(rows),
                                     b.getIndexAttr(blockRows)};
  SmallVector<OpFoldResult> strides = {b.getIndexAttr(1), b.getIndexAttr(1)};
  tensor::ParallelInsertSliceOp::create(b, loc, overInputRows.getResult(0),
                                        body->getArgument(1), offsets, sizes,
                                        strides);
  return forall.getResult(0);
}

struct LowerLinear : OpRewritePattern<LinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearOp op,
                                PatternRewriter &rewriter) const override {
    return decomposeLinear(op, rewriter, [&](TosaBuilder &tosa, Value x) {
      if (!hasVectorKernel(op.getPacking()))
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
              isNegative(b, nloc, op.getPacking(), args[0], kIndex);
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

struct ConvertOneBitToLinalgPass
    : onebit::impl::ConvertOneBitToLinalgBase<ConvertOneBitToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateOneBitToLinalgPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    WalkResult result = getOperation()->walk([](Operation *op) {
      if (!isa<LinearOp, UnpackSignsOp>(op))
        return WalkResult::advance();
      op->emitError() << "cannot lower to linalg: the input shape must be "
                         "static";
      return WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace

Value mlir::onebit::buildPackedSignProduct(OpBuilder &b, Location loc, Value x,
                                           Value signs, SignPackingAttr packing,
                                           int64_t outFeatures) {
  MLIRContext *context = b.getContext();
  auto xType = cast<RankedTensorType>(x.getType());
  int64_t rows = xType.getDimSize(0);
  Type f32 = b.getF32Type();
  AffineExpr m, n, k;
  bindDims(context, m, n, k);
  SmallVector<AffineMap> maps = {
      AffineMap::get(3, 0, {m, k}, context),
      AffineMap::get(3, 0, getWordIndex(packing, n, k), context),
      AffineMap::get(3, 0, {m, n}, context)};
  Value empty = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{rows, outFeatures}, f32);
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);
  SmallVector<utils::IteratorType> iterators = {utils::IteratorType::parallel,
                                                utils::IteratorType::parallel,
                                                utils::IteratorType::reduction};
  auto generic = linalg::GenericOp::create(
      b, loc, init.getType(), ValueRange{x, signs}, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value value = args[0];
        if (value.getType() != f32)
          value = arith::ExtFOp::create(nb, nloc, f32, value);
        Value kIndex = linalg::IndexOp::create(nb, nloc, 2);
        Value negative = isNegative(nb, nloc, packing, args[1], kIndex);
        Value negated = arith::NegFOp::create(nb, nloc, value);
        Value term =
            arith::SelectOp::create(nb, nloc, negative, negated, value);
        Value sum = arith::AddFOp::create(nb, nloc, args[2], term);
        linalg::YieldOp::create(nb, nloc, sum);
      });
  return generic.getResult(0);
}

void mlir::onebit::populateOneBitToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<LowerLinear, LowerUnpackSigns>(patterns.getContext());
}
