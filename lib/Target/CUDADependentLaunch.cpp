//===- CUDADependentLaunch.cpp - kernels that launch before their input ---===//
//
// onebit-cuda-dependent-launch: every outlined kernel waits for the kernels
// before it (griddepcontrol.wait, sm_90) before it touches memory, and lets
// the next kernel launch as its blocks end. The runtime then launches the
// library's kernels with programmatic stream serialization, so that each
// launch overlaps the end of the kernel before it.
//
//===----------------------------------------------------------------------===//

#include "onebit/Target/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITCUDADEPENDENTLAUNCH
#include "onebit/Target/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// The symbol the CUDA runtime reads (CudaRuntime.c).
constexpr StringLiteral kDependentLaunch = "onebit_cuda_dependent_launch";

struct CUDADependentLaunchPass
    : onebit::impl::OneBitCUDADependentLaunchBase<CUDADependentLaunchPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (SymbolTable::lookupSymbolIn(module, kDependentLaunch)) {
      module.emitError() << "'" << kDependentLaunch
                         << "' is defined already: "
                            "onebit-cuda-dependent-launch ran twice";
      return signalPassFailure();
    }
    module.walk([](gpu::GPUFuncOp func) {
      if (!func.isKernel() || func.getBody().empty())
        return;
      // The wait goes before the first op that touches memory: index
      // arithmetic before it overlaps the kernel before.
      Block &entry = func.getBody().front();
      Operation *first = &entry.front();
      while (first != entry.getTerminator() && isMemoryEffectFree(first))
        first = first->getNextNode();
      OpBuilder b(first);
      NVVM::GriddepcontrolOp::create(b, func.getLoc(),
                                     NVVM::GridDepActionKind::wait);
      // Triggered at the start instead, the next kernel's blocks took SMs
      // while this one still ran, and several layers ran slower
      // (docs/benchmarks.md).
      func.walk([&](gpu::ReturnOp ret) {
        b.setInsertionPoint(ret);
        NVVM::GriddepcontrolOp::create(
            b, ret.getLoc(), NVVM::GridDepActionKind::launch_dependents);
      });
    });
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    LLVM::GlobalOp::create(b, module.getLoc(), b.getI32Type(),
                           /*isConstant=*/true, LLVM::Linkage::External,
                           kDependentLaunch, b.getI32IntegerAttr(1));
  }
};

} // namespace
