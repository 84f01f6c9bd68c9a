//===- ConstantVector.h - small constant float vectors ----------*- C++ -*-===//
//
// Reads and builds the small constant float tensors that scale a linear
// layer (g, h, bias): folding a constant multiply into them needs the values
// on the host, multiplied in double and rounded once to the stored type.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_DIALECT_ONEBIT_IR_CONSTANTVECTOR_H
#define ONEBIT_DIALECT_ONEBIT_IR_CONSTANTVECTOR_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include <optional>
#include <vector>

namespace mlir::onebit {

/// The elements of a constant float tensor, in row-major order, or nothing
/// if `value` is not produced by a constant-like op with float elements.
std::optional<SmallVector<double>> getConstantFloats(Value value);

/// Whether `value` is a constant whose every element equals `splat`.
bool isConstantSplat(Value value, double splat);

/// The elements of a float constant (dense or dense_resource, f16, bf16 or
/// f32) in row-major order as floats (exact for those types), or nothing.
std::optional<std::vector<float>> readFloatElements(ElementsAttr attr);

/// The bytes of a constant's elements in row-major order (a dense attribute
/// that is not a splat, or a dense_resource), or nothing.
std::optional<ArrayRef<char>> getRawElementBytes(Attribute attr);

/// The constant of `type` whose elements are `bytes` in row-major order: a
/// dense attribute when small, else a dense_resource named after
/// `resourceName` (kept out of the IR's text).
ElementsAttr getElementsFromRawBytes(ShapedType type, ArrayRef<char> bytes,
                                     StringRef resourceName);

/// A constant tensor of `type` holding `values`, each rounded to the
/// element type (round to nearest even).
Value createFloatConstant(OpBuilder &builder, Location loc,
                          RankedTensorType type, ArrayRef<double> values);

} // namespace mlir::onebit

#endif // ONEBIT_DIALECT_ONEBIT_IR_CONSTANTVECTOR_H
