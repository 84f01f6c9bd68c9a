//===- GraphImporter.h - an ONNX graph into one func.func -------*- C++ -*-===//

#ifndef ONEBIT_LIB_FRONTEND_ONNX_GRAPHIMPORTER_H
#define ONEBIT_LIB_FRONTEND_ONNX_GRAPHIMPORTER_H

#include "NodeImporter.h"
#include "TensorReader.h"
#include "onebit/Frontend/ONNX/Importer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::onebit::onnx_import {

class GraphImporter {
public:
  GraphImporter(MLIRContext *context, const onnx::ModelProto &model,
                StringRef modelPath, const ImportOptions &options);

  /// Imports the model's graph; null after an error was reported.
  OwningOpRef<ModuleOp> import();

  // Used by NodeImporter.
  const ImportedValue *lookup(StringRef name) const;
  void define(StringRef name, ImportedValue value) {
    values[name] = std::move(value);
  }
  Location getFileLoc() const { return fileLoc; }
  /// Reads tensors of node attributes (Constant's value): always dense,
  /// external data from where initializers may read it.
  TensorReader &getAttributeTensorReader() { return attributeTensors; }
  /// Index checks (NodeImporter::guardIndices): `offenders` holds, for
  /// each index of `indices` into a dimension of `dim`, 0 or the index if
  /// it is out of range; they become the entry's last result, which the
  /// runtime reads after each run (see importOutputs).
  bool checksIndices() const { return options.indexChecks; }
  bool hasIndexCheck(Value indices, int64_t dim) const {
    return indexCheckKeys.contains({indices, dim});
  }
  void addIndexCheck(Value indices, int64_t dim, Value offenders,
                     std::string what) {
    indexCheckKeys.insert({indices, dim});
    indexChecks.push_back({offenders, dim, std::move(what)});
  }

private:
  /// Graph inputs and initializers are each named once, and --input-shape
  /// names graph inputs.
  LogicalResult checkUniqueNames();
  LogicalResult importInputs(func::FuncOp func, OpBuilder &builder);
  /// The new tokens of a decoder's step: 1, or the T of --input-shape
  /// input_ids=1xT.
  int64_t getDecoderTokens() const;
  /// The shape ImportOptions::decoderRows gives the decoder input `name`
  /// (batch 1, the step's new tokens, past rows), or failure where it gives
  /// none.
  FailureOr<SmallVector<int64_t>>
  getDecoderInputShape(StringRef name, const onnx::TypeProto_Tensor &type);
  LogicalResult importInitializers(OpBuilder &builder);
  LogicalResult importNode(const onnx::NodeProto &node, OpBuilder &builder,
                           int64_t depth);
  LogicalResult inlineFunction(const onnx::NodeProto &node,
                               const onnx::FunctionProto &function,
                               OpBuilder &builder, int64_t depth);
  /// Computes an integer node whose inputs are all known on the host.
  bool tryFoldOnHost(NodeImporter &node);
  LogicalResult importOutputs(func::FuncOp func, OpBuilder &builder);
  Location getNodeLoc(const onnx::NodeProto &node, unsigned index);

  MLIRContext *context;
  const onnx::ModelProto &model;
  const ImportOptions &options;
  Location fileLoc;
  TensorReader tensors, attributeTensors;
  ConverterMap converters;
  llvm::StringMap<int64_t> opsets;
  llvm::StringMap<const onnx::FunctionProto *> functions;
  llvm::StringMap<ImportedValue> values;
  unsigned unnamedNodes = 0;
  struct IndexCheck {
    Value offenders;
    int64_t dim;
    std::string what;
  };
  SmallVector<IndexCheck> indexChecks;
  llvm::DenseSet<std::pair<Value, int64_t>> indexCheckKeys;
};

} // namespace mlir::onebit::onnx_import

#endif // ONEBIT_LIB_FRONTEND_ONNX_GRAPHIMPORTER_H
