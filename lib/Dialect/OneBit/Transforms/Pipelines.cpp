//===- Pipelines.cpp - the pass pipelines onebit-compile runs -------------===//

#include "onebit/Dialect/OneBit/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::onebit::buildFusionPipeline(OpPassManager &pm,
                                       const FusionPipelineOptions &options) {
  OpPassManager &func = pm.nest<func::FuncOp>();
  func.addPass(createCanonicalizerPass());
  func.addPass(createOneBitFuseLinear(OneBitFuseLinearOptions{options.report}));
  func.addPass(createCanonicalizerPass());
  func.addPass(createCSEPass());
  if (options.residentCache) {
    pm.addPass(createOneBitResidentKVCache(
        OneBitResidentKVCacheOptions{options.maxSeqLen}));
    OpPassManager &cleanup = pm.nest<func::FuncOp>();
    cleanup.addPass(createCanonicalizerPass());
    cleanup.addPass(createCSEPass());
  }
}

void mlir::onebit::registerOneBitPipelines() {
  PassPipelineRegistration<FusionPipelineOptions>(
      "onebit-fusion-pipeline",
      "What onebit-compile runs after import (--emit=onebit): canonicalize, "
      "fuse 1-bit layers into onebit.linear, keep a decoder's cache in the "
      "library, clean up",
      buildFusionPipeline);
}
