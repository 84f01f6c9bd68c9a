//===- Linear.cpp - MatMul and Gemm to TOSA --------------------------------===//

#include "../NodeImporter.h"
#include "OpHelpers.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::onnx_import;

namespace {

/// Accumulates half-precision matmuls in f32, as onnxruntime does.
Type getAccumulatorType(Type elementType) {
  if (elementType.isF16() || elementType.isBF16())
    return Float32Type::get(elementType.getContext());
  return elementType;
}

/// Integer [..., M, K] x [..., K, N]: tosa.matmul takes no i32/i64
/// operands, so products [..., M, K, N] are summed over K (wrapping, as
/// ONNX's integer arithmetic does).
FailureOr<Value> buildIntMatMul(NodeImporter &node, Value lhs, Value rhs) {
  TosaBuilder &tosa = node.getTosa();
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  bool lhsVector = lhsType.getRank() == 1, rhsVector = rhsType.getRank() == 1;
  SmallVector<int64_t> l(lhsType.getShape()), r(rhsType.getShape());
  if (lhsVector)
    l.insert(l.begin(), 1);
  if (rhsVector)
    r.push_back(1);
  int64_t m = l[l.size() - 2], k = l.back(), n = r.back();
  if (r[r.size() - 2] != k)
    return node.emitError() << "inner dimensions differ: " << lhsType
                            << " x " << rhsType;
  SmallVector<int64_t> l4(l), r4(r);
  l4.push_back(1);
  r4.insert(r4.end() - 2, 1);
  auto batchOf = [](ArrayRef<int64_t> shape, Type elementType) {
    return RankedTensorType::get(shape.drop_back(2), elementType);
  };
  FailureOr<SmallVector<int64_t>> batch =
      broadcastShapes(node, {batchOf(l, lhsType.getElementType()),
                             batchOf(r, rhsType.getElementType())});
  if (failed(batch))
    return failure();
  Value products = tosa.mul(tosa.reshape(lhs, l4), tosa.reshape(rhs, r4));
  int64_t rank = cast<RankedTensorType>(products.getType()).getRank();
  Value sum = tosa.reduceSum(products, rank - 2);
  SmallVector<int64_t> resultShape(*batch);
  if (!lhsVector)
    resultShape.push_back(m);
  if (!rhsVector)
    resultShape.push_back(n);
  return tosa.reshape(sum, resultShape);
}

/// [..., M, K] x [..., K, N] with numpy broadcasting of the batch dims.
FailureOr<Value> buildMatMul(NodeImporter &node, Value lhs, Value rhs) {
  TosaBuilder &tosa = node.getTosa();
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  Type elementType = lhsType.getElementType();
  if (rhsType.getElementType() != elementType ||
      elementType.isInteger(1))
    return node.emitError() << "supports numeric operands of one type only, "
                               "got "
                            << lhsType << " and " << rhsType;
  if (lhsType.getRank() == 0 || rhsType.getRank() == 0)
    return node.emitError() << "does not take scalars";
  if (isa<IntegerType>(elementType))
    return buildIntMatMul(node, lhs, rhs);
  bool lhsVector = lhsType.getRank() == 1, rhsVector = rhsType.getRank() == 1;
  if (lhsVector)
    lhs = tosa.reshape(lhs, {1, lhsType.getDimSize(0)});
  if (rhsVector)
    rhs = tosa.reshape(rhs, {rhsType.getDimSize(0), 1});
  lhsType = cast<RankedTensorType>(lhs.getType());
  rhsType = cast<RankedTensorType>(rhs.getType());
  int64_t m = lhsType.getDimSize(lhsType.getRank() - 2);
  int64_t k = lhsType.getShape().back();
  int64_t n = rhsType.getShape().back();
  if (rhsType.getDimSize(rhsType.getRank() - 2) != k)
    return node.emitError() << "inner dimensions differ: " << lhsType
                            << " x " << rhsType;

  SmallVector<int64_t> resultShape;
  Value lhs3, rhs3;
  int64_t batch = 1;
  if (rhsType.getRank() == 2) {
    // The common weight case: fold every batch dim of lhs into M.
    int64_t rows = lhsType.getNumElements() / k;
    lhs3 = tosa.reshape(lhs, {1, rows, k});
    rhs3 = tosa.reshape(rhs, {1, k, n});
    resultShape.assign(lhsType.getShape().begin(), lhsType.getShape().end());
    resultShape.back() = n;
    m = rows;
  } else {
    ArrayRef<int64_t> lb = lhsType.getShape().drop_back(2);
    ArrayRef<int64_t> rb = rhsType.getShape().drop_back(2);
    size_t rank = std::max(lb.size(), rb.size());
    SmallVector<int64_t> batchShape(rank, 1);
    for (size_t i = 0; i < rank; ++i) {
      int64_t a = i + lb.size() >= rank ? lb[i + lb.size() - rank] : 1;
      int64_t b = i + rb.size() >= rank ? rb[i + rb.size() - rank] : 1;
      if (a != b && a != 1 && b != 1)
        return node.emitError() << "batch dimensions of " << lhsType
                                << " and " << rhsType << " do not broadcast";
      batchShape[i] = a == 1 ? b : a;
      batch *= batchShape[i];
    }
    SmallVector<int64_t> lhsTarget(batchShape), rhsTarget(batchShape);
    lhsTarget.append({m, k});
    rhsTarget.append({k, n});
    lhs3 = tosa.reshape(tosa.broadcastTo(lhs, lhsTarget), {batch, m, k});
    rhs3 = tosa.reshape(tosa.broadcastTo(rhs, rhsTarget), {batch, k, n});
    resultShape = batchShape;
    resultShape.append({m, n});
  }
  Value product = tosa.matmul(lhs3, rhs3, getAccumulatorType(elementType));
  product = tosa.cast(product, elementType);
  if (lhsVector)
    resultShape.erase(resultShape.end() - 2);
  if (rhsVector)
    resultShape.pop_back();
  return tosa.reshape(product, resultShape);
}

LogicalResult convertMatMul(NodeImporter &node) {
  FailureOr<ImportedValue> lhs = node.getInput(0);
  FailureOr<ImportedValue> rhs = node.getInput(1);
  if (failed(lhs) || failed(rhs))
    return failure();
  FailureOr<Value> result = buildMatMul(node, lhs->value, rhs->value);
  if (failed(result))
    return failure();
  node.setOutput(0, *result, lhs->isUnsigned);
  return success();
}

LogicalResult convertGemm(NodeImporter &node) {
  FailureOr<ImportedValue> a = node.getInput(0);
  FailureOr<ImportedValue> b = node.getInput(1);
  if (failed(a) || failed(b))
    return failure();
  if (a->getType().getRank() != 2 || b->getType().getRank() != 2)
    return node.emitError() << "needs 2-D A and B, got " << a->getType()
                            << " and " << b->getType();
  TosaBuilder &tosa = node.getTosa();
  Value lhs = node.getInt("transA", 0) ? tosa.transpose(a->value, {1, 0})
                                       : a->value;
  Value rhs = node.getInt("transB", 0) ? tosa.transpose(b->value, {1, 0})
                                       : b->value;
  FailureOr<Value> result = buildMatMul(node, lhs, rhs);
  if (failed(result))
    return failure();
  Type elementType = a->getType().getElementType();
  Value y = *result;
  float alpha = node.getFloat("alpha", 1.0f), beta = node.getFloat("beta", 1.0f);
  if (!isFloat(elementType) && (alpha != 1.0f || beta != 1.0f))
    return node.emitError() << "supports alpha and beta other than 1 for "
                               "float inputs only";
  if (alpha != 1.0f)
    y = tosa.mul(y, tosa.scalar(elementType, alpha, 2));
  if (node.hasInput(2)) {
    FailureOr<ImportedValue> c = node.getInput(2);
    if (failed(c))
      return failure();
    // C broadcasts to Y, never the other way.
    auto yType = cast<RankedTensorType>(y.getType());
    FailureOr<SmallVector<int64_t>> shape =
        broadcastShapes(node, {yType, c->getType()});
    if (failed(shape))
      return failure();
    if (ArrayRef<int64_t>(*shape) != yType.getShape() ||
        c->getType().getElementType() != elementType)
      return node.emitError() << "C " << c->getType()
                              << " does not broadcast to Y " << yType;
    Value bias = c->value;
    if (beta != 1.0f)
      bias = tosa.mul(bias, tosa.scalar(elementType, beta,
                                        c->getType().getRank()));
    y = tosa.add(y, bias);
  }
  node.setOutput(0, y, a->isUnsigned);
  return success();
}

} // namespace

void mlir::onebit::onnx_import::registerLinearConverters(ConverterMap &map) {
  map["::MatMul"] = convertMatMul;
  map["::Gemm"] = convertGemm;
}
