//===- Pipelines.cpp - the pass pipelines onebit-compile runs -------------===//

#include "onebit/Dialect/OneBit/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::onebit::buildFusionPipeline(OpPassManager &pm, bool report) {
  OpPassManager &func = pm.nest<func::FuncOp>();
  func.addPass(createCanonicalizerPass());
  func.addPass(createOneBitFuseLinear(OneBitFuseLinearOptions{report}));
  func.addPass(createCanonicalizerPass());
  func.addPass(createCSEPass());
}

void mlir::onebit::registerOneBitPipelines() {
  PassPipelineRegistration<>(
      "onebit-fusion-pipeline",
      "What onebit-compile runs after import (--emit=onebit): canonicalize, "
      "fuse 1-bit layers into onebit.linear, clean up",
      [](OpPassManager &pm) { buildFusionPipeline(pm); });
}
