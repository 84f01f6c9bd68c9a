//===- OneBitDialect.h - onebit dialect and attributes ----------*- C++ -*-===//

#ifndef ONEBIT_DIALECT_ONEBIT_IR_ONEBITDIALECT_H
#define ONEBIT_DIALECT_ONEBIT_IR_ONEBITDIALECT_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "onebit/Dialect/OneBit/IR/OneBitOpsDialect.h.inc"
#include "onebit/Dialect/OneBit/IR/OneBitEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "onebit/Dialect/OneBit/IR/OneBitAttrs.h.inc"

namespace mlir::onebit {

/// The function the importer creates for the model's graph and the runtime
/// calls.
constexpr llvm::StringLiteral kMainFunctionName = "main_graph";
/// Argument and result attribute holding the ONNX input/output name.
constexpr llvm::StringLiteral kONNXNameAttr = "onnx.name";
/// Argument and result attribute holding the numpy dtype name ("uint8").
constexpr llvm::StringLiteral kONNXTypeAttr = "onnx.type";
/// Unit argument attribute of a decoder's resident key/value cache: the
/// runtime allocates it per session and the step extends it in place.
constexpr llvm::StringLiteral kStateAttrName = "onebit.state";
/// Function attribute of a decoding step with a resident cache: the form
/// it was exported in ("onebit" or "optimum").
constexpr llvm::StringLiteral kDecoderFormAttrName = "onebit.decoder_form";
/// Result attribute of the entry's last result when it holds index checks:
/// an array of #onebit.index_check, one per segment of the result.
constexpr llvm::StringLiteral kIndexChecksAttrName = "onebit.index_checks";
/// On a decoding step's function: the most positions its state holds (0:
/// any number a session asks for).
constexpr llvm::StringLiteral kWindowAttrName = "onebit.window";

} // namespace mlir::onebit

#endif // ONEBIT_DIALECT_ONEBIT_IR_ONEBITDIALECT_H
