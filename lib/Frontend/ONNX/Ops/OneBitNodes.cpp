//===- OneBitNodes.cpp - the custom onebit.* nodes to onebit.linear -------===//
//
// Encoding 4 of docs/onnx-convention.md: a node in domain `onebit` (opset 1)
// whose op type says whether the layer has a LayerNorm and a bias. The
// importer maps it straight to onebit.linear (the model-local function
// that defines it for onnxruntime is not read) after checking every rule of
// the convention's section 6.3.
//
//===----------------------------------------------------------------------===//

#include "../NodeImporter.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::onnx_import;

namespace {

LogicalResult convertOneBitNode(NodeImporter &node, bool layerNorm,
                                bool hasBias) {
  if (node.getOpset() != 1)
    return node.emitError() << "the onebit domain has version 1, the model "
                               "imports version "
                            << node.getOpset();
  unsigned expectedInputs = hasBias ? 5 : 4;
  if (node.getNumInputs() != expectedInputs)
    return node.emitError() << "takes " << expectedInputs << " inputs (X, "
                            << "signs, g, h" << (hasBias ? ", bias" : "")
                            << "), got " << node.getNumInputs();
  for (unsigned i = 0; i < expectedInputs; ++i)
    if (!node.hasInput(i))
      return node.emitError() << "input " << i << " is empty";
  if (!node.getAttribute("in_features"))
    return node.emitError() << "needs the attribute in_features (K)";
  if (failed(node.checkAttributeTypes(
          {{"in_features", onnx::AttributeProto::INT},
           {"layer_norm", onnx::AttributeProto::INT},
           {"epsilon", onnx::AttributeProto::FLOAT}})))
    return failure();
  if (node.getAttribute("layer_norm") &&
      node.getInt("layer_norm", 0) != int64_t(layerNorm))
    return node.emitError() << "layer_norm = " << node.getInt("layer_norm", 0)
                            << " contradicts the op type, which "
                            << (layerNorm ? "has" : "has no") << " LayerNorm";
  FailureOr<ImportedValue> x = node.getInput(0);
  FailureOr<ImportedValue> signs = node.getInput(1);
  FailureOr<ImportedValue> g = node.getInput(2);
  FailureOr<ImportedValue> h = node.getInput(3);
  if (failed(x) || failed(signs) || failed(g) || failed(h))
    return failure();
  int64_t inFeatures = node.getInt("in_features", 0);
  RankedTensorType xType = x->getType();
  Type dtype = xType.getElementType();
  if (inFeatures <= 0 || xType.getRank() == 0 ||
      xType.getShape().back() != inFeatures)
    return node.emitError() << "X must have a last dimension of in_features = "
                            << inFeatures << ", got " << xType;
  RankedTensorType signsType = signs->getType();
  if (signsType.getRank() != 2 || !signsType.getElementType().isInteger(8) ||
      !signs->isUnsigned || signsType.getDimSize(1) != (inFeatures + 7) / 8)
    return node.emitError() << "signs must be uint8 [N, "
                            << (inFeatures + 7) / 8 << "], got "
                            << (signs->isUnsigned ? "uint8 " : "")
                            << signsType;
  int64_t outFeatures = signsType.getDimSize(0);
  auto checkVector = [&](const ImportedValue &v, StringRef name,
                         int64_t size) -> LogicalResult {
    RankedTensorType t = v.getType();
    if (t.getRank() != 1 || t.getDimSize(0) != size ||
        t.getElementType() != dtype)
      return node.emitError() << name << " must be " << dtype << " [" << size
                              << "] like X, got " << t;
    return success();
  };
  if (failed(checkVector(*g, "g", inFeatures)) ||
      failed(checkVector(*h, "h", outFeatures)))
    return failure();
  Value bias;
  if (hasBias) {
    FailureOr<ImportedValue> b = node.getInput(4);
    if (failed(b) || failed(checkVector(*b, "bias", outFeatures)))
      return failure();
    bias = b->value;
  }
  FloatAttr epsilon;
  if (layerNorm)
    epsilon =
        node.getBuilder().getF32FloatAttr(node.getFloat("epsilon", 1e-5f));
  SmallVector<int64_t> shape(xType.getShape());
  shape.back() = outFeatures;
  Value y = LinearOp::create(
      node.getBuilder(), node.getLoc(), RankedTensorType::get(shape, dtype),
      x->value, signs->value, g->value, h->value, bias,
      SignPackingAttr::getOneBitDefault(node.getContext()), epsilon);
  node.setOutput(0, y);
  return success();
}

} // namespace

void mlir::onebit::onnx_import::registerOneBitNodeConverters(
    ConverterMap &map) {
  map["onebit::OneBitLinear"] = [](NodeImporter &node) {
    return convertOneBitNode(node, /*layerNorm=*/true, /*hasBias=*/false);
  };
  map["onebit::OneBitLinearBias"] = [](NodeImporter &node) {
    return convertOneBitNode(node, true, true);
  };
  map["onebit::OneBitLinearNoNorm"] = [](NodeImporter &node) {
    return convertOneBitNode(node, false, false);
  };
  map["onebit::OneBitLinearNoNormBias"] = [](NodeImporter &node) {
    return convertOneBitNode(node, false, true);
  };
}
