//===- InitAll.cpp - everything onebit's tools register -------------------===//

#include "onebit/InitAll.h"
#include "onebit/Codegen/Passes.h"
#include "onebit/Conversion/Passes.h"
#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"
#include "onebit/Dialect/OneBit/Transforms/BufferizableOpInterfaceImpl.h"
#include "onebit/Dialect/OneBit/Transforms/Passes.h"
#include "onebit/Target/CPU/CPUTarget.h"
#include "onebit/Target/CUDA/CUDATarget.h"
#include "onebit/Target/Passes.h"

#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"

void mlir::onebit::registerAllDialects(DialectRegistry &registry) {
  registry.insert<OneBitDialect>();
  registerBufferizableOpInterfaceExternalModels(registry);
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  // gpu-module-to-binary: NVVM modules to PTX/cubin.
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
}

void mlir::onebit::registerAllPasses() {
  mlir::registerAllPasses();
  registerOneBitPasses();
  registerOneBitConversionPasses();
  registerOneBitCodegenPasses();
  registerOneBitPipelines();
  registerOneBitTargetPasses();
  registerCPUPipeline();
  registerCUDAPipeline();
}
