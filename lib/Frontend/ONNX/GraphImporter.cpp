//===- GraphImporter.cpp - an ONNX graph into one func.func ---------------===//

#include "GraphImporter.h"
#include "HostFolder.h"
#include "Ops/OpHelpers.h"
#include "SchemaCheck.h"
#include "onebit/Utils/DTypes.h"
#include "onebit/Utils/DecoderForms.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "llvm/ADT/StringSet.h"

#include "onnx/defs/schema.h"

#include <climits>
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::onnx_import;

/// Nested model-local functions deeper than this are taken as recursion.
static constexpr int64_t kMaxFunctionDepth = 32;

GraphImporter::GraphImporter(MLIRContext *context,
                             const onnx::ModelProto &model, StringRef modelPath,
                             const ImportOptions &options)
    : context(context), model(model), options(options),
      fileLoc(FileLineColLoc::get(context, modelPath, 0, 0)),
      tensors(context, llvm::sys::path::parent_path(modelPath).str(),
              options.externalDataDirectory.empty()
                  ? llvm::sys::path::parent_path(modelPath).str()
                  : options.externalDataDirectory,
              options.resourceThreshold),
      attributeTensors(tensors.withoutResources()) {
  registerElementwiseConverters(converters);
  registerShapeConverters(converters);
  registerLinearConverters(converters);
  registerOneBitNodeConverters(converters);
  registerNormalizationConverters(converters);
  registerReductionConverters(converters);
  registerIndexingConverters(converters);
  for (const onnx::OperatorSetIdProto &opset : model.opset_import()) {
    std::string domain = opset.domain() == "ai.onnx" ? "" : opset.domain();
    opsets[domain] = opset.version();
  }
  for (const onnx::FunctionProto &function : model.functions())
    functions[function.domain() + "::" + function.name()] = &function;
}

const ImportedValue *GraphImporter::lookup(StringRef name) const {
  auto it = values.find(name);
  return it == values.end() ? nullptr : &it->second;
}

Location GraphImporter::getNodeLoc(const onnx::NodeProto &node,
                                   unsigned index) {
  // Unnamed nodes (common in exports) are named after their first output.
  std::string name = node.name();
  if (name.empty() && node.output_size() && !node.output(0).empty())
    name = node.output(0);
  if (name.empty())
    name = node.op_type() + "_" + std::to_string(index);
  return NameLoc::get(StringAttr::get(context, name), fileLoc);
}

OwningOpRef<ModuleOp> GraphImporter::import() {
  auto defaultOpset = opsets.find("");
  if (defaultOpset == opsets.end()) {
    emitError(fileLoc) << "the model imports no default ONNX opset";
    return nullptr;
  }
  if (defaultOpset->second < 13 || defaultOpset->second > 21) {
    emitError(fileLoc) << "ONNX opset " << defaultOpset->second
                       << " is not supported (onebit supports opsets 13 to "
                          "21)";
    return nullptr;
  }

  // Opset imports (and so every opset onebit supports) need IR version 3.
  if (model.ir_version() < 3) {
    emitError(fileLoc) << "the model's ir_version " << model.ir_version()
                       << " is not a valid ONNX IR version for opset "
                       << defaultOpset->second;
    return nullptr;
  }
  if (failed(checkUniqueNames()))
    return nullptr;

  OpBuilder builder(context);
  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, fileLoc, kMainFunctionName,
                                   builder.getFunctionType({}, {}));
  Block *body = func.addEntryBlock();
  builder.setInsertionPointToStart(body);

  if (failed(importInputs(func, builder)) ||
      failed(importInitializers(builder)))
    return nullptr;
  for (auto [index, node] : llvm::enumerate(model.graph().node()))
    if (failed(importNode(node, builder, 0)))
      return nullptr;
  if (failed(importOutputs(func, builder)))
    return nullptr;
  return module;
}

LogicalResult GraphImporter::checkUniqueNames() {
  // Later definitions would silently replace earlier ones.
  llvm::StringSet<> inputs, initializers;
  for (const onnx::ValueInfoProto &input : model.graph().input())
    if (!inputs.insert(input.name()).second)
      return emitError(NameLoc::get(StringAttr::get(context, input.name()),
                                    fileLoc))
             << "graph input '" << input.name() << "' is listed twice";
  for (const onnx::TensorProto &tensor : model.graph().initializer())
    if (!initializers.insert(tensor.name()).second)
      return emitError(NameLoc::get(StringAttr::get(context, tensor.name()),
                                    fileLoc))
             << "initializer '" << tensor.name() << "' is defined twice";
  for (const auto &[name, shape] : options.inputShapes)
    if (!inputs.contains(name) || initializers.contains(name)) {
      std::string names;
      for (const onnx::ValueInfoProto &input : model.graph().input())
        if (!initializers.contains(input.name()))
          names += (names.empty() ? "'" : ", '") + input.name() + "'";
      return emitError(fileLoc)
             << "--input-shape names '" << name
             << "', which is not a graph input (the inputs: "
             << (names.empty() ? "none" : names) << ")";
    }
  return success();
}

int64_t GraphImporter::getDecoderTokens() const {
  // One, or what --input-shape gives the ids ([batch, T]).
  for (const auto &[input, shape] : options.inputShapes)
    if (classifyDecoderInput(input).kind == DecoderTensor::InputIds &&
        shape.size() == 2)
      return shape[1];
  return 1;
}

FailureOr<SmallVector<int64_t>>
GraphImporter::getDecoderInputShape(StringRef name,
                                    const onnx::TypeProto_Tensor &type) {
  if (options.decoderRows < 2 || !type.has_shape())
    return failure();
  bool isDecoder = llvm::any_of(model.graph().input(), [](const auto &input) {
    return classifyDecoderInput(input.name()).kind == DecoderTensor::PastKey;
  });
  DecoderTensor kind = classifyDecoderInput(name).kind;
  if (!isDecoder || kind == DecoderTensor::Other)
    return failure();
  // importInputs refused a step of the window's tokens or more.
  int64_t tokens = getDecoderTokens();
  // Which dimension holds what: [batch, tokens] for ids, positions and the
  // mask (whose tokens are past + new), [batch, heads, past, head size]
  // for the cache.
  int64_t rank = type.shape().dim_size();
  SmallVector<int64_t> shape;
  for (auto [i, dim] : llvm::enumerate(type.shape().dim())) {
    if (dim.has_dim_value()) {
      shape.push_back(dim.dim_value());
      continue;
    }
    int64_t size = 0;
    if (i == 0)
      size = 1;
    else if ((kind == DecoderTensor::InputIds ||
              kind == DecoderTensor::PositionIds) &&
             rank == 2)
      size = tokens;
    else if (kind == DecoderTensor::AttentionMask && rank == 2)
      size = options.decoderRows;
    else if ((kind == DecoderTensor::PastKey ||
              kind == DecoderTensor::PastValue) &&
             rank == 4 && i == 2)
      size = options.decoderRows - tokens;
    if (size == 0)
      return failure();
    shape.push_back(size);
  }
  return shape;
}

LogicalResult GraphImporter::importInputs(func::FuncOp func,
                                          OpBuilder &builder) {
  llvm::StringSet<> initializerNames;
  for (const onnx::TensorProto &tensor : model.graph().initializer())
    initializerNames.insert(tensor.name());
  SmallVector<Type> types;
  SmallVector<Attribute> names, dtypes;
  bool isDecoder = llvm::any_of(model.graph().input(), [](const auto &input) {
    return classifyDecoderInput(input.name()).kind == DecoderTensor::PastKey;
  });
  if (isDecoder && options.decoderRows >= 2 &&
      getDecoderTokens() >= options.decoderRows)
    return emitError(fileLoc)
           << "--input-shape gives 'input_ids' " << getDecoderTokens()
           << " new tokens per step; a step of this decoder takes fewer than "
              "its window of "
           << options.decoderRows << " positions (--max-seq-len)";
  for (const onnx::ValueInfoProto &input : model.graph().input()) {
    if (initializerNames.contains(input.name()))
      continue;
    Location loc = NameLoc::get(StringAttr::get(context, input.name()),
                                fileLoc);
    if (!input.type().has_tensor_type())
      return emitError(loc) << "graph input '" << input.name()
                            << "' is not a tensor";
    const auto &tensorType = input.type().tensor_type();
    Type elementType = getElementType(context, tensorType.elem_type());
    if (!elementType)
      return emitError(loc) << "graph input '" << input.name()
                            << "' has unsupported element type "
                            << describeONNXType(tensorType.elem_type());
    SmallVector<int64_t> shape;
    auto specialised = options.inputShapes.find(input.name());
    if (specialised != options.inputShapes.end()) {
      shape = specialised->second;
      if (tensorType.has_shape() &&
          tensorType.shape().dim_size() != int64_t(shape.size()))
        return emitError(loc)
               << "--input-shape gives graph input '" << input.name() << "' "
               << shape.size() << " dimensions, the model declares "
               << tensorType.shape().dim_size();
      for (auto [i, dim] : llvm::enumerate(tensorType.shape().dim()))
        if (dim.has_dim_value() && dim.dim_value() != shape[i])
          return emitError(loc)
                 << "--input-shape gives dimension " << i << " of graph input '"
                 << input.name() << "' the size " << shape[i]
                 << ", the model declares " << dim.dim_value();
    } else if (FailureOr<SmallVector<int64_t>> decoderShape =
                   getDecoderInputShape(input.name(), tensorType);
               succeeded(decoderShape)) {
      shape = *decoderShape;
    } else {
      if (!tensorType.has_shape())
        return emitError(loc) << "graph input '" << input.name()
                              << "' has no shape; give one with "
                                 "--input-shape "
                              << input.name() << "=DIMxDIM...";
      for (const auto &dim : tensorType.shape().dim()) {
        if (dim.has_dim_value() && dim.dim_value() < 0)
          return emitError(loc) << "graph input '" << input.name()
                                << "' has the negative dimension "
                                << dim.dim_value();
        if (!dim.has_dim_value())
          return emitError(loc)
                 << "graph input '" << input.name()
                 << "' has the symbolic dimension '" << dim.dim_param()
                 << "'; give a static shape with --input-shape "
                 << input.name() << "=DIMxDIM...";
        shape.push_back(dim.dim_value());
      }
    }
    if (llvm::is_contained(shape, 0))
      return emitError(loc) << "graph input '" << input.name()
                            << "' has a zero-sized dimension; zero-sized "
                               "tensors are not supported";
    auto type = RankedTensorType::get(shape, elementType);
    BlockArgument argument = func.getBody().addArgument(type, loc);
    // addEntryBlock made the block with no arguments; keep them in order.
    values[input.name()] = {argument, isUnsignedType(tensorType.elem_type()),
                            nullptr};
    types.push_back(type);
    names.push_back(StringAttr::get(context, input.name()));
    dtypes.push_back(StringAttr::get(
        context, getNumpyDTypeName(elementType,
                                   isUnsignedType(tensorType.elem_type()))));
  }
  func.setFunctionType(builder.getFunctionType(types, {}));
  for (auto [index, name] : llvm::enumerate(names)) {
    func.setArgAttr(index, kONNXNameAttr, name);
    func.setArgAttr(index, kONNXTypeAttr, dtypes[index]);
  }
  return success();
}

LogicalResult GraphImporter::importInitializers(OpBuilder &builder) {
  for (const onnx::TensorProto &tensor : model.graph().initializer()) {
    std::string error;
    ElementsAttr attr = tensors.read(tensor, error);
    Location loc = NameLoc::get(StringAttr::get(context, tensor.name()),
                                fileLoc);
    if (!attr)
      return emitError(loc) << "initializer '" << tensor.name()
                            << "': " << error;
    Value value = tosa::ConstOp::create(builder, loc, attr.getType(), attr);
    values[tensor.name()] = {value, isUnsignedType(tensor.data_type()),
                             dyn_cast<DenseElementsAttr>(attr)};
  }
  return success();
}

LogicalResult GraphImporter::importNode(const onnx::NodeProto &node,
                                        OpBuilder &builder, int64_t depth) {
  Location loc = getNodeLoc(node, unnamedNodes++);
  std::string domain = node.domain() == "ai.onnx" ? "" : node.domain();
  auto opset = opsets.find(domain);
  NodeImporter importer(*this, node, loc,
                        opset == opsets.end() ? 0 : opset->second, builder);
  std::string key = domain + "::" + node.op_type();
  for (const std::string &input : node.input())
    if (!input.empty() && !lookup(input))
      return importer.emitError()
             << "input '" << input
             << "' is not produced by any earlier node, graph input or "
                "initializer";

  for (const std::string &output : node.output()) {
    if (output.empty())
      continue;
    bool repeated = llvm::count(node.output(), output) > 1;
    if (repeated || lookup(output))
      return importer.emitError()
             << "output '" << output << "' is "
             << (repeated ? "listed twice"
                          : "already defined by an earlier node, graph "
                            "input or initializer");
  }

  // A standard op must exist in the model's opset and match its schema.
  if (domain.empty()) {
    const onnx::OpSchema *schema =
        onnx::OpSchemaRegistry::Schema(node.op_type(), importer.getOpset(), "");
    const onnx::OpSchema *latest =
        onnx::OpSchemaRegistry::Schema(node.op_type(), INT_MAX, "");
    if (!schema && latest)
      return importer.emitError()
             << "operator '" << node.op_type() << "' does not exist in opset "
             << importer.getOpset() << " (it starts at opset "
             << latest->SinceVersion() << ")";
    if (schema && failed(checkNodeAgainstSchema(importer, *schema)))
      return failure();
  }
  auto converter = converters.find(key);
  if (converter != converters.end()) {
    if (tryFoldOnHost(importer))
      return success();
    if (failed(converter->second(importer)))
      return failure();
    // TOSA has no empty tensors; say so at the node rather than fail later.
    for (const std::string &output : node.output())
      if (const ImportedValue *value = lookup(output))
        if (!value->known && value->getType().getNumElements() == 0)
          return importer.emitError()
                 << "output '" << output << "' is empty (" << value->getType()
                 << "); zero-sized tensors are not supported";
    return success();
  }
  // onebit's own domain has exactly the ops of docs/onnx-convention.md §6.
  if (domain == "onebit")
    return importer.emitError()
           << "'" << node.op_type()
           << "' is not an op of the onebit domain (OneBitLinear, "
              "OneBitLinearBias, OneBitLinearNoNorm, OneBitLinearNoNormBias)";
  auto function = functions.find(key);
  if (function != functions.end())
    return inlineFunction(node, *function->second, builder, depth);
  if (!domain.empty() && opset == opsets.end())
    return importer.emitError()
           << "uses the domain '" << domain
           << "', which the model neither imports nor defines a function for";
  return importer.emitError()
         << "unsupported operator '" << node.op_type() << "'"
         << (domain.empty() ? "" : " in domain '" + domain + "'")
         << " (opset " << importer.getOpset() << ")";
}

bool GraphImporter::tryFoldOnHost(NodeImporter &node) {
  SmallVector<DenseElementsAttr> inputs;
  for (unsigned i = 0; i < node.getNumInputs(); ++i) {
    if (!node.hasInput(i)) {
      inputs.push_back(nullptr);
      continue;
    }
    const ImportedValue *value = lookup(node.getNode().input(i));
    if (!value->known)
      return false;
    inputs.push_back(value->known);
  }
  std::optional<SmallVector<DenseElementsAttr>> outputs =
      foldOnHost(node, inputs);
  if (!outputs)
    return false;
  // Folded values keep ONNX's signedness: Cast says it, booleans have
  // none, anything else (Unsqueeze, Concat, ...) is typed like its data.
  const onnx::NodeProto &proto = node.getNode();
  bool isUnsigned =
      proto.op_type() == "Cast"
          ? isUnsignedType(node.getInt("to", 0))
          : lookup(proto.input(0)) && lookup(proto.input(0))->isUnsigned;
  for (auto [index, output] : llvm::enumerate(*outputs))
    node.setKnownOutput(index, output,
                        isUnsigned && !output.getElementType().isInteger(1));
  return true;
}

LogicalResult GraphImporter::inlineFunction(const onnx::NodeProto &node,
                                            const onnx::FunctionProto &function,
                                            OpBuilder &builder,
                                            int64_t depth) {
  Location loc = getNodeLoc(node, unnamedNodes);
  if (depth > kMaxFunctionDepth)
    return emitError(loc) << "ONNX node '" << node.name() << "' ("
                          << node.op_type()
                          << "): model-local functions nest too deeply "
                             "(recursive?)";
  // Names inside the function get the calling node's output as prefix, so
  // two calls of one function do not collide.
  std::string prefix =
      (node.output_size() ? node.output(0) : node.name()) + "/" +
      function.name() + "/";
  llvm::StringMap<std::string> rename;
  for (auto [i, formal] : llvm::enumerate(function.input()))
    rename[formal] = i < size_t(node.input_size()) ? node.input(i) : "";
  for (auto [i, formal] : llvm::enumerate(function.output()))
    if (i < size_t(node.output_size()))
      rename[formal] = node.output(i);
  llvm::StringMap<const onnx::AttributeProto *> actuals;
  for (const onnx::AttributeProto &attribute : node.attribute())
    actuals[attribute.name()] = &attribute;

  auto renamed = [&](const std::string &name) -> std::string {
    if (name.empty())
      return name;
    auto it = rename.find(name);
    return it != rename.end() ? it->second : prefix + name;
  };
  for (const onnx::NodeProto &inner : function.node()) {
    onnx::NodeProto copy = inner;
    copy.set_name(prefix + (inner.name().empty() ? inner.op_type()
                                                 : inner.name()));
    for (int i = 0; i < copy.input_size(); ++i)
      copy.set_input(i, renamed(inner.input(i)));
    for (int i = 0; i < copy.output_size(); ++i)
      copy.set_output(i, renamed(inner.output(i)));
    // Attribute references take the caller's value, or vanish (defaults).
    copy.clear_attribute();
    for (const onnx::AttributeProto &attribute : inner.attribute()) {
      if (attribute.ref_attr_name().empty()) {
        *copy.add_attribute() = attribute;
        continue;
      }
      auto actual = actuals.find(attribute.ref_attr_name());
      if (actual == actuals.end())
        continue;
      onnx::AttributeProto *resolved = copy.add_attribute();
      *resolved = *actual->second;
      resolved->set_name(attribute.name());
    }
    if (failed(importNode(copy, builder, depth + 1)))
      return failure();
  }
  return success();
}

LogicalResult GraphImporter::importOutputs(func::FuncOp func,
                                           OpBuilder &builder) {
  SmallVector<Value> results;
  SmallVector<Type> types;
  SmallVector<Attribute> dtypes;
  for (const onnx::ValueInfoProto &output : model.graph().output()) {
    Location loc = NameLoc::get(StringAttr::get(context, output.name()),
                                fileLoc);
    const ImportedValue *value = lookup(output.name());
    if (!value)
      return emitError(loc) << "graph output '" << output.name()
                            << "' is not produced by any node";
    RankedTensorType type = value->getType();
    if (output.type().has_tensor_type()) {
      int32_t declared = output.type().tensor_type().elem_type();
      Type declaredType = getElementType(context, declared);
      if (declaredType != type.getElementType())
        return emitError(loc)
               << "graph output '" << output.name() << "' is declared "
               << describeONNXType(declared) << ", but its value is "
               << describeONNXType(
                      getONNXType(type.getElementType(), value->isUnsigned));
    }
    if (output.type().has_tensor_type() &&
        output.type().tensor_type().has_shape()) {
      const auto &shape = output.type().tensor_type().shape();
      bool contradicts = shape.dim_size() != type.getRank();
      for (int i = 0; !contradicts && i < shape.dim_size(); ++i)
        contradicts = shape.dim(i).has_dim_value() &&
                      shape.dim(i).dim_value() != type.getDimSize(i);
      if (contradicts)
        return emitError(loc)
               << "graph output '" << output.name()
               << "' is declared with a shape that contradicts the "
                  "computed "
               << type;
    }
    results.push_back(value->value);
    types.push_back(type);
    dtypes.push_back(StringAttr::get(
        context, getNumpyDTypeName(type.getElementType(), value->isUnsigned)));
  }
  // Index checks: one last result, the offenders of every check in order.
  SmallVector<Attribute> checks;
  if (!indexChecks.empty()) {
    SmallVector<Value> offenders;
    for (const IndexCheck &check : indexChecks) {
      offenders.push_back(check.offenders);
      checks.push_back(IndexCheckAttr::get(
          context, check.dim,
          cast<RankedTensorType>(check.offenders.getType()).getDimSize(0),
          StringAttr::get(context, check.what)));
    }
    TosaBuilder tosa(builder, fileLoc);
    Value all = offenders.size() == 1 ? offenders.front()
                                      : tosa.concat(offenders, 0);
    results.push_back(all);
    types.push_back(all.getType());
  }
  func::ReturnOp::create(builder, fileLoc, results);
  func.setFunctionType(
      builder.getFunctionType(func.getArgumentTypes(), types));
  for (auto [index, output] : llvm::enumerate(model.graph().output())) {
    func.setResultAttr(index, kONNXNameAttr,
                       StringAttr::get(context, output.name()));
    func.setResultAttr(index, kONNXTypeAttr, dtypes[index]);
  }
  if (!checks.empty())
    func.setResultAttr(types.size() - 1, kIndexChecksAttrName,
                       ArrayAttr::get(context, checks));
  return success();
}
