//===- TransposeMatvecWeights.cpp - contiguous reductions for matvecs -----===//
//
// A matrix-vector product x · W with W stored [K, N] reduces over W's
// strided dimension. With W transposed once at compile time, each output's
// reduction reads one contiguous row, which onebit-gpu-row-reductions turns
// into a coalesced block per output instead of one latency-bound thread.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"
#include "onebit/Dialect/OneBit/IR/ConstantVector.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

#include <cstring>

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITGPUTRANSPOSEMATVECWEIGHTS
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// The 2-D constant [K, N] that `b` is, directly or expanded with leading
/// unit dimensions, or null.
ElementsAttr getConstantWeight(Value b) {
  if (auto expand = b.getDefiningOp<tensor::ExpandShapeOp>()) {
    RankedTensorType resultType = expand.getResultType();
    if (expand.getSrcType().getRank() != 2 || resultType.getRank() < 2 ||
        llvm::any_of(resultType.getShape().drop_back(2),
                     [](int64_t size) { return size != 1; }) ||
        resultType.getShape().take_back(2) != expand.getSrcType().getShape())
      return nullptr;
    b = expand.getSrc();
  }
  ElementsAttr attr;
  if (!matchPattern(b, m_Constant(&attr)) ||
      cast<ShapedType>(attr.getType()).getRank() != 2)
    return nullptr;
  return attr;
}

/// `weight` ([K, N]) transposed to [N, K]; a large one as a dense_resource.
Attribute transpose(ElementsAttr weight) {
  auto type = cast<RankedTensorType>(weight.getType());
  int64_t k = type.getDimSize(0), n = type.getDimSize(1);
  auto transposedType = RankedTensorType::get({n, k}, type.getElementType());
  if (auto dense = dyn_cast<DenseElementsAttr>(weight);
      dense && dense.isSplat())
    return dense.reshape(transposedType);
  std::optional<ArrayRef<char>> raw = getRawElementBytes(weight);
  unsigned bits = type.getElementTypeBitWidth();
  if (!raw || bits % 8 != 0 ||
      int64_t(raw->size()) != k * n * int64_t(bits / 8))
    return nullptr;
  size_t size = bits / 8;
  std::vector<char> bytes(raw->size());
  for (int64_t row = 0; row < k; ++row)
    for (int64_t column = 0; column < n; ++column)
      std::memcpy(&bytes[(column * k + row) * size],
                  &(*raw)[(row * n + column) * size], size);
  return getElementsFromRawBytes(transposedType, bytes, "transposed_weight");
}

/// Whether `op` has the default maps of its kind (no transposes or
/// broadcasts given as `indexing_maps`).
bool hasDefaultMaps(linalg::LinalgOp op) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (isa<linalg::MatmulOp>(op.getOperation()))
    return maps == linalg::MatmulOp::getDefaultIndexingMaps(op.getContext());
  if (isa<linalg::BatchMatmulOp>(op.getOperation()))
    return maps ==
           linalg::BatchMatmulOp::getDefaultIndexingMaps(op.getContext());
  return false;
}

LogicalResult transposeWeight(linalg::LinalgOp op, int64_t maxOutputs,
                              RewriterBase &rewriter) {
  if (!isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op.getOperation()) ||
      !op.hasPureTensorSemantics() || !hasDefaultMaps(op))
    return failure();
  Value b = op.getDpsInputs()[1];
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  ElementsAttr weight = getConstantWeight(b);
  if (!weight || !resultType.hasStaticShape() ||
      resultType.getNumElements() > maxOutputs)
    return failure();
  Attribute transposed = transpose(weight);
  if (!transposed)
    return failure();

  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Value transposedWeight =
      arith::ConstantOp::create(rewriter, loc, cast<TypedAttr>(transposed));
  auto bType = cast<RankedTensorType>(b.getType());
  int64_t rank = bType.getRank();
  if (rank > 2) {
    // Leading unit dimensions, as the operand had them.
    SmallVector<int64_t> shape(bType.getShape().drop_back(2));
    shape.push_back(bType.getDimSize(rank - 1));
    shape.push_back(bType.getDimSize(rank - 2));
    SmallVector<ReassociationIndices> reassociation(1);
    for (int64_t i = 0; i < rank - 1; ++i)
      reassociation.back().push_back(i);
    reassociation.push_back({rank - 1});
    transposedWeight = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(shape, bType.getElementType()),
        transposedWeight, reassociation);
  }

  // Loops (batch..., m, n, k): B's map swaps its last two results.
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap bMap = maps[1];
  SmallVector<AffineExpr> results(bMap.getResults());
  std::swap(results[results.size() - 1], results[results.size() - 2]);
  maps[1] = AffineMap::get(bMap.getNumDims(), 0, results, op.getContext());
  auto generic = linalg::GenericOp::create(
      rewriter, loc, op->getResultTypes(),
      ValueRange{op.getDpsInputs()[0], transposedWeight}, op.getDpsInits(),
      maps, op.getIteratorTypesArray());
  rewriter.inlineRegionBefore(op->getRegion(0), generic.getRegion(),
                              generic.getRegion().begin());
  rewriter.replaceOp(op, generic->getResults());
  return success();
}

struct OneBitGPUTransposeMatvecWeightsPass
    : onebit::impl::OneBitGPUTransposeMatvecWeightsBase<
          OneBitGPUTransposeMatvecWeightsPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::LinalgOp> products;
    getOperation()->walk([&](linalg::LinalgOp op) { products.push_back(op); });
    for (linalg::LinalgOp op : products)
      (void)transposeWeight(op, maxOutputs, rewriter);
  }
};

} // namespace
