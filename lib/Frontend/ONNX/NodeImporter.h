//===- NodeImporter.h - what an ONNX op converter sees ----------*- C++ -*-===//
//
// Each ONNX op is converted by one function that reads its node through a
// NodeImporter: typed inputs (with their values when known at import time),
// attributes with defaults, and diagnostics that name the node.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_FRONTEND_ONNX_NODEIMPORTER_H
#define ONEBIT_LIB_FRONTEND_ONNX_NODEIMPORTER_H

#include "onebit/Utils/TosaBuilder.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"

#include "onnx/onnx_pb.h"

#include <functional>
#include <optional>

namespace mlir::onebit::onnx_import {

/// An imported ONNX value: its MLIR value, whether ONNX typed it unsigned
/// (TOSA tensors are signless) and, for small tensors computed from
/// constants, its value on the host.
struct ImportedValue {
  Value value;
  bool isUnsigned = false;
  DenseElementsAttr known;

  RankedTensorType getType() const {
    return llvm::cast<RankedTensorType>(value.getType());
  }
};

class GraphImporter;

class NodeImporter {
public:
  NodeImporter(GraphImporter &graph, const onnx::NodeProto &node,
               Location loc, int64_t opset, OpBuilder &builder)
      : graph(graph), node(node), loc(loc), opset(opset), builder(builder),
        tosa(builder, loc) {}

  const onnx::NodeProto &getNode() const { return node; }
  Location getLoc() const { return loc; }
  int64_t getOpset() const { return opset; }
  OpBuilder &getBuilder() { return builder; }
  TosaBuilder &getTosa() { return tosa; }
  MLIRContext *getContext() { return builder.getContext(); }

  /// An error naming the node: "ONNX node 'n' (MatMul): ...".
  InFlightDiagnostic emitError();

  unsigned getNumInputs() const { return node.input_size(); }
  unsigned getNumOutputs() const { return node.output_size(); }
  /// Whether optional input `index` is present (listed and not empty).
  bool hasInput(unsigned index) const;
  /// Input `index`; an error if it is absent.
  FailureOr<ImportedValue> getInput(unsigned index);
  /// The host value of input `index`, or an error saying it must be known
  /// at import time (e.g. Reshape's shape).
  FailureOr<DenseElementsAttr> getKnownInput(unsigned index,
                                             StringRef what);
  /// The host value of an integer input `index` as int64s.
  FailureOr<SmallVector<int64_t>> getKnownInts(unsigned index,
                                               StringRef what);

  const onnx::AttributeProto *getAttribute(StringRef name) const;
  /// Fails with an error naming the attribute unless each attribute of
  /// `expected` that the node has is of the type given (for ops that have
  /// no ONNX schema; SchemaCheck covers the standard ones).
  LogicalResult checkAttributeTypes(
      ArrayRef<std::pair<StringRef, onnx::AttributeProto::AttributeType>>
          expected);
  int64_t getInt(StringRef name, int64_t defaultValue) const;
  float getFloat(StringRef name, float defaultValue) const;
  std::string getString(StringRef name, StringRef defaultValue) const;
  std::optional<SmallVector<int64_t>> getInts(StringRef name) const;
  std::optional<SmallVector<float>> getFloats(StringRef name) const;

  /// Defines output `index`.
  void setOutput(unsigned index, Value value, bool isUnsigned = false);
  void setOutput(unsigned index, ImportedValue value);
  /// Defines output `index` as a constant computed on the host.
  void setKnownOutput(unsigned index, DenseElementsAttr value,
                      bool isUnsigned = false);

  /// Integer indices known only at run time, into a dimension of `dim`
  /// positions: returns them as i64 with every index outside [-dim, dim)
  /// replaced by 0, so that the gather they feed reads inside its data, and
  /// has the compiled model report those indices (its run fails naming the
  /// node, the indices and the value; GraphImporter::addIndexCheck). With
  /// ImportOptions::indexChecks off, only widens them.
  Value guardIndices(const ImportedValue &indices, int64_t dim);

  /// A tensor attribute's value as a dense attribute (external data read
  /// as the model's initializers are), or null with `error` saying why.
  ElementsAttr readTensor(const onnx::TensorProto &tensor,
                          std::string &error);

  /// Converts an ONNX element type, or reports it as unsupported.
  FailureOr<Type> convertElementType(int32_t onnxType);

private:
  GraphImporter &graph;
  const onnx::NodeProto &node;
  Location loc;
  int64_t opset;
  OpBuilder &builder;
  TosaBuilder tosa;
};

/// A converter: emits the ops of one node, or fails after an error.
using OpConverter = std::function<LogicalResult(NodeImporter &)>;
/// Converters by "domain::op_type" ("" is the default ONNX domain).
using ConverterMap = llvm::StringMap<OpConverter>;

void registerElementwiseConverters(ConverterMap &map);
void registerShapeConverters(ConverterMap &map);
void registerLinearConverters(ConverterMap &map);
void registerOneBitNodeConverters(ConverterMap &map);
void registerNormalizationConverters(ConverterMap &map);
void registerReductionConverters(ConverterMap &map);
void registerIndexingConverters(ConverterMap &map);

/// An attribute's declared type, or (older writers leave it unset) the one
/// its filled fields imply.
onnx::AttributeProto::AttributeType
getAttributeType(const onnx::AttributeProto &attribute);

/// The ONNX element type code for an MLIR element type, for messages.
std::string describeONNXType(int32_t onnxType);

/// Normalises a possibly negative axis for `rank`, or fails.
FailureOr<int64_t> normalizeAxis(NodeImporter &node, int64_t axis,
                                 int64_t rank);

} // namespace mlir::onebit::onnx_import

#endif // ONEBIT_LIB_FRONTEND_ONNX_NODEIMPORTER_H
