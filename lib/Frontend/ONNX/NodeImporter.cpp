//===- NodeImporter.cpp - what an ONNX op converter sees ------------------===//

#include "NodeImporter.h"
#include "GraphImporter.h"
#include "Ops/OpHelpers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::onnx_import;

std::string mlir::onebit::onnx_import::describeONNXType(int32_t onnxType) {
  if (onnx::TensorProto::DataType_IsValid(onnxType))
    return onnx::TensorProto::DataType_Name(
        static_cast<onnx::TensorProto::DataType>(onnxType));
  return "type " + std::to_string(onnxType);
}

FailureOr<int64_t> mlir::onebit::onnx_import::normalizeAxis(NodeImporter &node,
                                                            int64_t axis,
                                                            int64_t rank) {
  if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
    return node.emitError() << "axis " << axis << " is out of range for rank "
                            << rank;
  return axis < 0 ? axis + rank : axis;
}

InFlightDiagnostic NodeImporter::emitError() {
  InFlightDiagnostic diag = mlir::emitError(loc);
  diag << "ONNX node '" << cast<NameLoc>(loc).getName().str() << "' ("
       << node.op_type() << "): ";
  return diag;
}

bool NodeImporter::hasInput(unsigned index) const {
  return index < unsigned(node.input_size()) && !node.input(index).empty();
}

FailureOr<ImportedValue> NodeImporter::getInput(unsigned index) {
  if (!hasInput(index))
    return emitError() << "needs input " << index;
  return *graph.lookup(node.input(index));
}

FailureOr<DenseElementsAttr> NodeImporter::getKnownInput(unsigned index,
                                                         StringRef what) {
  FailureOr<ImportedValue> input = getInput(index);
  if (failed(input))
    return failure();
  if (!input->known)
    return emitError() << what
                       << " must be known when the model is compiled (a "
                          "constant, or computed from shapes)";
  return input->known;
}

FailureOr<SmallVector<int64_t>> NodeImporter::getKnownInts(unsigned index,
                                                           StringRef what) {
  FailureOr<DenseElementsAttr> known = getKnownInput(index, what);
  if (failed(known))
    return failure();
  if (!isa<IntegerType>(known->getElementType()))
    return emitError() << what << " must be an integer tensor";
  SmallVector<int64_t> values;
  for (const APInt &value : known->getValues<APInt>())
    values.push_back(value.getSExtValue());
  return values;
}

onnx::AttributeProto::AttributeType
mlir::onebit::onnx_import::getAttributeType(
    const onnx::AttributeProto &attribute) {
  if (attribute.type() != onnx::AttributeProto::UNDEFINED)
    return attribute.type();
  if (attribute.has_f())
    return onnx::AttributeProto::FLOAT;
  if (attribute.has_i())
    return onnx::AttributeProto::INT;
  if (attribute.has_s())
    return onnx::AttributeProto::STRING;
  if (attribute.has_t())
    return onnx::AttributeProto::TENSOR;
  if (attribute.has_g())
    return onnx::AttributeProto::GRAPH;
  if (attribute.floats_size())
    return onnx::AttributeProto::FLOATS;
  if (attribute.ints_size())
    return onnx::AttributeProto::INTS;
  if (attribute.strings_size())
    return onnx::AttributeProto::STRINGS;
  return onnx::AttributeProto::UNDEFINED;
}

LogicalResult NodeImporter::checkAttributeTypes(
    ArrayRef<std::pair<StringRef, onnx::AttributeProto::AttributeType>>
        expected) {
  for (auto [name, type] : expected)
    if (const onnx::AttributeProto *attribute = getAttribute(name))
      if (getAttributeType(*attribute) != type)
        return emitError()
               << "attribute '" << name << "' is "
               << onnx::AttributeProto::AttributeType_Name(
                      getAttributeType(*attribute))
               << ", but " << node.op_type() << " takes "
               << onnx::AttributeProto::AttributeType_Name(type);
  return success();
}

const onnx::AttributeProto *NodeImporter::getAttribute(StringRef name) const {
  for (const onnx::AttributeProto &attribute : node.attribute())
    if (attribute.name() == name)
      return &attribute;
  return nullptr;
}

int64_t NodeImporter::getInt(StringRef name, int64_t defaultValue) const {
  const onnx::AttributeProto *attribute = getAttribute(name);
  return attribute ? attribute->i() : defaultValue;
}

float NodeImporter::getFloat(StringRef name, float defaultValue) const {
  const onnx::AttributeProto *attribute = getAttribute(name);
  return attribute ? attribute->f() : defaultValue;
}

std::string NodeImporter::getString(StringRef name,
                                    StringRef defaultValue) const {
  const onnx::AttributeProto *attribute = getAttribute(name);
  return attribute ? attribute->s() : defaultValue.str();
}

std::optional<SmallVector<int64_t>>
NodeImporter::getInts(StringRef name) const {
  const onnx::AttributeProto *attribute = getAttribute(name);
  if (!attribute)
    return std::nullopt;
  return SmallVector<int64_t>(attribute->ints().begin(),
                              attribute->ints().end());
}

std::optional<SmallVector<float>>
NodeImporter::getFloats(StringRef name) const {
  const onnx::AttributeProto *attribute = getAttribute(name);
  if (!attribute)
    return std::nullopt;
  return SmallVector<float>(attribute->floats().begin(),
                            attribute->floats().end());
}

void NodeImporter::setOutput(unsigned index, Value value, bool isUnsigned) {
  setOutput(index, ImportedValue{value, isUnsigned, nullptr});
}

void NodeImporter::setOutput(unsigned index, ImportedValue value) {
  if (index < unsigned(node.output_size()) && !node.output(index).empty())
    graph.define(node.output(index), std::move(value));
}

void NodeImporter::setKnownOutput(unsigned index, DenseElementsAttr value,
                                  bool isUnsigned) {
  // arith.constant, not tosa.const: shape arithmetic may fold to empty
  // tensors, which TOSA does not allow (they are never used at run time).
  Value constant = arith::ConstantOp::create(builder, loc, value);
  setOutput(index, ImportedValue{constant, isUnsigned, value});
}

Value NodeImporter::guardIndices(const ImportedValue &indices, int64_t dim) {
  Value wide = widenInteger(tosa, indices.value, indices.isUnsigned, 64);
  Type i64 = builder.getI64Type();
  Type i1 = builder.getI1Type();
  if (wide.getType() != indices.getType().clone(i64))
    wide = tosa.cast(wide, i64);
  if (!graph.checksIndices())
    return wide;
  int64_t rank = indices.getType().getRank();
  Value inRange = tosa.binary<tosa::LogicalAndOp>(
      tosa.binary<tosa::GreaterEqualOp>(wide, tosa.scalar(i64, -dim, rank),
                                        i1),
      tosa.binary<tosa::GreaterOp>(tosa.scalar(i64, dim, rank), wide, i1),
      i1);
  Value zero = tosa.scalar(i64, 0, rank);
  Value safe = buildSelect(tosa, inRange, wide, zero);
  // One check per indices and dimension: rotary tables gathered by the
  // same positions in every layer are reported once.
  if (!graph.hasIndexCheck(indices.value, dim)) {
    const std::string &name = node.input(1);
    std::string what = "ONNX node '" +
                       cast<NameLoc>(loc).getName().str() + "' (" +
                       node.op_type() + "): " +
                       (isa<BlockArgument>(indices.value)
                            ? "input '" + name + "'"
                            : "'" + name + "' (computed from the inputs)");
    Value offenders = tosa.reshape(buildSelect(tosa, inRange, zero, wide),
                                   {indices.getType().getNumElements()});
    graph.addIndexCheck(indices.value, dim, offenders, what);
  }
  return safe;
}

ElementsAttr NodeImporter::readTensor(const onnx::TensorProto &tensor,
                                      std::string &error) {
  return graph.getAttributeTensorReader().read(tensor, error);
}

FailureOr<Type> NodeImporter::convertElementType(int32_t onnxType) {
  Type type = getElementType(getContext(), onnxType);
  if (!type)
    return emitError() << "unsupported element type "
                       << describeONNXType(onnxType);
  return type;
}
