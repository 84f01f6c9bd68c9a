//===- OpHelpers.h - building blocks shared by the op converters -*- C++ -*-===//
//
// ONNX typing rules that TOSA does not share: unsigned integers (TOSA
// tensors are signless and compare signed), float-to-int casts that
// truncate (tosa.cast rounds to nearest) and multidirectional broadcasting
// of any number of operands.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_FRONTEND_ONNX_OPS_OPHELPERS_H
#define ONEBIT_LIB_FRONTEND_ONNX_OPS_OPHELPERS_H

#include "../NodeImporter.h"

namespace mlir::onebit::onnx_import {

bool isFloat(Value value);
bool isFloat(Type elementType);

/// Input `index` of `node`, which must be a float tensor (else an error
/// naming its type).
FailureOr<ImportedValue> getFloatInput(NodeImporter &node, unsigned index = 0);

/// The numpy broadcast of `shapes`, or an error naming them.
FailureOr<SmallVector<int64_t>> broadcastShapes(NodeImporter &node,
                                                ArrayRef<RankedTensorType> types);

/// tosa.select with numpy broadcasting of all three operands.
Value buildSelect(TosaBuilder &tosa, Value condition, Value lhs, Value rhs);

/// Widens an integer value to a signed type of at least `minWidth` bits
/// that holds all of its values: unsigned values are zero-extended (a cast
/// and a mask), signed ones sign-extended. Values already that wide are
/// returned as they are. Unsigned values of 64 bits cannot be widened and
/// are returned as they are too.
Value widenInteger(TosaBuilder &tosa, Value value, bool isUnsigned,
                   unsigned minWidth);

/// Converts a float value to an integer type truncating toward zero, as
/// ONNX's Cast does (tosa.cast rounds to nearest). `isUnsigned` targets
/// keep values up to their unsigned maximum. Values out of range (which C++
/// leaves undefined) wrap or saturate.
Value castFloatToInt(TosaBuilder &tosa, Value value, Type intType,
                     bool isUnsigned);

/// ONNX element type code of an MLIR element type (signless integers are
/// signed unless `isUnsigned`), UNDEFINED if there is none.
int32_t getONNXType(Type elementType, bool isUnsigned);

/// Fails with an error unless the node's opset has the op: for ops newer
/// than the ONNX schemas onebit links (which check the older ones).
LogicalResult requireOpset(NodeImporter &node, int64_t since);

/// Fails with an error if `shape` has no elements: TOSA has no empty
/// tensors.
LogicalResult checkNotEmpty(NodeImporter &node, ArrayRef<int64_t> shape,
                            StringRef what);

/// A dense constant of `shape` holding integer `values` as `elementType`
/// (integer, bool or float).
DenseElementsAttr getDenseOf(Type elementType, ArrayRef<int64_t> shape,
                             ArrayRef<int64_t> values);

/// ONNX Range of scalar `start`, `limit` and `delta` (one element type):
/// start + i * delta for i < max(ceil((limit - start) / delta), 0). Fails
/// with `error` set for a zero delta or more than `maxElements` elements.
FailureOr<DenseElementsAttr> computeRange(DenseElementsAttr start,
                                          DenseElementsAttr limit,
                                          DenseElementsAttr delta,
                                          int64_t maxElements,
                                          std::string &error);

} // namespace mlir::onebit::onnx_import

#endif // ONEBIT_LIB_FRONTEND_ONNX_OPS_OPHELPERS_H
