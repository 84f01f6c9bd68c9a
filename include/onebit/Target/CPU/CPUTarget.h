//===- CPUTarget.h - compiling a model to a CPU shared library --*- C++ -*-===//

#ifndef ONEBIT_TARGET_CPU_CPUTARGET_H
#define ONEBIT_TARGET_CPU_CPUTARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <string>

namespace mlir::onebit {

struct CPUTargetOptions {
  /// LLVM CPU name, or "native" for the host (its features included).
  std::string cpu = "native";
};

/// Options of `onebit-cpu-pipeline` (and of onebit-compile -target=cpu).
struct CPUPipelineOptions : PassPipelineOptions<CPUPipelineOptions> {
  Option<bool> lookupTables{
      *this, "lookup-tables",
      llvm::cl::desc("Interleave constant signs by 16 rows "
                     "(onebit-interleave-signs) for the lookup-table kernel, "
                     "which needs AVX-512"),
      llvm::cl::init(false)};
};

/// From fused IR (onebit + tosa on tensors) to the LLVM dialect; registered
/// as `onebit-cpu-pipeline`.
void buildCPULoweringPipeline(OpPassManager &pm,
                              const CPUPipelineOptions &options);
void registerCPUPipeline();

/// Whether the CPU `options` name has AVX-512 (F), which the lookup-table
/// kernel's permutes need.
FailureOr<bool> hasAVX512(const CPUTargetOptions &options, Location loc);

/// Translates an LLVM-dialect module to an optimised x86-64 object: the
/// model, a packed entry point `onebit_main_graph_packed(void **)` and the
/// signature string. Returns the object bytes, or fails after an error.
FailureOr<std::string> emitCPUObject(ModuleOp module,
                                     const CPUTargetOptions &options);

/// The LLVM IR of the same (for --emit=llvm).
FailureOr<std::string> emitCPULLVMIR(ModuleOp module,
                                     const CPUTargetOptions &options);

/// Links `object` with the CPU runtime into the shared library `output`;
/// a non-empty `apiPrefix` also exports the C API as `apiPrefix`_model_open
/// ... (onebit_runtime.h, ONEBIT_API_NAMES).
LogicalResult linkCPUSharedLibrary(StringRef object, StringRef output,
                                   Location loc, StringRef apiPrefix = "");

/// Links `object` with the runtime archive `runtimeArchive` (a file name in
/// the lib folder beside the tools' bin) and `libraries` (-l flags) into the
/// shared library `output`, whose references to its own symbols bind
/// inside it (-Bsymbolic: several model libraries in one process each
/// run their own model); `apiPrefix` as for linkCPUSharedLibrary.
LogicalResult linkModelSharedLibrary(StringRef object, StringRef output,
                                     Location loc, StringRef runtimeArchive,
                                     ArrayRef<std::string> libraries,
                                     StringRef apiPrefix);

} // namespace mlir::onebit

#endif // ONEBIT_TARGET_CPU_CPUTARGET_H
