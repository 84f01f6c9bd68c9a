//===- Importer.h - ONNX models to MLIR -------------------------*- C++ -*-===//
//
// Imports an ONNX model (binary protobuf, with external data, or ONNX's text
// syntax) into a module holding one func.func in upstream dialects (tosa,
// tensor, arith) plus onebit.linear for onebit.OneBitLinear nodes. Node
// names become locations, so later diagnostics point at the ONNX node.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_FRONTEND_ONNX_IMPORTER_H
#define ONEBIT_FRONTEND_ONNX_IMPORTER_H

#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <string>

namespace mlir::onebit {

struct ImportOptions {
  /// Static shapes for graph inputs, by input name; they replace symbolic
  /// or unknown dimensions (`--input-shape name=1x16`).
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// Initializers with more elements than this become dense_resource blobs
  /// (no copy into the attribute uniquer; external data stays mapped).
  int64_t resourceThreshold = 1024;
  /// Decoding steps (a graph with past key/value inputs, either form of
  /// docs/decoding.md): symbolic dimensions of the decoder's inputs become
  /// batch 1, one new token (or the T that `inputShapes` gives `input_ids`,
  /// [1, T]) and a past of `decoderRows - T` rows, so that such graphs
  /// import without --input-shape. 0: no defaults.
  int64_t decoderRows = 0;
  /// Where external data may lie (`--external-data-dir`); empty: the
  /// model's directory. Locations stay relative to the model's directory;
  /// files whose real path, symlinks resolved, lies outside are refused.
  std::string externalDataDirectory;
  /// Gathers whose indices come from the model's inputs check them at run
  /// time (#onebit.index_check); false (`--index-checks=false`, to measure
  /// their cost) reads out of bounds for an index out of range.
  bool indexChecks = true;
};

/// Imports the model in `path`: `.onnxtext`/`.txt` files are parsed as
/// ONNX's text syntax, anything else as a binary ModelProto. Errors are
/// reported through the context's diagnostic handler, exceptions from
/// libonnx and protobuf among them.
OwningOpRef<ModuleOp> importONNXFile(llvm::StringRef path,
                                     MLIRContext *context,
                                     const ImportOptions &options);

/// Parses a shape specialisation `name=1x16` into `options`.
LogicalResult parseInputShape(llvm::StringRef spec, ImportOptions &options,
                              std::string &error);

/// Registers the dialects the importer produces.
void registerImporterDialects(DialectRegistry &registry);

} // namespace mlir::onebit

#endif // ONEBIT_FRONTEND_ONNX_IMPORTER_H
