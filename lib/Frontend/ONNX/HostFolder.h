//===- HostFolder.h - integer shape arithmetic at import time ---*- C++ -*-===//
//
// Exporters compute shapes in the graph (Shape -> Gather -> Concat ->
// Reshape, Range, ...). With static shapes those values are known when the
// model is imported: the importer computes them on the host so that
// Reshape, Slice, Expand and friends see constants.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_FRONTEND_ONNX_HOSTFOLDER_H
#define ONEBIT_LIB_FRONTEND_ONNX_HOSTFOLDER_H

#include "NodeImporter.h"

namespace mlir::onebit::onnx_import {

/// The outputs of `node` computed from its known `inputs` (null for absent
/// optional inputs), or nothing if the node is not small integer arithmetic
/// onebit folds.
std::optional<SmallVector<DenseElementsAttr>>
foldOnHost(NodeImporter &node, ArrayRef<DenseElementsAttr> inputs);

} // namespace mlir::onebit::onnx_import

#endif // ONEBIT_LIB_FRONTEND_ONNX_HOSTFOLDER_H
