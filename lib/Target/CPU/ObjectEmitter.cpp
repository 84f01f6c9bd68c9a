//===- ObjectEmitter.cpp - LLVM-dialect model to an x86-64 object ---------===//

#include "onebit/Target/CPU/CPUTarget.h"
#include "onebit/Target/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// Adds `void onebit_main_graph_packed(void **descriptors)`, which calls
/// the C interface of @main_graph with one descriptor pointer per input and
/// output, so the runtime needs no knowledge of the arity.
LogicalResult addPackedEntryPoint(llvm::Module &module, Location loc) {
  llvm::Function *entry = module.getFunction("_mlir_ciface_main_graph");
  if (!entry)
    return emitError(loc) << "the lowered module has no "
                             "_mlir_ciface_main_graph (was "
                             "onebit-export-entry-point run?)";
  llvm::LLVMContext &context = module.getContext();
  llvm::Type *ptr = llvm::PointerType::getUnqual(context);
  auto *type =
      llvm::FunctionType::get(llvm::Type::getVoidTy(context), {ptr}, false);
  llvm::Function *packed = llvm::Function::Create(
      type, llvm::GlobalValue::ExternalLinkage, "onebit_main_graph_packed",
      module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "entry", packed));
  SmallVector<llvm::Value *> arguments;
  for (unsigned i = 0; i < entry->arg_size(); ++i) {
    llvm::Value *slot = b.CreateConstGEP1_64(ptr, packed->getArg(0), i);
    arguments.push_back(b.CreateLoad(ptr, slot));
  }
  b.CreateCall(entry, arguments);
  b.CreateRetVoid();
  return success();
}

/// Stores the entry point's signature as `onebit_model_signature`.
LogicalResult addSignature(llvm::Module &module, ModuleOp op) {
  auto signature = op->getAttrOfType<StringAttr>(kSignatureAttrName);
  if (!signature)
    return op.emitError() << "the module has no " << kSignatureAttrName
                          << " (was onebit-export-entry-point run?)";
  llvm::Constant *text = llvm::ConstantDataArray::getString(
      module.getContext(), signature.getValue(), /*AddNull=*/true);
  new llvm::GlobalVariable(module, text->getType(), /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, text,
                           "onebit_model_signature");
  return success();
}

/// Re-types every large constant global (the weights) as a flat i8 array
/// of the same bytes, before translation. The code generator writes a flat
/// i8 array with one copy of its bytes, but a float or half array one
/// element at a time through APFloat, and a multi-dimensional one as one
/// LLVM constant per innermost row (16-byte rows for signs interleaved by
/// 16: tens of millions of constants for a 7B model), either of which took
/// most of a large model's build. A resource keeps its blob (no copy); the
/// alignment stays at least 64.
void storeConstantsAsBytes(ModuleOp module) {
  constexpr int64_t kMinBytes = 4096;
  MLIRContext *context = module.getContext();
  auto byte = IntegerType::get(context, 8);
  module.walk([&](LLVM::GlobalOp global) {
    auto elements = dyn_cast_or_null<ElementsAttr>(global.getValueOrNull());
    if (!global.getConstant() || !elements ||
        (elements.getElementType() == byte &&
         elements.getShapedType().getRank() == 1))
      return;
    Attribute bytes;
    int64_t size = 0;
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(elements)) {
      AsmResourceBlob *blob = resource.getRawHandle().getBlob();
      if (!blob)
        return;
      size = blob->getData().size();
      bytes = DenseResourceElementsAttr::get(
          RankedTensorType::get({size}, byte), resource.getRawHandle());
    } else if (auto dense = dyn_cast<DenseElementsAttr>(elements)) {
      if (dense.isSplat())
        return;
      ArrayRef<char> raw = dense.getRawData();
      size = raw.size();
      bytes = DenseElementsAttr::getFromRawBuffer(
          RankedTensorType::get({size}, byte), raw);
    } else {
      return;
    }
    if (size < kMinBytes)
      return;
    global.setGlobalTypeAttr(
        TypeAttr::get(LLVM::LLVMArrayType::get(byte, size)));
    global.setValueAttr(bytes);
    global.setAlignment(std::max<uint64_t>(global.getAlignment().value_or(0), 64));
  });
}

llvm::TargetMachine *createTargetMachine(const CPUTargetOptions &options,
                                         Location loc) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) {
    emitError(loc) << "no LLVM target for " << triple.str() << ": " << error;
    return nullptr;
  }
  std::string cpu = options.cpu;
  std::string features;
  if (cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features += (feature.second ? "+" : "-") + feature.first().str() + ",";
  }
  llvm::TargetOptions targetOptions;
  // Global constructors (the CUDA kernels' module registration) in
  // .init_array, which the dynamic loader runs; it ignores .ctors.
  targetOptions.UseInitArray = true;
  llvm::TargetMachine *machine = target->createTargetMachine(
      triple, cpu, features, targetOptions, llvm::Reloc::PIC_, std::nullopt,
      llvm::CodeGenOptLevel::Aggressive);
  if (!machine)
    emitError(loc) << "cannot create an LLVM target machine for CPU '" << cpu
                   << "'";
  return machine;
}

/// The optimised LLVM module of `op`, prepared for `machine`.
std::unique_ptr<llvm::Module> translate(ModuleOp op, llvm::LLVMContext &context,
                                        llvm::TargetMachine &machine) {
  storeConstantsAsBytes(op);
  std::unique_ptr<llvm::Module> module =
      translateModuleToLLVMIR(op, context, "onebit_model");
  if (!module) {
    op.emitError() << "cannot translate the module to LLVM IR";
    return nullptr;
  }
  if (failed(addPackedEntryPoint(*module, op.getLoc())) ||
      failed(addSignature(*module, op)))
    return nullptr;
  module->setTargetTriple(machine.getTargetTriple());
  module->setDataLayout(machine.createDataLayout());
  // LLVM's tuning for Intel's AVX-512 CPUs vectorizes with 256 bits; the
  // model's loops stream weights, and 512 bits made the fp16 lm_head of a
  // 7B-shaped model 1.2x faster (docs/benchmarks.md).
  if (machine.getMCSubtargetInfo()->checkFeatures("+avx512f"))
    for (llvm::Function &function : *module)
      if (!function.isDeclaration())
        function.addFnAttr("prefer-vector-width", "512");

  llvm::LoopAnalysisManager loops;
  llvm::FunctionAnalysisManager functions;
  llvm::CGSCCAnalysisManager cgscc;
  llvm::ModuleAnalysisManager modules;
  llvm::PassBuilder builder(&machine);
  builder.registerModuleAnalyses(modules);
  builder.registerCGSCCAnalyses(cgscc);
  builder.registerFunctionAnalyses(functions);
  builder.registerLoopAnalyses(loops);
  builder.crossRegisterProxies(loops, functions, cgscc, modules);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3)
      .run(*module, modules);
  return module;
}

} // namespace

FailureOr<bool> mlir::onebit::hasAVX512(const CPUTargetOptions &options,
                                        Location loc) {
  std::unique_ptr<llvm::TargetMachine> machine(
      createTargetMachine(options, loc));
  if (!machine)
    return failure();
  return machine->getMCSubtargetInfo()->checkFeatures("+avx512f");
}

FailureOr<std::string>
mlir::onebit::emitCPULLVMIR(ModuleOp op, const CPUTargetOptions &options) {
  std::unique_ptr<llvm::TargetMachine> machine(
      createTargetMachine(options, op.getLoc()));
  if (!machine)
    return failure();
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = translate(op, context, *machine);
  if (!module)
    return failure();
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os, nullptr);
  return text;
}

FailureOr<std::string>
mlir::onebit::emitCPUObject(ModuleOp op, const CPUTargetOptions &options) {
  std::unique_ptr<llvm::TargetMachine> machine(
      createTargetMachine(options, op.getLoc()));
  if (!machine)
    return failure();
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = translate(op, context, *machine);
  if (!module)
    return failure();
  SmallString<0> object;
  llvm::raw_svector_ostream os(object);
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile)) {
    op.emitError() << "the LLVM target cannot emit object files";
    return failure();
  }
  codegen.run(*module);
  return std::string(object.str());
}
