//===- Pipeline.cpp - fused onebit IR to kernels and host code for CUDA ---===//
//
// onebit-cuda-pipeline: the model's tensors are bufferized as for the CPU,
// then every loop nest becomes a kernel of a gpu.module (NVVM), compiled
// to PTX by LLVM's NVPTX backend (and to a cubin by ptxas where asked),
// and the host function keeps only launches on one stream.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"
#include "onebit/Conversion/Passes.h"
#include "onebit/Dialect/OneBit/Transforms/Passes.h"
#include "onebit/Target/CUDA/CUDATarget.h"
#include "onebit/Target/Passes.h"
#include "onebit/Target/Pipelines.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Tosa/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

/// onebit-gpu-select-schedules' options, from the pipeline's.
static onebit::OneBitGPUSelectSchedulesOptions
getScheduleOptions(const onebit::CUDAPipelineOptions &options) {
  onebit::OneBitGPUSelectSchedulesOptions schedules;
  schedules.attentionWarps = options.attentionWarps;
  schedules.attentionBlocks = options.attentionBlocks;
  schedules.attentionRowsInFlight = options.attentionRowsInFlight;
  schedules.mmaMinRows = options.mmaMinRows;
  schedules.mmaRowTiles = options.mmaRowTiles;
  schedules.mmaMinGridSize = options.mmaMinGridSize;
  schedules.mmaBitClasses = options.mmaBitClasses;
  schedules.mmaLoadsAhead = options.mmaLoadsAhead;
  schedules.mmaInt8Activations = options.mmaInt8Activations;
  schedules.mmaDirectFragments = options.mmaDirectFragments;
  schedules.gemvRowsPerStep = options.gemvRowsPerStep;
  schedules.gemvMaxGridSize = options.gemvMaxGridSize;
  schedules.report = options.scheduleReport;
  return schedules;
}

std::string mlir::onebit::CUDAPipelineOptions::verify() const {
  if (blockSize < 1 || blockSize > 1024)
    return "--block-size must be 1..1024";
  return verifyGPUScheduleOptions(getScheduleOptions(*this), "--");
}

bool mlir::onebit::isSupportedCUDAChip(StringRef chip) {
  return chip == "sm_90" || chip == "sm_89" || chip == "sm_80";
}

void mlir::onebit::buildCUDALoweringPipeline(
    OpPassManager &pm, const CUDAPipelineOptions &options) {
  pm.addPass(createOneBitExportEntryPoint());
  OpPassManager &func = pm.nest<func::FuncOp>();
  func.addPass(createOneBitDecomposeLinear());
  // On tensors: the products' and attentions' kernels, before fusion.
  func.addPass(createOneBitGPUSelectSchedules(getScheduleOptions(options)));
  func.addPass(createConvertOneBitToLinalg());
  addTosaLoweringPasses(func);
  func.addPass(createOneBitFusePointwiseConcat());
  func.addPass(createLinalgElementwiseOpFusionPass());
  // After fusion, which would otherwise fuse into the new generics.
  func.addPass(createOneBitGPUTransposeMatvecWeights());

  addBufferizationPasses(pm);

  // Buffers on the device, loop nests as grid x block, kernels outlined.
  OpPassManager &host = pm.nest<func::FuncOp>();
  host.addPass(createOneBitGPUAttention());
  host.addPass(createOneBitGPUHostBuffers());
  host.addPass(createOneBitGPUSignGemv());
  host.addPass(createOneBitGPUSignMma());
  host.addPass(createOneBitGPURowReductions());
  if (options.mergeLaunches)
    host.addPass(createOneBitGPUMergeLaunches());
  host.addPass(createConvertLinalgToParallelLoopsPass());
  host.addPass(createCanonicalizerPass());
  OneBitGPUTileLoopsOptions tile;
  tile.blockSize = options.blockSize;
  // No canonicalization here: it would fold one-iteration tile loops and
  // so change which loop gpu-map-parallel-loops maps to the grid.
  host.addPass(createOneBitGPUTileLoops(tile));

  std::string toolkit = options.toolkit;
  if (toolkit.empty() && llvm::sys::fs::is_directory("/usr/local/cuda"))
    toolkit = "/usr/local/cuda";
  OpPassManager &kernels = pm.nest<func::FuncOp>();
  kernels.addPass(createGpuMapParallelLoopsPass());
  kernels.addPass(createConvertParallelLoopToGpuPass());
  // Constants and index arithmetic into the kernels rather than parameters:
  // the canonicalizer hoisted them out of the launches.
  pm.addNestedPass<func::FuncOp>(createOneBitGPUSinkIndexComputations());
  // The loop nests' launches, now launches too (rotary q and k side by side).
  if (options.mergeLaunches)
    pm.addNestedPass<func::FuncOp>(createOneBitGPUMergeLaunches());
  pm.addPass(createGpuKernelOutliningPass());
  // Repeated layers launch the same kernels: each is translated and
  // assembled once.
  pm.addPass(createOneBitDeduplicateGPUKernels());
  // griddepcontrol needs sm_90.
  if (options.dependentLaunch && options.chip == "sm_90")
    pm.addPass(createOneBitCUDADependentLaunch());
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  OpPassManager &device = pm.nest<gpu::GPUModuleOp>();
  device.addPass(createConvertNVGPUToNVVMPass());
  device.addPass(createConvertGpuOpsToNVVMOps());
  device.addPass(createCanonicalizerPass());
  device.addPass(createCSEPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  binary.toolkitPath = toolkit;
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createOneBitCUDADeviceConstants());
  pm.addPass(createCanonicalizerPass());
}

void mlir::onebit::registerCUDAPipeline() {
  PassPipelineRegistration<CUDAPipelineOptions>(
      "onebit-cuda-pipeline",
      "What onebit-compile -target=cuda runs after onebit-fusion-pipeline: "
      "lower to linalg, bufferize, map loop nests to GPU kernels (NVVM, "
      "PTX/cubin in gpu.binary ops), host code to the LLVM dialect",
      buildCUDALoweringPipeline);
}

FailureOr<std::string> mlir::onebit::getCUDAAssembly(ModuleOp module) {
  std::string text;
  llvm::raw_string_ostream os(text);
  bool any = false;
  module.walk([&](gpu::BinaryOp binary) {
    for (Attribute attribute : binary.getObjects()) {
      auto object = dyn_cast<gpu::ObjectAttr>(attribute);
      if (!object)
        continue;
      if (object.getFormat() != gpu::CompilationTarget::Assembly)
        continue;
      os << "// gpu.binary @" << binary.getName() << "\n"
         << object.getObject().getValue();
      any = true;
    }
  });
  if (!any)
    return module.emitError() << "the lowered module holds no PTX";
  return text;
}
