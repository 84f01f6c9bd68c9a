//===- FuseLinear.cpp - ONNX encodings of 1-bit layers to onebit.linear ---===//

#include "onebit/Dialect/OneBit/IR/ConstantVector.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"
#include "onebit/Dialect/OneBit/IR/SignLayout.h"
#include "onebit/Dialect/OneBit/Transforms/Passes.h"
#include "onebit/Utils/TosaBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITFUSELINEAR
#include "onebit/Dialect/OneBit/Transforms/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

enum class Encoding { Packed, SignMatrix, MergedScales };

StringRef getEncodingName(Encoding encoding) {
  switch (encoding) {
  case Encoding::Packed:
    return "packed";
  case Encoding::SignMatrix:
    return "sign matrix";
  case Encoding::MergedScales:
    return "merged scales";
  }
  llvm_unreachable("unknown encoding");
}

/// A 1-bit weight recovered from the IR feeding a matmul.
struct OneBitWeight {
  Encoding encoding;
  int64_t outFeatures = 0, inFeatures = 0;
  /// Packed encoding: the bytes, as [N, K8] or [N, K8, 1].
  Value packedSigns;
  SignPackingAttr packing;
  /// Dense encodings: row-major N x K, true = -1.
  std::vector<bool> negative;
  /// Merged scales: g (K) and h (N).
  SmallVector<double> inputScale, outputScale;
  int64_t bytesBefore = 0;
};

int64_t getByteSize(Type type) {
  auto shaped = cast<ShapedType>(type);
  return shaped.getNumElements() *
         llvm::divideCeil(shaped.getElementTypeBitWidth(), 8);
}

/// The constant behind `value`, looking through reshapes (a constant shared
/// by several layers keeps its reshapes after canonicalization).
bool matchConstantThroughReshapes(Value value, DenseElementsAttr &attr) {
  while (auto reshape = value.getDefiningOp<tosa::ReshapeOp>())
    value = reshape.getInput1();
  return matchPattern(value, m_Constant(&attr));
}

std::optional<double> getSplat(Value value) {
  DenseElementsAttr attr;
  if (!matchConstantThroughReshapes(value, attr) || !attr.isSplat())
    return std::nullopt;
  if (isa<FloatType>(attr.getElementType()))
    return attr.getSplatValue<APFloat>().convertToDouble();
  return double(attr.getSplatValue<APInt>().getSExtValue());
}

/// `value` rounded once, to nearest even, into `type`.
APFloat roundTo(FloatType type, double value) {
  APFloat result(value);
  bool losesInfo;
  result.convert(type.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                 &losesInfo);
  return result;
}

/// Recovers g and h of a merged weight as docs/onnx-convention.md §5.2
/// says: h from row 0, each g_k the first of RNE(|C[k,0]| / h_0) and its
/// neighbours (±1, ±2 ulps) that reproduces row k bit for bit. Fails if the
/// weight is not exactly such a product.
LogicalResult factorMerged(FloatType type, int64_t k, int64_t n,
                           function_ref<double(int64_t, int64_t)> at,
                           SmallVectorImpl<double> &inputScale,
                           SmallVectorImpl<double> &outputScale) {
  for (int64_t row = 0; row < k; ++row)
    for (int64_t col = 0; col < n; ++col)
      if (!roundTo(type, std::abs(at(row, col))).isNormal())
        return failure();
  for (int64_t col = 0; col < n; ++col)
    outputScale.push_back(std::abs(at(0, col)));
  for (int64_t row = 0; row < k; ++row) {
    APFloat center = roundTo(type, std::abs(at(row, 0)) / outputScale[0]);
    SmallVector<APFloat> candidates = {center};
    APFloat up = center, down = center;
    for (int step = 0; step < 2; ++step) {
      up.next(/*nextDown=*/false);
      down.next(/*nextDown=*/true);
      candidates.push_back(up);
      candidates.push_back(down);
    }
    bool found = false;
    for (const APFloat &candidate : candidates) {
      if (!candidate.isFiniteNonZero() || candidate.isNegative())
        continue;
      double g = candidate.convertToDouble();
      bool reproduces = true;
      for (int64_t col = 0; col < n && reproduces; ++col)
        reproduces = roundTo(type, g * outputScale[col]).convertToDouble() ==
                     std::abs(at(row, col));
      if (reproduces) {
        inputScale.push_back(g);
        found = true;
        break;
      }
    }
    if (!found)
      return failure();
  }
  return success();
}

/// Dense weight values, row-major N x K (`transposed`: stored K x N).
FailureOr<OneBitWeight> analyzeDense(ElementsAttr attr, bool transposed) {
  auto type = cast<RankedTensorType>(attr.getType());
  auto elementType = dyn_cast<FloatType>(type.getElementType());
  std::optional<std::vector<float>> values = readFloatElements(attr);
  // A [1, K, N] weight is what canonicalization makes of the reshape the
  // importer puts before tosa.matmul.
  ArrayRef<int64_t> shape = type.getShape();
  if (shape.size() == 3 && shape[0] == 1)
    shape = shape.drop_front();
  if (!elementType || !values || shape.size() != 2)
    return failure();
  int64_t n = transposed ? shape[1] : shape[0];
  int64_t k = transposed ? shape[0] : shape[1];
  auto at = [&](int64_t row, int64_t col) {
    return (*values)[transposed ? col * n + row : row * k + col];
  };
  OneBitWeight weight;
  weight.outFeatures = n;
  weight.inFeatures = k;
  weight.bytesBefore = getByteSize(type);
  weight.negative.resize(n * k);
  bool allUnit = true;
  for (int64_t row = 0; row < n; ++row)
    for (int64_t col = 0; col < k; ++col) {
      double v = at(row, col);
      weight.negative[row * k + col] = v < 0;
      allUnit &= std::abs(v) == 1.0;
    }
  if (allUnit) {
    weight.encoding = Encoding::SignMatrix;
    return weight;
  }
  weight.encoding = Encoding::MergedScales;
  if (failed(factorMerged(elementType, k, n,
                          [&](int64_t row, int64_t col) { return at(col, row); },
                          weight.inputScale, weight.outputScale)))
    return failure();
  return weight;
}

/// Looks through `tosa.cast` and `tosa.bitwise_and` with masks that keep
/// bit 0 (the unsigned widening the importer emits) on a 0/1 integer value.
Value skipBitPreservingOps(Value value) {
  while (true) {
    if (auto cast = value.getDefiningOp<tosa::CastOp>()) {
      if (!isa<IntegerType>(getElementTypeOrSelf(cast.getInput().getType())))
        return value;
      value = cast.getInput();
      continue;
    }
    if (auto mask = value.getDefiningOp<tosa::BitwiseAndOp>()) {
      std::optional<double> bits = getSplat(mask.getInput2());
      if (!bits || !(int64_t(*bits) & 1))
        return value;
      value = mask.getInput1();
      continue;
    }
    return value;
  }
}

/// The packed unpack chain of docs/onnx-convention.md, N x K orientation.
FailureOr<OneBitWeight> analyzePackedChain(Value signs) {
  auto signsType = cast<RankedTensorType>(signs.getType());
  if (signsType.getRank() != 2 || !signsType.hasStaticShape())
    return failure();
  int64_t n = signsType.getDimSize(0), k = signsType.getDimSize(1);

  // ±1 = c0 + c1 * b: either add(mul(b, c1), c0) or sub(c0, mul(b, c2)).
  Value bits;
  double valueOfZero, valueOfOne;
  if (auto add = signs.getDefiningOp<tosa::AddOp>()) {
    std::optional<double> c0 = getSplat(add.getInput2());
    auto mul = add.getInput1().getDefiningOp<tosa::MulOp>();
    if (!c0 || !mul)
      return failure();
    std::optional<double> c1 = getSplat(mul.getInput2());
    if (!c1)
      return failure();
    bits = mul.getInput1();
    valueOfZero = *c0;
    valueOfOne = *c0 + *c1;
  } else if (auto sub = signs.getDefiningOp<tosa::SubOp>()) {
    std::optional<double> c0 = getSplat(sub.getInput1());
    auto mul = sub.getInput2().getDefiningOp<tosa::MulOp>();
    if (!c0 || !mul)
      return failure();
    std::optional<double> c2 = getSplat(mul.getInput2());
    if (!c2)
      return failure();
    bits = mul.getInput1();
    valueOfZero = *c0;
    valueOfOne = *c0 - *c2;
  } else {
    return failure();
  }
  if (!((valueOfZero == 1 && valueOfOne == -1) ||
        (valueOfZero == -1 && valueOfOne == 1)))
    return failure();

  auto toFloat = bits.getDefiningOp<tosa::CastOp>();
  if (!toFloat)
    return failure();
  Value unpacked = skipBitPreservingOps(toFloat.getInput());
  if (auto slice = unpacked.getDefiningOp<tosa::SliceOp>())
    unpacked = slice.getInput1();
  auto flatten = unpacked.getDefiningOp<tosa::ReshapeOp>();
  if (!flatten)
    return failure();
  auto lowBit = flatten.getInput1().getDefiningOp<tosa::BitwiseAndOp>();
  if (!lowBit || getSplat(lowBit.getInput2()) != 1.0)
    return failure();
  auto shift = lowBit.getInput1().getDefiningOp<tosa::LogicalRightShiftOp>();
  if (!shift)
    return failure();
  auto spreadType = cast<RankedTensorType>(shift.getType());
  int64_t wordsPerRow = llvm::divideCeil(k, 8);
  if (spreadType.getShape() != ArrayRef<int64_t>{n, wordsPerRow, 8} ||
      !spreadType.getElementType().isInteger(8))
    return failure();
  DenseElementsAttr shifts;
  if (!matchConstantThroughReshapes(shift.getInput2(), shifts) ||
      shifts.getNumElements() != 8)
    return failure();
  SmallVector<int64_t> amounts;
  for (const APInt &amount : shifts.getValues<APInt>())
    amounts.push_back(amount.getSExtValue());
  BitOrder order;
  if (amounts == SmallVector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7})
    order = BitOrder::LSBFirst;
  else if (amounts == SmallVector<int64_t>{7, 6, 5, 4, 3, 2, 1, 0})
    order = BitOrder::MSBFirst;
  else
    return failure();

  OneBitWeight weight;
  weight.encoding = Encoding::Packed;
  weight.outFeatures = n;
  weight.inFeatures = k;
  weight.packedSigns = shift.getInput1();
  weight.packing = SignPackingAttr::get(signs.getContext(), 8, order,
                                        valueOfOne == -1 ? 1 : 0, 1);
  weight.bytesBefore = n * wordsPerRow;
  return weight;
}

/// The 1-bit weight behind a [K, N] matmul operand, if any.
FailureOr<OneBitWeight> analyzeWeight(Value weight) {
  if (auto transpose = weight.getDefiningOp<tosa::TransposeOp>()) {
    if (transpose.getPerms() != ArrayRef<int32_t>{1, 0})
      return failure();
    Value rows = transpose.getInput1();
    ElementsAttr attr;
    if (matchPattern(rows, m_Constant(&attr)))
      return analyzeDense(attr, /*transposed=*/false);
    return analyzePackedChain(rows);
  }
  ElementsAttr attr;
  if (matchPattern(weight, m_Constant(&attr)))
    return analyzeDense(attr, /*transposed=*/true);
  return failure();
}

/// The packed bytes of `weight` as an [N, K8] i8 value.
Value materializeSigns(PatternRewriter &rewriter, Location loc,
                       OneBitWeight &weight) {
  TosaBuilder tosa(rewriter, loc);
  int64_t wordsPerRow = llvm::divideCeil(weight.inFeatures, 8);
  if (weight.encoding == Encoding::Packed)
    return tosa.reshape(weight.packedSigns, {weight.outFeatures, wordsPerRow});
  weight.packing = SignPackingAttr::getOneBitDefault(rewriter.getContext());
  SignLayout layout(weight.packing, weight.outFeatures, weight.inFeatures);
  std::vector<uint64_t> words = layout.pack(weight.negative);
  SmallVector<int8_t> bytes(words.begin(), words.end());
  auto type = RankedTensorType::get({weight.outFeatures, wordsPerRow},
                                    rewriter.getI8Type());
  return arith::ConstantOp::create(
      rewriter, loc, DenseElementsAttr::get(type, ArrayRef<int8_t>(bytes)));
}

/// "'name': " for a location naming an ONNX node, else "".
std::string getNodeName(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return "'" + name.getName().str() + "': ";
  return "";
}

struct FusionContext {
  FusionStatistics *statistics;
  bool remarks;
};

/// tosa.matmul(x, weight) with a 1-bit weight -> onebit.linear.
struct FuseMatMul : OpRewritePattern<tosa::MatMulOp> {
  FuseMatMul(MLIRContext *context, FusionContext fusion)
      : OpRewritePattern(context), fusion(fusion) {}

  LogicalResult matchAndRewrite(tosa::MatMulOp matmul,
                                PatternRewriter &rewriter) const override {
    auto lhsType = cast<RankedTensorType>(matmul.getA().getType());
    auto rhsType = cast<RankedTensorType>(matmul.getB().getType());
    if (lhsType.getDimSize(0) != 1 || rhsType.getDimSize(0) != 1 ||
        !lhsType.hasStaticShape() || !rhsType.hasStaticShape())
      return failure();
    Value weightValue = matmul.getB();
    if (auto reshape = weightValue.getDefiningOp<tosa::ReshapeOp>())
      weightValue = reshape.getInput1();
    FailureOr<OneBitWeight> weight = analyzeWeight(weightValue);
    if (failed(weight) || weight->inFeatures != rhsType.getDimSize(1) ||
        weight->outFeatures != rhsType.getDimSize(2))
      return failure();

    Location loc = matmul.getLoc();
    TosaBuilder tosa(rewriter, loc);
    // Apply the layer to the activation before it was flattened to 3-D.
    Value input = matmul.getA();
    if (auto flatten = input.getDefiningOp<tosa::ReshapeOp>()) {
      auto original = cast<RankedTensorType>(flatten.getInput1().getType());
      if (original.getRank() >= 1 &&
          original.getShape().back() == weight->inFeatures)
        input = flatten.getInput1();
    }
    auto inputType = cast<RankedTensorType>(input.getType());
    Type elementType = inputType.getElementType();
    Value signs = materializeSigns(rewriter, loc, *weight);
    Value inputScale, outputScale;
    if (weight->encoding == Encoding::MergedScales) {
      inputScale = createFloatConstant(
          rewriter, loc, RankedTensorType::get({weight->inFeatures}, elementType),
          weight->inputScale);
      outputScale = createFloatConstant(
          rewriter, loc,
          RankedTensorType::get({weight->outFeatures}, elementType),
          weight->outputScale);
    }
    SmallVector<int64_t> shape(inputType.getShape());
    shape.back() = weight->outFeatures;
    auto linear = LinearOp::create(
        rewriter, loc, RankedTensorType::get(shape, elementType), input, signs,
        inputScale, outputScale, /*bias=*/Value(), weight->packing,
        /*norm_epsilon=*/FloatAttr());
    auto resultType = cast<RankedTensorType>(matmul.getType());
    Value result = tosa.reshape(linear, resultType.getShape());
    result = tosa.cast(result, resultType.getElementType());
    rewriter.replaceOp(matmul, result);

    int64_t bytesAfter =
        getByteSize(signs.getType()) +
        (inputScale ? getByteSize(inputScale.getType()) : 0) +
        (outputScale ? getByteSize(outputScale.getType()) : 0);
    if (FusionStatistics *stats = fusion.statistics) {
      ++(weight->encoding == Encoding::Packed       ? stats->packed
         : weight->encoding == Encoding::SignMatrix ? stats->signMatrix
                                                    : stats->mergedScales);
      stats->bytesBefore += weight->bytesBefore;
      stats->bytesAfter += bytesAfter;
    }
    if (fusion.remarks)
      linear.emitRemark() << getNodeName(loc) << "fused a " << weight->outFeatures << "x"
                          << weight->inFeatures << " 1-bit layer ("
                          << getEncodingName(weight->encoding)
                          << " encoding): weight " << weight->bytesBefore
                          << " bytes -> " << bytesAfter << " bytes";
    return success();
  }

  FusionContext fusion;
};

/// Strips float-to-float casts (the importer computes reductions in f32).
Value skipFloatCasts(Value value) {
  while (auto cast = value.getDefiningOp<tosa::CastOp>()) {
    if (!isa<FloatType>(getElementTypeOrSelf(cast.getInput().getType())))
      break;
    value = cast.getInput();
  }
  return value;
}

/// Whether `value` is mean(`input`) over the last axis as the importer
/// writes ReduceMean: reduce_sum(x) * (1 / N), up to casts.
bool isImportedMean(Value value, Value input) {
  auto mul = skipFloatCasts(value).getDefiningOp<tosa::MulOp>();
  if (!mul)
    return false;
  auto sum = mul.getInput1().getDefiningOp<tosa::ReduceSumOp>();
  auto type = cast<RankedTensorType>(input.getType());
  std::optional<double> scale = getSplat(mul.getInput2());
  return sum && skipFloatCasts(sum.getInput()) == input &&
         sum.getAxis() == uint32_t(type.getRank() - 1) && scale &&
         std::abs(*scale * type.getShape().back() - 1.0) < 1e-2;
}

/// The LayerNorm of opsets below 17, as docs/onnx-convention.md §3.3 writes
/// it and the importer translates it: d = y - mean(y);
/// d * reciprocal(pow(mean(d * d) + eps, 0.5)). Returns y and eps.
std::optional<std::pair<Value, double>> matchDecomposedLayerNorm(Value value) {
  auto normalized = value.getDefiningOp<tosa::MulOp>();
  if (!normalized)
    return std::nullopt;
  auto reciprocal = normalized.getInput2().getDefiningOp<tosa::ReciprocalOp>();
  auto centered = normalized.getInput1().getDefiningOp<tosa::SubOp>();
  if (!reciprocal || !centered)
    return std::nullopt;
  auto root = reciprocal.getInput1().getDefiningOp<tosa::PowOp>();
  if (!root || getSplat(root.getInput2()) != 0.5)
    return std::nullopt;
  auto plusEpsilon = root.getInput1().getDefiningOp<tosa::AddOp>();
  if (!plusEpsilon)
    return std::nullopt;
  std::optional<double> epsilon = getSplat(plusEpsilon.getInput2());
  Value input = centered.getInput1();
  if (!epsilon || !isImportedMean(centered.getInput2(), input))
    return std::nullopt;
  Value d = centered.getResult();
  Value variance = skipFloatCasts(plusEpsilon.getInput1());
  auto varianceMul = variance.getDefiningOp<tosa::MulOp>();
  if (!varianceMul)
    return std::nullopt;
  auto sum = varianceMul.getInput1().getDefiningOp<tosa::ReduceSumOp>();
  if (!sum)
    return std::nullopt;
  auto square = skipFloatCasts(sum.getInput()).getDefiningOp<tosa::MulOp>();
  if (!square || square.getInput1() != d || square.getInput2() != d ||
      !isImportedMean(plusEpsilon.getInput1(), square.getResult()))
    return std::nullopt;
  return std::make_pair(input, *epsilon);
}

/// LayerNorm (as TosaBuilder::layerNorm) of a linear's output -> its norm.
struct FuseNorm : OpRewritePattern<tosa::MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tosa::MulOp mul,
                                PatternRewriter &rewriter) const override {
    std::optional<std::pair<Value, double>> norm =
        TosaBuilder::matchLayerNorm(mul.getResult());
    if (!norm)
      norm = matchDecomposedLayerNorm(mul.getResult());
    if (!norm)
      return failure();
    Value input = norm->first;
    auto widen = input.getDefiningOp<tosa::CastOp>();
    if (widen)
      input = widen.getInput();
    auto linear = input.getDefiningOp<LinearOp>();
    if (!linear || linear.hasNorm() || linear.getBias())
      return failure();
    // The linear's output feeds only the LayerNorm's statistics and
    // centring, which all go away.
    rewriter.modifyOpInPlace(linear, [&] {
      linear.setNormEpsilonAttr(rewriter.getF32FloatAttr(norm->second));
    });
    Value result = TosaBuilder(rewriter, mul.getLoc())
                       .cast(linear.getResult(),
                             getElementTypeOrSelf(mul.getType()));
    rewriter.replaceOp(mul, result);
    return success();
  }
};

/// linear(x) + c, c constant per output channel -> linear with bias.
struct FuseBias : OpRewritePattern<tosa::AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tosa::AddOp add,
                                PatternRewriter &rewriter) const override {
    for (auto operands : {std::pair(add.getInput1(), add.getInput2()),
                          std::pair(add.getInput2(), add.getInput1())}) {
      auto linear = operands.first.getDefiningOp<LinearOp>();
      if (!linear || !linear->hasOneUse() ||
          operands.first.getType() != add.getType())
        continue;
      auto biasType = dyn_cast<RankedTensorType>(operands.second.getType());
      int64_t n = linear.getOutFeatures();
      if (!biasType || !biasType.hasStaticShape() ||
          biasType.getNumElements() != n || biasType.getShape().back() != n)
        continue;
      std::optional<SmallVector<double>> values =
          getConstantFloats(operands.second);
      if (!values)
        continue;
      if (Value bias = linear.getBias()) {
        std::optional<SmallVector<double>> existing = getConstantFloats(bias);
        if (!existing)
          continue;
        for (auto [value, old] : llvm::zip_equal(*values, *existing))
          value += old;
      }
      auto type = RankedTensorType::get({n}, biasType.getElementType());
      Value bias = createFloatConstant(rewriter, add.getLoc(), type, *values);
      rewriter.modifyOpInPlace(linear,
                               [&] { linear.getBiasMutable().assign(bias); });
      rewriter.replaceOp(add, linear.getResult());
      return success();
    }
    return failure();
  }
};

/// cast(cast(x : T -> f32) -> T) -> x for half types: the widening is exact.
struct FoldRoundTripCast : OpRewritePattern<tosa::CastOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tosa::CastOp cast,
                                PatternRewriter &rewriter) const override {
    auto widen = cast.getInput().getDefiningOp<tosa::CastOp>();
    if (!widen || widen.getInput().getType() != cast.getType())
      return failure();
    Type narrow = getElementTypeOrSelf(cast.getType());
    Type wide = getElementTypeOrSelf(widen.getType());
    if (!isa<FloatType>(narrow) || !isa<FloatType>(wide) ||
        narrow.getIntOrFloatBitWidth() > wide.getIntOrFloatBitWidth())
      return failure();
    rewriter.replaceOp(cast, widen.getInput());
    return success();
  }
};

struct OneBitFuseLinearPass
    : onebit::impl::OneBitFuseLinearBase<OneBitFuseLinearPass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    FusionStatistics statistics;
    RewritePatternSet patterns(context);
    populateFuseLinearPatterns(patterns, &statistics, report);
    LinearOp::getCanonicalizationPatterns(patterns, context);
    tosa::ReshapeOp::getCanonicalizationPatterns(patterns, context);
    tosa::CastOp::getCanonicalizationPatterns(patterns, context);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    if (report)
      getOperation()->emitRemark()
          << "onebit-fuse-linear: "
          << statistics.packed + statistics.signMatrix +
                 statistics.mergedScales
          << " layers fused (packed " << statistics.packed
          << ", sign matrix " << statistics.signMatrix << ", merged scales "
          << statistics.mergedScales << "); weight bytes "
          << statistics.bytesBefore << " -> " << statistics.bytesAfter;
  }
};

} // namespace

void mlir::onebit::populateFuseLinearPatterns(RewritePatternSet &patterns,
                                              FusionStatistics *statistics,
                                              bool remarks) {
  MLIRContext *context = patterns.getContext();
  patterns.add<FuseMatMul>(context, FusionContext{statistics, remarks});
  patterns.add<FuseNorm, FuseBias, FoldRoundTripCast>(context);
}
