//===- ExportEntryPoint.cpp - the model library's entry and signature -----===//

#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"
#include "onebit/Target/Passes.h"
#include "onebit/Utils/DTypes.h"

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
  return getNumpyDTypeName(elementType);
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
    auto window = func->getAttrOfType<IntegerAttr>(kWindowAttrName);
    os << "onebit-signature 2 " << type.getNumInputs() << " "
       << type.getNumResults() << " " << (window ? window.getInt() : -1)
       << "\n";
    auto describe = [&](StringRef role, unsigned index, Type valueType,
                        DictionaryAttr attrs) -> LogicalResult {
      auto tensor = dyn_cast<RankedTensorType>(valueType);
      std::string dtype =
          tensor ? getDType(attrs, tensor.getElementType()) : std::string();
      // State (a decoder's cache) has as many rows as a session asks for.
      bool state = attrs && attrs.get(kStateAttrName);
      if (state)
        role = "state";
      ArrayAttr checks =
          attrs ? attrs.getAs<ArrayAttr>(kIndexChecksAttrName) : nullptr;
      if (checks) {
        role = "check";
        if (index + 1 != type.getNumResults())
          return func.emitError()
                 << "result " << index << " holds index checks, but only "
                    "the last result may";
      }
      bool shaped = tensor && (state ? tensor.getNumDynamicDims() <= 1
                                     : tensor.hasStaticShape());
      if (!shaped || !isRuntimeDType(dtype))
        return func.emitError()
               << role << " " << index << " has type " << valueType
               << "; a model library needs static shapes "
                  "of supported types";
      std::string name =
          checks ? "index_checks" : role.str() + std::to_string(index);
      if (attrs)
        if (auto onnxName = attrs.getAs<StringAttr>(kONNXNameAttr))
          name = onnxName.str();
      os << role << " " << name.size() << ":" << name << " " << dtype << " "
         << tensor.getRank();
      for (int64_t dim : tensor.getShape())
        os << " " << (ShapedType::isDynamic(dim) ? -1 : dim);
      os << "\n";
      // The segments of an index-check result, for the runtime's errors.
      if (checks) {
        int64_t total = 0;
        for (Attribute attr : checks) {
          auto check = dyn_cast<IndexCheckAttr>(attr);
          if (!check)
            return func.emitError() << "result " << index << ": "
                                    << kIndexChecksAttrName
                                    << " holds " << attr
                                    << ", not a #onebit.index_check";
          StringRef what = check.getWhat().getValue();
          os << "index " << check.getDim() << " " << check.getCount() << " "
             << what.size() << ":" << what << "\n";
          total += check.getCount();
        }
        if (tensor.getRank() != 1 || tensor.getDimSize(0) != total ||
            !tensor.getElementType().isInteger(64))
          return func.emitError()
                 << "result " << index << " holds index checks of " << total
                 << " indices, so it must be tensor<" << total
                 << "xi64>, not " << valueType;
      }
      return success();
    };
    for (unsigned i = 0; i < type.getNumInputs(); ++i)
      if (failed(
              describe("input", i, type.getInput(i), func.getArgAttrDict(i))))
        return signalPassFailure();
    for (unsigned i = 0; i < type.getNumResults(); ++i)
      if (failed(describe("output", i, type.getResult(i),
                          func.getResultAttrDict(i))))
        return signalPassFailure();
    // Recorded in the signature; the LLVM translation has no use for it.
    for (unsigned i = 0; i < type.getNumInputs(); ++i)
      func.removeArgAttr(i, kStateAttrName);
    for (unsigned i = 0; i < type.getNumResults(); ++i)
      func.removeResultAttr(i, kIndexChecksAttrName);
    module->setAttr(kSignatureAttrName,
                    StringAttr::get(&getContext(), signature));
    func->setAttr("llvm.emit_c_interface", UnitAttr::get(&getContext()));
  }
};

} // namespace
