//===- SchemaCheck.h - a node against its ONNX schema -----------*- C++ -*-===//
//
// Converters read attributes by name and inputs by position; a node whose
// attribute has the wrong type (an axis given as FLOAT reads as 0) or whose
// inputs disagree on a type the schema ties together (an int32 LayerNorm
// bias beside a float input) would be imported as something else. The
// schema libonnx registers says what the node must be.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_FRONTEND_ONNX_SCHEMACHECK_H
#define ONEBIT_LIB_FRONTEND_ONNX_SCHEMACHECK_H

#include "NodeImporter.h"

#include "onnx/defs/schema.h"

namespace mlir::onebit::onnx_import {

/// Checks `node`'s attributes (types; unknown and missing required ones)
/// and input element types against `schema`. Where the model's opset is
/// newer than the schemas libonnx knows, only what no later opset changes
/// is checked: the types of known attributes and that inputs sharing a
/// type parameter agree.
LogicalResult checkNodeAgainstSchema(NodeImporter &node,
                                     const onnx::OpSchema &schema);

} // namespace mlir::onebit::onnx_import

#endif // ONEBIT_LIB_FRONTEND_ONNX_SCHEMACHECK_H
