//===- TosaBuilder.h - terse construction of TOSA ops -----------*- C++ -*-===//
//
// TOSA ops need equal-rank operands, shape operands for reshapes, shift and
// zero-point tensors. The importer and the onebit rewrites build many of
// them; this builder keeps that boilerplate in one place.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_UTILS_TOSABUILDER_H
#define ONEBIT_UTILS_TOSABUILDER_H

#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Builders.h"

#include <optional>

namespace mlir::onebit {

class TosaBuilder {
public:
  TosaBuilder(OpBuilder &builder, Location loc) : b(builder), loc(loc) {}

  OpBuilder &getBuilder() { return b; }
  Location getLoc() const { return loc; }

  /// tosa.const of a dense attribute.
  Value constant(DenseElementsAttr values);
  /// A float or integer splat of `rank` dimensions of size 1.
  Value scalar(Type elementType, double value, int64_t rank);

  Value reshape(Value input, ArrayRef<int64_t> shape);
  /// Reshapes `input` to `rank` dimensions by adding leading 1s.
  Value expandRank(Value input, int64_t rank);
  Value cast(Value input, Type elementType);
  Value transpose(Value input, ArrayRef<int32_t> perms);

  /// Element-wise binary ops with numpy broadcasting: operands are first
  /// brought to the same rank.
  Value add(Value lhs, Value rhs);
  Value sub(Value lhs, Value rhs);
  Value mul(Value lhs, Value rhs);
  Value rsqrt(Value input);
  Value reduceSum(Value input, int32_t axis);
  /// Batched [B, M, K] x [B, K, N] matmul with a result of `resultElement`.
  Value matmul(Value lhs, Value rhs, Type resultElement);

  /// Any element-wise TOSA op of two operands (no extra operands), with
  /// numpy broadcasting; the result element type defaults to the lhs's.
  template <typename OpTy>
  Value binary(Value lhs, Value rhs, Type resultElement = nullptr) {
    auto [l, r] = equalRanks(lhs, rhs);
    RankedTensorType type = broadcastType(llvm::cast<RankedTensorType>(l.getType()),
                                          llvm::cast<RankedTensorType>(r.getType()));
    if (resultElement)
      type = type.clone(resultElement);
    return OpTy::create(b, loc, type, l, r);
  }
  /// Any element-wise TOSA op of one operand.
  template <typename OpTy>
  Value unary(Value input) {
    return OpTy::create(b, loc, input.getType(), input);
  }
  Value negate(Value input);
  Value slice(Value input, ArrayRef<int64_t> starts, ArrayRef<int64_t> sizes);
  Value concat(ValueRange inputs, int32_t axis);
  /// Repeats `input` along each dimension `multiples[i]` times.
  Value tile(Value input, ArrayRef<int64_t> multiples);
  /// Broadcasts `input` to `shape` (numpy rules).
  Value broadcastTo(Value input, ArrayRef<int64_t> shape);
  Value reduceMax(Value input, int32_t axis);

  /// LayerNorm without affine parameters over the last dimension:
  /// (x - mean) * rsqrt(var + epsilon), as reduce_sum/mul/sub/rsqrt.
  Value layerNorm(Value input, double epsilon);
  /// The input and epsilon of a layerNorm() result, if `value` is one.
  static std::optional<std::pair<Value, double>> matchLayerNorm(Value value);

  /// The broadcast result type of two ranked tensors of equal rank.
  static RankedTensorType broadcastType(RankedTensorType lhs,
                                        RankedTensorType rhs);

  /// Reshapes the lower-rank operand with leading 1s.
  std::pair<Value, Value> equalRanks(Value lhs, Value rhs);

private:

  OpBuilder &b;
  Location loc;
};

} // namespace mlir::onebit

#endif // ONEBIT_UTILS_TOSABUILDER_H
