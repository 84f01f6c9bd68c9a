//===- ObjectEmitter.cpp - LLVM-dialect model to an x86-64 object ---------===//

#include "onebit/Target/CPU/CPUTarget.h"
#include "onebit/Target/Passes.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
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

/// Appends the bytes `constant` occupies in memory to `bytes`; false for a
/// constant that is not plain array data.
bool appendBytes(const llvm::Constant *constant, const llvm::DataLayout &layout,
                 std::string &bytes) {
  if (auto *data = llvm::dyn_cast<llvm::ConstantDataSequential>(constant)) {
    if (layout.getTypeAllocSize(data->getElementType()) !=
        data->getElementByteSize())
      return false;
    bytes += data->getRawDataValues();
    return true;
  }
  if (llvm::isa<llvm::ConstantAggregateZero>(constant)) {
    bytes.append(layout.getTypeAllocSize(constant->getType()), '\0');
    return true;
  }
  auto *array = llvm::dyn_cast<llvm::ConstantArray>(constant);
  if (!array)
    return false;
  for (const llvm::Use &element : array->operands())
    if (!appendBytes(llvm::cast<llvm::Constant>(element.get()), layout, bytes))
      return false;
  return true;
}

/// Re-types every large constant array (the weights) as an i8 array of the
/// same bytes and alignment. The code generator writes an i8 array with one
/// copy of its bytes, but a float or half array one element at a time
/// through APFloat, which took most of a large model's build.
void storeConstantsAsBytes(llvm::Module &module) {
  constexpr uint64_t kMinBytes = 4096;
  const llvm::DataLayout &layout = module.getDataLayout();
  llvm::Type *byte = llvm::Type::getInt8Ty(module.getContext());
  SmallVector<llvm::GlobalVariable *> globals;
  for (llvm::GlobalVariable &global : module.globals())
    if (global.isConstant() && global.hasInitializer() &&
        global.getValueType()->isArrayTy() &&
        global.getValueType()->getArrayElementType() != byte &&
        layout.getTypeAllocSize(global.getValueType()) >= kMinBytes)
      globals.push_back(&global);
  for (llvm::GlobalVariable *global : globals) {
    std::string bytes;
    if (!appendBytes(global->getInitializer(), layout, bytes))
      continue;
    auto *initializer = llvm::ConstantDataArray::getRaw(
        bytes, bytes.size(), byte);
    auto *replacement = new llvm::GlobalVariable(
        module, initializer->getType(), /*isConstant=*/true,
        global->getLinkage(), initializer, "", global,
        global->getThreadLocalMode(), global->getAddressSpace());
    replacement->setAlignment(layout.getPreferredAlign(global));
    replacement->setUnnamedAddr(global->getUnnamedAddr());
    replacement->setVisibility(global->getVisibility());
    if (global->hasSection())
      replacement->setSection(global->getSection());
    replacement->takeName(global);
    global->replaceAllUsesWith(replacement);
    global->eraseFromParent();
  }
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
  storeConstantsAsBytes(*module);

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
