//===- ExportEntryPoint.cpp - the model library's entry and signature -----===//

#include "onebit/Frontend/ONNX/Importer.h"
#include "onebit/Target/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITEXPORTENTRYPOINT
#include "onebit/Target/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// The numpy dtype of an entry-point tensor: `onnx.type` if the importer
/// recorded it (unsigned types), else from the element type.
std::string getDType(DictionaryAttr attrs, Type elementType) {
  if (attrs)
    if (auto name = attrs.getAs<StringAttr>(kONNXTypeAttr))
      return name.str();
  if (elementType.isF32())
    return "float32";
  if (elementType.isF16())
    return "float16";
  if (elementType.isBF16())
    return "bfloat16";
  if (elementType.isInteger(1))
    return "bool";
  if (auto integer = dyn_cast<IntegerType>(elementType))
    return "int" + std::to_string(integer.getWidth());
  return "";
}

struct OneBitExportEntryPointPass
    : onebit::impl::OneBitExportEntryPointBase<OneBitExportEntryPointPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(kMainFunctionName);
    if (!func) {
      module.emitError() << "no @" << kMainFunctionName
                         << " function to export";
      return signalPassFailure();
    }
    FunctionType type = func.getFunctionType();
    std::string signature;
    llvm::raw_string_ostream os(signature);
    os << "onebit-signature 1 " << type.getNumInputs() << " "
       << type.getNumResults() << "\n";
    auto describe = [&](StringRef role, unsigned index, Type valueType,
                        DictionaryAttr attrs) -> LogicalResult {
      auto tensor = dyn_cast<RankedTensorType>(valueType);
      std::string dtype = tensor ? getDType(attrs, tensor.getElementType())
                                 : std::string();
      static constexpr llvm::StringLiteral supported[] = {
          "float32", "float16", "bfloat16", "int64",
          "int32",   "int8",    "uint8",    "bool"};
      if (!tensor || !tensor.hasStaticShape() ||
          !llvm::is_contained(supported, dtype))
        return func.emitError() << role << " " << index << " has type "
                                << valueType
                                << "; a model library needs static shapes "
                                   "of supported types";
      std::string name = role.str() + std::to_string(index);
      if (attrs)
        if (auto onnxName = attrs.getAs<StringAttr>(kONNXNameAttr))
          name = onnxName.str();
      os << role << " " << name.size() << ":" << name << " " << dtype << " "
         << tensor.getRank();
      for (int64_t dim : tensor.getShape())
        os << " " << dim;
      os << "\n";
      return success();
    };
    for (unsigned i = 0; i < type.getNumInputs(); ++i)
      if (failed(describe("input", i, type.getInput(i), func.getArgAttrDict(i))))
        return signalPassFailure();
    for (unsigned i = 0; i < type.getNumResults(); ++i)
      if (failed(describe("output", i, type.getResult(i),
                          func.getResultAttrDict(i))))
        return signalPassFailure();
    module->setAttr(kSignatureAttrName,
                    StringAttr::get(&getContext(), signature));
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(&getContext()));
  }
};

} // namespace
