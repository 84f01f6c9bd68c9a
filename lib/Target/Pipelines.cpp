//===- Pipelines.cpp - pieces the target pipelines share ------------------===//

#include "onebit/Target/Pipelines.h"
#include "onebit/Target/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Tosa/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void mlir::onebit::addTosaLoweringPasses(OpPassManager &functionPm) {
  functionPm.addPass(tosa::createTosaToLinalgNamed());
  functionPm.addPass(tosa::createTosaToLinalg());
  functionPm.addPass(createTosaToArithPass());
  functionPm.addPass(createTosaToTensorPass());
  functionPm.addPass(createCanonicalizerPass());
}

void mlir::onebit::addBufferizationPasses(OpPassManager &modulePm) {
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  modulePm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  modulePm.addNestedPass<func::FuncOp>(createOneBitCopyRepeatedResults());
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.modifyPublicFunctions = true;
  outParams.hoistStaticAllocs = true;
  modulePm.addPass(
      bufferization::createBufferResultsToOutParamsPass(outParams));
}
