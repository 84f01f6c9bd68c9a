//===- CachedAttention.cpp - onebit.cached_attention and its schedules ----===//

#include "onebit/Dialect/OneBit/IR/DestinationOps.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::onebit;

//===----------------------------------------------------------------------===//
// Schedules
//===----------------------------------------------------------------------===//

LogicalResult CPUAttentionScheduleAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, int64_t rowBlock,
    int64_t queryTile) {
  if (rowBlock < 1 || rowBlock > 64)
    return emitError() << "cpu_attention_schedule row_block must be 1..64, "
                          "got "
                       << rowBlock;
  if (queryTile < 1 || queryTile > 16)
    return emitError() << "cpu_attention_schedule query_tile must be 1..16, "
                          "got "
                       << queryTile;
  return success();
}

LogicalResult GPUAttentionScheduleAttr::verify(
    function_ref<InFlightDiagnostic()> emitError, int64_t splits,
    int64_t warps, int64_t lanesPerRow, int64_t rowsInFlight) {
  if (splits < 1 || splits > 1024)
    return emitError() << "gpu_attention_schedule splits must be 1..1024, got "
                       << splits;
  if (warps < 1 || warps > 8)
    return emitError() << "gpu_attention_schedule warps must be 1..8, got "
                       << warps;
  if (lanesPerRow < 1 || lanesPerRow > 32 || !llvm::isPowerOf2_64(lanesPerRow))
    return emitError() << "gpu_attention_schedule lanes_per_row must be a "
                          "power of two from 1 to 32, got "
                       << lanesPerRow;
  if (rowsInFlight < 1 || rowsInFlight > 8)
    return emitError()
           << "gpu_attention_schedule rows_in_flight must be 1..8, got "
           << rowsInFlight;
  return success();
}

//===----------------------------------------------------------------------===//
// CachedAttentionOp
//===----------------------------------------------------------------------===//

CachedAttentionOp::Sizes CachedAttentionOp::getSizes() {
  auto query = cast<ShapedType>(getQuery().getType());
  auto key = cast<ShapedType>(getKey().getType());
  return {query.getDimSize(0), query.getDimSize(1), key.getDimSize(1),
          query.getDimSize(2), query.getDimSize(3)};
}

LogicalResult CachedAttentionOp::verify() {
  auto shaped = [](Value value) { return cast<ShapedType>(value.getType()); };
  if (failed(verifyTensorsOrBuffers(*this)))
    return failure();
  bool tensors = isa<TensorType>(getInit().getType());
  if (tensors && (getResults().size() != 3 ||
                  getResults()[0].getType() != getInit().getType() ||
                  getResults()[1].getType() != getKeyCache().getType() ||
                  getResults()[2].getType() != getValueCache().getType()))
    return emitOpError() << "results must have the types of 'init', "
                            "'key_cache' and 'value_cache'";

  ShapedType query = shaped(getQuery());
  Type elementType = query.getElementType();
  if (!isa<FloatType>(elementType))
    return emitOpError() << "'query' must hold floats, got " << elementType;
  struct Operand {
    Value value;
    StringRef name;
  };
  for (Operand operand :
       {Operand{getQuery(), "query"}, Operand{getKey(), "key"},
        Operand{getValue(), "value"}, Operand{getInit(), "init"},
        Operand{getKeyCache(), "key_cache"},
        Operand{getValueCache(), "value_cache"}}) {
    ShapedType type = shaped(operand.value);
    if (!type.hasRank() || type.getRank() != 4)
      return emitOpError() << "'" << operand.name
                           << "' must be [batch, heads, rows, head_dim], got "
                           << type;
    if (type.getElementType() != elementType)
      return emitOpError() << "'" << operand.name << "' must hold "
                           << elementType << " like 'query', got "
                           << type.getElementType();
    bool rowsMayBeDynamic = operand.name.ends_with("cache");
    for (int64_t dim = 0; dim < 4; ++dim)
      if (type.isDynamicDim(dim) && !(rowsMayBeDynamic && dim == 2))
        return emitOpError() << "'" << operand.name << "' dimension " << dim
                             << " must be static";
  }
  ArrayRef<int64_t> q = query.getShape(), k = shaped(getKey()).getShape();
  int64_t batch = q[0], heads = q[1], rows = q[2], headDim = q[3];
  int64_t kvHeads = k[1];
  if (shaped(getInit()).getShape() != q)
    return emitOpError() << "'init' must have the shape of 'query'";
  if (k[0] != batch || k[2] != rows || k[3] != headDim ||
      shaped(getValue()).getShape() != k)
    return emitOpError() << "'key' and 'value' must be [" << batch << ", "
                         << "kv_heads, " << rows << ", " << headDim
                         << "] like 'query'";
  if (kvHeads < 1 || heads % kvHeads != 0)
    return emitOpError() << "query heads (" << heads
                         << ") must be a multiple of key/value heads ("
                         << kvHeads << ")";
  for (Value cache : {getKeyCache(), getValueCache()}) {
    ArrayRef<int64_t> c = shaped(cache).getShape();
    if (c[0] != batch || c[1] != kvHeads || c[3] != headDim)
      return emitOpError() << "caches must be [" << batch << ", " << kvHeads
                           << ", rows, " << headDim << "]";
  }
  if (shaped(getKeyCache()).getShape() != shaped(getValueCache()).getShape())
    return emitOpError() << "'key_cache' and 'value_cache' must have one "
                            "shape";
  ShapedType position = shaped(getPosition());
  if (!position.hasStaticShape() || position.getNumElements() != 1 ||
      !position.getElementType().isSignlessInteger())
    return emitOpError() << "'position' must hold one integer, got "
                         << position;
  if (Value mask = getMask()) {
    ShapedType type = shaped(mask);
    if (!type.hasStaticShape() || type.getShape() != ArrayRef({rows, rows}) ||
        !type.getElementType().isF32())
      return emitOpError() << "'mask' must be " << rows << "x" << rows
                           << " f32 (among the new positions), got " << type;
  }
  if (Attribute schedule = getScheduleAttr())
    if (auto gpu = dyn_cast<GPUAttentionScheduleAttr>(schedule))
      if (8 * gpu.getLanesPerRow() != headDim)
        return emitOpError() << "schedule " << gpu << " holds rows of "
                             << 8 * gpu.getLanesPerRow()
                             << " elements, but the head dimension is "
                             << headDim;
  return success();
}

void CachedAttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  // The caches are read, then extended.
  getDestinationEffects(*this, effects);
}

namespace {

/// A constant mask that is causal (0 where a new position sees another, at
/// most -1e4 where it must not: exp of that score is 0 in f32 for any
/// score of a trained model) is the op's default: drop it.
struct DropCausalMask : OpRewritePattern<CachedAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CachedAttentionOp op,
                                PatternRewriter &rewriter) const override {
    Value mask = op.getMask();
    DenseElementsAttr values;
    if (!mask || !matchPattern(mask, m_Constant(&values)))
      return rewriter.notifyMatchFailure(op, "no constant mask");
    int64_t rows = cast<ShapedType>(mask.getType()).getDimSize(0);
    auto entries = values.getValues<float>();
    for (int64_t t = 0; t < rows; ++t)
      for (int64_t u = 0; u < rows; ++u) {
        float entry = entries[t * rows + u];
        if (u <= t ? entry != 0.0f : !(entry <= -1e4f))
          return rewriter.notifyMatchFailure(op, "the mask is not causal");
      }
    rewriter.modifyOpInPlace(op, [&] { op.getMaskMutable().clear(); });
    return success();
  }
};

} // namespace

void CachedAttentionOp::getCanonicalizationPatterns(
    RewritePatternSet &results, MLIRContext *context) {
  results.add<DropCausalMask>(context);
}
