//===- onebit-compile.cpp - compile ONNX 1-bit models ---------------------===//
//
// onebit-compile model.onnx [-target=cpu] [--emit=KIND] [-o FILE]
//
// Every step up to the LLVM dialect is a registered pass or pipeline:
//   onebit-compile model.onnx --emit=mlir |
//     onebit-opt --pass-pipeline='builtin.module(onebit-fusion-pipeline)' |
//     onebit-opt --pass-pipeline='builtin.module(onebit-cpu-pipeline{lookup-tables=true})'
// equals --emit=lowered (lookup-tables=false where -mcpu lacks AVX-512 or
// with --lookup-tables=off); then LLVM translation, object emission and the
// link with the runtime.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"
#include "onebit/Dialect/OneBit/Transforms/Passes.h"
#include "onebit/Frontend/ONNX/Importer.h"
#include "onebit/InitAll.h"
#include "onebit/Target/CPU/CPUTarget.h"
#include "onebit/Target/CUDA/CUDATarget.h"
#include "onebit/Target/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"

#include <deque>
#include <memory>

using namespace mlir;
namespace cl = llvm::cl;

namespace {

enum class EmitKind { MLIR, OneBit, Lowered, PTX, LLVM, Object, Library };
enum class Target { CPU, CUDA };

cl::OptionCategory category("onebit-compile options");

cl::opt<std::string> inputFile(cl::Positional,
                               cl::desc("<model.onnx | model.onnxtext>"),
                               cl::Required, cl::cat(category));
cl::opt<std::string> outputFile("o", cl::desc("Output file (default: stdout)"),
                                cl::value_desc("file"), cl::init("-"),
                                cl::cat(category));
cl::opt<EmitKind> emitKind(
    "emit", cl::desc("What to produce"), cl::init(EmitKind::Library),
    cl::values(clEnumValN(EmitKind::MLIR, "mlir",
                          "the imported IR (tosa/tensor/arith, "
                          "onebit.linear for OneBitLinear nodes)"),
               clEnumValN(EmitKind::OneBit, "onebit",
                          "the IR after onebit-fusion-pipeline: every 1-bit "
                          "layer one onebit.linear"),
               clEnumValN(EmitKind::Lowered, "lowered",
                          "the LLVM dialect after the target's pipeline"),
               clEnumValN(EmitKind::PTX, "ptx",
                          "the PTX of every kernel module (-target=cuda)"),
               clEnumValN(EmitKind::LLVM, "llvm", "optimised LLVM IR"),
               clEnumValN(EmitKind::Object, "obj", "an object file"),
               clEnumValN(EmitKind::Library, "lib",
                          "a shared library with the runtime C API of "
                          "include/onebit/Runtime/onebit_runtime.h "
                          "(default; needs -o)")),
    cl::cat(category));
cl::opt<Target> target(
    "target", cl::desc("Where the model runs"), cl::init(Target::CPU),
    cl::values(clEnumValN(Target::CPU, "cpu",
                          "x86-64 CPUs, through LLVM (default)"),
               clEnumValN(Target::CUDA, "cuda",
                          "NVIDIA GPUs: kernels as PTX (with ptxas: a fatbin "
                          "of the cubin and the PTX) in the library, host code "
                          "for this CPU")),
    cl::cat(category));
cl::opt<std::string> cpuName(
    "mcpu",
    cl::desc("CPU to compile for: an LLVM CPU name, or native for this "
             "machine's CPU and features (default)"),
    cl::init("native"), cl::cat(category));
enum class LookupTables { Auto, On, Off };
cl::opt<LookupTables> lookupTables(
    "lookup-tables",
    cl::desc("CPU kernel for 1-bit layers with a multiple of 16 outputs "
             "(-target=cpu)"),
    cl::init(LookupTables::Auto),
    cl::values(clEnumValN(LookupTables::Auto, "auto",
                          "tables of partial sums where -mcpu has AVX-512 "
                          "(default)"),
               clEnumValN(LookupTables::On, "on",
                          "tables of partial sums (needs AVX-512)"),
               clEnumValN(LookupTables::Off, "off",
                          "masked adds and sign vectors on OneBit's bytes")),
    cl::cat(category));
cl::opt<std::string> gpuArch(
    "arch",
    cl::desc("GPU architecture for -target=cuda: sm_90 (default), sm_89 or "
             "sm_80"),
    cl::init("sm_90"), cl::cat(category));
cl::opt<std::string> ptxasPath(
    "ptxas",
    cl::desc("ptxas to make cubins with (-target=cuda); default "
             "/usr/local/cuda/bin/ptxas if it exists. The library holds, "
             "per kernel module, a fatbin of the cubin and its PTX (a bare "
             "cubin if fatbinary is not beside ptxas); without ptxas, PTX "
             "that the driver compiles when the model loads"),
    cl::value_desc("path"), cl::init(""), cl::cat(category));
cl::list<std::string> inputShapes(
    "input-shape",
    cl::desc("Static shape for a graph input with symbolic dimensions, "
             "e.g. --input-shape input_ids=1x16 (repeatable; for a decoder, "
             "input_ids=1xT makes a step of T tokens, docs/decoding.md)"),
    cl::value_desc("name=DIMxDIM..."), cl::cat(category));
cl::opt<std::string> externalDataDir(
    "external-data-dir",
    cl::desc("Directory the model's external data is read from (default: "
             "the model's own directory); files whose real path, symlinks "
             "resolved, lies outside it are refused"),
    cl::value_desc("dir"), cl::init(""), cl::cat(category));
cl::opt<std::string> apiName(
    "name",
    cl::desc("Also export the library's C API under this prefix "
             "(NAME_model_open, NAME_session_create, ...; onebit_runtime.h's "
             "ONEBIT_DECLARE_MODEL_API(NAME) declares them), so that one "
             "program can link several model libraries"),
    cl::value_desc("NAME"), cl::init(""), cl::cat(category));
cl::opt<bool> indexChecks(
    "index-checks",
    cl::desc("Check at run time the indices a gather takes from the model's "
             "inputs (token ids, positions): a run with one out of range "
             "fails naming the node, the input and the value (default). "
             "false: no check, an index out of range reads out of bounds "
             "(only to measure the checks' cost)"),
    cl::init(true), cl::cat(category));
cl::opt<int64_t> maxSeqLen(
    "max-seq-len",
    cl::desc("Decoders: the window, most positions a session holds "
             "(default: the rows of onebit's cache; for Hugging Face's form, "
             "whatever a session asks for). Symbolic dimensions of a "
             "decoder's inputs are set from it (2048 if not given)"),
    cl::init(0), cl::cat(category));
cl::opt<bool> residentCache(
    "resident-cache",
    cl::desc("Decoders: keep the key/value cache in the library, driven "
             "by the session API (default); false: the cache stays the "
             "step's inputs and outputs"),
    cl::init(true), cl::cat(category));
cl::opt<bool> fusionReport(
    "fusion-report",
    cl::desc("Report each fused layer and a summary (remarks on stderr)"),
    cl::init(false), cl::cat(category));
cl::opt<bool> memoryReport(
    "memory-report",
    cl::desc("Report the activation arena that onebit-plan-arena planned "
             "(-target=cpu, on stderr): its size and what the buffers "
             "would take without reuse"),
    cl::init(false), cl::cat(category));

/// The CUDA pipeline's kernel options as flags of onebit-compile
/// (CUDAPipelineOptions::forEachFlag): declared there once, with their
/// names, descriptions and defaults.
class CUDAFlags {
public:
  explicit CUDAFlags(onebit::CUDAPipelineOptions &defaults) {
    defaults.forEachFlag([&](auto &option) { declare(option); });
  }

  /// Copies the flags given into `options`; `given` gets their names.
  void apply(onebit::CUDAPipelineOptions &options,
             SmallVectorImpl<StringRef> &given) {
    size_t index = 0;
    options.forEachFlag([&](auto &option) {
      using T = std::decay_t<decltype(option.getValue())>;
      auto *flag = static_cast<cl::opt<T> *>(flags[index++].get());
      if (!flag->getNumOccurrences())
        return;
      option = flag->getValue();
      given.push_back(flag->ArgStr);
    });
  }

private:
  template <typename OptionT>
  void declare(OptionT &option) {
    using T = std::decay_t<decltype(option.getValue())>;
    descriptions.push_back(("-target=cuda: " + option.HelpStr).str());
    flags.push_back(std::make_unique<cl::opt<T>>(
        option.ArgStr, cl::desc(descriptions.back()),
        cl::init(option.getValue()), cl::cat(category)));
  }

  std::deque<std::string> descriptions;
  std::vector<std::unique_ptr<cl::Option>> flags;
};

/// Prints the plan that onebit-plan-arena attached to the entry point (the
/// LLVM lowering keeps a function's discardable attributes).
void printMemoryReport(ModuleOp module) {
  Operation *entry =
      SymbolTable::lookupSymbolIn(module, onebit::kMainFunctionName);
  auto get = [&](StringRef name) -> int64_t {
    auto value = entry ? entry->getAttrOfType<IntegerAttr>(name) : nullptr;
    return value ? value.getInt() : 0;
  };
  llvm::errs() << "onebit-compile: activation arena "
               << get(onebit::kArenaBytesAttrName) << " bytes ("
               << get(onebit::kArenaBuffersAttrName) << " buffers totalling "
               << get(onebit::kArenaUnsharedBytesAttrName)
               << " bytes without reuse)\n";
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  onebit::CUDAPipelineOptions cudaOptions;
  CUDAFlags cudaFlags(cudaOptions);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "onebit-compile: compile ONNX models with 1-bit layers\n\n"
      "  Imports the model, fuses each 1-bit layer (every encoding of\n"
      "  docs/onnx-convention.md) into one onebit.linear, lowers it for the\n"
      "  target and links a shared library:\n"
      "    onebit-compile model.onnx -target=cpu -o model.so\n");

  onebit::ImportOptions options;
  if (maxSeqLen < 0 || maxSeqLen == 1) {
    llvm::errs() << "onebit-compile: --max-seq-len must be at least 2\n";
    return 1;
  }
  options.decoderRows = maxSeqLen ? int64_t(maxSeqLen) : 2048;
  options.externalDataDirectory = externalDataDir;
  options.indexChecks = indexChecks;
  if (!apiName.empty() &&
      (!(llvm::isAlpha(apiName[0]) || apiName[0] == '_') ||
       !llvm::all_of(apiName, [](char c) {
         return llvm::isAlnum(c) || c == '_';
       }))) {
    llvm::errs() << "onebit-compile: --name '" << apiName
                 << "' is not a C identifier (letters, digits and '_', not "
                    "starting with a digit)\n";
    return 1;
  }
  for (const std::string &spec : inputShapes) {
    std::string error;
    if (failed(onebit::parseInputShape(spec, options, error))) {
      llvm::errs() << "onebit-compile: --input-shape: " << error << "\n";
      return 1;
    }
  }

  DialectRegistry registry;
  onebit::registerAllDialects(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  OwningOpRef<ModuleOp> module =
      onebit::importONNXFile(inputFile, &context, options);
  if (!module)
    return 1;

  if (emitKind == EmitKind::Library && outputFile == "-") {
    llvm::errs() << "onebit-compile: --emit=lib writes a shared library: "
                    "give its path with -o\n";
    return 1;
  }
  if (emitKind >= EmitKind::OneBit) {
    PassManager pm(&context);
    onebit::FusionPipelineOptions fusion;
    fusion.report = fusionReport;
    fusion.residentCache = residentCache;
    fusion.maxSeqLen = maxSeqLen;
    onebit::buildFusionPipeline(pm, fusion);
    if (failed(pm.run(*module)))
      return 1;
  }
  if (target == Target::CPU && emitKind == EmitKind::PTX) {
    llvm::errs() << "onebit-compile: --emit=ptx needs -target=cuda\n";
    return 1;
  }
  SmallVector<StringRef> cudaFlagsGiven;
  cudaFlags.apply(cudaOptions, cudaFlagsGiven);
  if (target != Target::CUDA && !cudaFlagsGiven.empty()) {
    llvm::errs() << "onebit-compile: --" << cudaFlagsGiven.front()
                 << " is for -target=cuda\n";
    return 1;
  }
  if (target == Target::CUDA) {
    if (!onebit::isSupportedCUDAChip(gpuArch)) {
      llvm::errs() << "onebit-compile: -arch=" << gpuArch
                   << " is not supported (sm_90, sm_89 or sm_80)\n";
      return 1;
    }
    cudaOptions.chip = gpuArch;
    if (std::string error = cudaOptions.verify(); !error.empty()) {
      llvm::errs() << "onebit-compile: " << error << "\n";
      return 1;
    }
    std::string ptxas = ptxasPath;
    if (!ptxas.empty() && !llvm::sys::fs::can_execute(ptxas)) {
      llvm::errs() << "onebit-compile: --ptxas=" << ptxas
                   << " is not an executable\n";
      return 1;
    }
    if (ptxas.empty() && llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
      ptxas = "/usr/local/cuda/bin/ptxas";
    // gpu-module-to-binary looks for bin/ptxas and nvvm/libdevice under the
    // toolkit root.
    if (!ptxas.empty())
      cudaOptions.toolkit = llvm::sys::path::parent_path(
                                llvm::sys::path::parent_path(ptxas))
                                .str();
    // With ptxas, each kernel module is a fatbin holding the cubin for -arch
    // and the PTX beside it, which the driver JIT-compiles on GPUs the cubin
    // does not run on (a bare cubin where the toolkit has no fatbinary).
    bool fatbinary =
        !ptxas.empty() &&
        llvm::sys::fs::can_execute(
            (llvm::sys::path::parent_path(ptxas) + "/fatbinary").str());
    cudaOptions.format = emitKind == EmitKind::PTX || ptxas.empty() ? "isa"
                         : fatbinary                                ? "fatbin"
                                                                    : "bin";
  }
  onebit::CPUTargetOptions targetOptions;
  targetOptions.cpu = cpuName;
  onebit::CPUPipelineOptions cpuOptions;
  if (target == Target::CUDA && lookupTables.getNumOccurrences()) {
    llvm::errs() << "onebit-compile: --lookup-tables is for -target=cpu\n";
    return 1;
  }
  if (target == Target::CPU && emitKind >= EmitKind::Lowered &&
      lookupTables != LookupTables::Off) {
    FailureOr<bool> avx512 =
        onebit::hasAVX512(targetOptions, module->getLoc());
    if (failed(avx512))
      return 1;
    if (!*avx512 && lookupTables == LookupTables::On) {
      llvm::errs() << "onebit-compile: --lookup-tables=on needs AVX-512, "
                      "which -mcpu="
                   << cpuName << " does not have\n";
      return 1;
    }
    cpuOptions.lookupTables = *avx512;
  }
  if (emitKind >= EmitKind::Lowered) {
    PassManager pm(&context);
    if (target == Target::CUDA)
      onebit::buildCUDALoweringPipeline(pm, cudaOptions);
    else
      onebit::buildCPULoweringPipeline(pm, cpuOptions);
    if (failed(pm.run(*module)))
      return 1;
    if (memoryReport && target == Target::CPU)
      printMemoryReport(*module);
  }

  if (emitKind == EmitKind::Library) {
    FailureOr<std::string> object =
        onebit::emitCPUObject(*module, targetOptions);
    if (failed(object))
      return 1;
    if (target == Target::CUDA
            ? failed(onebit::linkCUDASharedLibrary(*object, outputFile,
                                                   module->getLoc(), apiName))
            : failed(onebit::linkCPUSharedLibrary(*object, outputFile,
                                                  module->getLoc(), apiName)))
      return 1;
    return 0;
  }

  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> output =
      openOutputFile(outputFile, &error);
  if (!output) {
    llvm::errs() << "onebit-compile: " << error << "\n";
    return 1;
  }
  if (emitKind == EmitKind::PTX) {
    FailureOr<std::string> text = onebit::getCUDAAssembly(*module);
    if (failed(text))
      return 1;
    output->os() << *text;
  } else if (emitKind == EmitKind::LLVM || emitKind == EmitKind::Object) {
    FailureOr<std::string> text =
        emitKind == EmitKind::LLVM
            ? onebit::emitCPULLVMIR(*module, targetOptions)
            : onebit::emitCPUObject(*module, targetOptions);
    if (failed(text))
      return 1;
    output->os() << *text;
  } else {
    module->print(output->os());
  }
  output->keep();
  return 0;
}
