//===- Pipeline.cpp - fused onebit IR to the LLVM dialect for CPUs --------===//

#include "onebit/Codegen/Passes.h"
#include "onebit/Conversion/Passes.h"
#include "onebit/Dialect/OneBit/Transforms/Passes.h"
#include "onebit/Target/CPU/CPUTarget.h"
#include "onebit/Target/Passes.h"
#include "onebit/Target/Pipelines.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Func/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/Tosa/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::onebit::buildCPULoweringPipeline(
    OpPassManager &pm, const CPUPipelineOptions &options) {
  pm.addPass(createOneBitExportEntryPoint());
  OpPassManager &func = pm.nest<func::FuncOp>();
  if (options.lookupTables)
    func.addPass(createOneBitInterleaveSigns());
  func.addPass(createOneBitDecomposeLinear());
  // On tensors: the products' and attentions' kernels, before fusion.
  func.addPass(createOneBitCPUSelectSchedules());
  func.addPass(createConvertOneBitToLinalg());
  addTosaLoweringPasses(func);
  func.addPass(createOneBitFusePointwiseConcat());
  func.addPass(createLinalgElementwiseOpFusionPass());

  addBufferizationPasses(pm);
  pm.addNestedPass<func::FuncOp>(createOneBitCPUAttention());
  bufferization::BufferDeallocationPipelineOptions deallocation;
  bufferization::buildBufferDeallocationPipeline(pm, deallocation);
  // Every intermediate into one arena: after the deallocation pipeline, whose
  // one memref.dealloc per buffer says the function owns it, and while
  // linalg ops on whole buffers still make lifetimes easy to read.
  pm.addNestedPass<func::FuncOp>(createOneBitPlanArena());

  pm.addNestedPass<func::FuncOp>(createOneBitInterchangeContractions());
  pm.addPass(createOneBitSplitContractionColumns());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  // Parallel loops of linalg ops run on all cores when they have the work
  // for it; the 1-bit kernel's scf.forall over output rows always does. Both
  // become OpenMP regions (the library links libomp).
  pm.addNestedPass<func::FuncOp>(createOneBitSerializeNestedParallel());
  pm.addNestedPass<func::FuncOp>(createForallToParallelLoopPass());
  // Repeated layers share their code from here on: the rest of the
  // pipeline and LLVM see each distinct loop nest once.
  pm.addPass(createOneBitOutlineLoopNests());
  pm.addPass(func::createDuplicateFunctionEliminationPass());
  pm.addPass(createConvertSCFToOpenMPPass());
  pm.addNestedPass<func::FuncOp>(createConvertVectorToSCFPass());
  // After bufferization: the permute intrinsic has no memory-effect model.
  if (options.lookupTables)
    pm.addNestedPass<func::FuncOp>(createOneBitGatherToPermute());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Before scf-to-cf: OpenMP wraps loop bodies in memref.alloca_scope, which
  // must keep a single block until it is lowered.
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  // x86 has no bf16 conversions without AVX512-BF16, and libgcc lacks the
  // __truncsfbf2 they would call: expand them to integer arithmetic.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void mlir::onebit::registerCPUPipeline() {
  PassPipelineRegistration<CPUPipelineOptions>(
      "onebit-cpu-pipeline",
      "What onebit-compile -target=cpu runs after onebit-fusion-pipeline: "
      "lower to linalg, bufferize, lower to the LLVM dialect",
      buildCPULoweringPipeline);
}
