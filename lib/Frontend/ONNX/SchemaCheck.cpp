//===- SchemaCheck.cpp - a node against its ONNX schema -------------------===//

#include "SchemaCheck.h"
#include "Ops/OpHelpers.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::onebit::onnx_import;

/// ONNX's name of an imported value's element type ("float16", "uint8");
/// `isUnsigned` picks between the integers of one width.
static std::string getONNXTypeName(Type type, bool isUnsigned) {
  return StringRef(describeONNXType(getONNXType(type, isUnsigned))).lower();
}

/// Whether the formal parameter takes `type`. TOSA tensors are signless
/// and the importer tracks signedness only as a hint, so either integer
/// of the width is taken.
static bool takesType(const onnx::OpSchema::FormalParameter &formal,
                      Type type) {
  std::string names[2] = {"tensor(" + getONNXTypeName(type, false) + ")",
                          "tensor(" + getONNXTypeName(type, true) + ")"};
  for (onnx::DataType allowed : formal.GetTypes())
    if (*allowed == names[0] || *allowed == names[1])
      return true;
  return false;
}

static LogicalResult checkAttributes(NodeImporter &node,
                                     const onnx::OpSchema &schema,
                                     bool isExact) {
  const auto &declared = schema.attributes();
  llvm::StringSet<> seen;
  for (const onnx::AttributeProto &attribute : node.getNode().attribute()) {
    if (!seen.insert(attribute.name()).second)
      return node.emitError()
             << "has the attribute '" << attribute.name() << "' twice";
    if (isExact && !declared.count(attribute.name()))
      return node.emitError() << "has no attribute '" << attribute.name()
                              << "' in opset " << node.getOpset();
  }
  SmallVector<std::pair<StringRef, onnx::AttributeProto::AttributeType>>
      types;
  for (const auto &[name, attribute] : declared) {
    if (isExact && attribute.required && !seen.contains(name))
      return node.emitError() << "needs the attribute '" << name << "'";
    types.push_back({name, attribute.type});
  }
  return node.checkAttributeTypes(types);
}

static LogicalResult checkInputTypes(NodeImporter &node,
                                     const onnx::OpSchema &schema,
                                     bool isExact) {
  const auto &formals = schema.inputs();
  // The first input bound to each type parameter (T, T1, ...).
  llvm::StringMap<std::pair<unsigned, Type>> bound;
  for (unsigned i = 0; i < node.getNumInputs(); ++i) {
    if (!node.hasInput(i) || formals.empty())
      continue;
    unsigned formalIndex = i;
    if (i >= formals.size()) {
      if (formals.back().GetOption() !=
          onnx::OpSchema::FormalParameterOption::Variadic)
        continue;
      formalIndex = formals.size() - 1;
    }
    const onnx::OpSchema::FormalParameter &formal = formals[formalIndex];
    FailureOr<ImportedValue> input = node.getInput(i);
    if (failed(input))
      return failure();
    Type type = input->getType().getElementType();
    const std::string &name = node.getNode().input(i);
    if (isExact && !takesType(formal, type))
      return node.emitError()
             << "input " << i << " ('" << name << "', " << formal.GetName()
             << ") is tensor(" << getONNXTypeName(type, input->isUnsigned)
             << "), which " << schema.Name() << " does not take";
    bool isHeterogeneousVariadic =
        formal.GetOption() == onnx::OpSchema::FormalParameterOption::Variadic &&
        !formal.GetIsHomogeneous();
    // A parameter named by its type string (not "tensor(float)") is a type
    // variable: every input it types must be the same type.
    bool isTypeVariable = llvm::any_of(
        schema.typeConstraintParams(), [&](const auto &constraint) {
          return constraint.type_param_str == formal.GetTypeStr();
        });
    if (isHeterogeneousVariadic || !isTypeVariable)
      continue;
    auto [first, inserted] =
        bound.try_emplace(formal.GetTypeStr(), std::make_pair(i, type));
    if (!inserted && first->second.second != type)
      return node.emitError()
             << "input " << i << " ('" << name << "') is tensor("
             << getONNXTypeName(type, input->isUnsigned) << ") but input "
             << first->second.first << " ('"
             << node.getNode().input(first->second.first) << "') is tensor("
             << getONNXTypeName(first->second.second, false) << "); "
             << schema.Name() << " types both with " << formal.GetTypeStr();
  }
  return success();
}

LogicalResult mlir::onebit::onnx_import::checkNodeAgainstSchema(
    NodeImporter &node, const onnx::OpSchema &schema) {
  int64_t newestKnown = onnx::OpSchemaRegistry::DomainToVersionRange::Instance()
                            .Map()
                            .at(onnx::ONNX_DOMAIN)
                            .second;
  bool isExact = node.getOpset() <= newestKnown;
  if (failed(checkAttributes(node, schema, isExact)))
    return failure();
  return checkInputTypes(node, schema, isExact);
}
