//===- DeduplicateGPUKernels.cpp - one module per distinct kernel ---------===//
//
// gpu-kernel-outlining gives every launch a module of its own, so a decoder
// with 32 equal blocks has 32 copies of each of its kernels, each translated
// to PTX and assembled separately. Launches of equal kernels share the first
// copy, and the others are erased.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITDEDUPLICATEGPUKERNELS
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// The kernel of a module as gpu-kernel-outlining makes it: its only
/// operation. Null for any other module.
gpu::GPUFuncOp getOnlyKernel(gpu::GPUModuleOp module) {
  Block &body = module.getBodyRegion().front();
  if (!llvm::hasSingleElement(body))
    return {};
  return dyn_cast<gpu::GPUFuncOp>(body.front());
}

/// `op`'s attributes, inherent ones included, but for its symbol name.
DictionaryAttr getAttrsButName(Operation *op) {
  NamedAttrList attrs(op->getAttrDictionary());
  attrs.erase(SymbolTable::getSymbolAttrName());
  return attrs.getDictionary(op->getContext());
}

/// A hash that equal kernels share: their attributes and every operation of
/// the body, without operands or locations.
llvm::hash_code hashKernel(gpu::GPUModuleOp module, gpu::GPUFuncOp kernel) {
  llvm::hash_code hash =
      llvm::hash_combine(getAttrsButName(module), getAttrsButName(kernel));
  kernel.getBody().walk([&](Operation *op) {
    hash = llvm::hash_combine(
        hash, OperationEquivalence::computeHash(
                  op, OperationEquivalence::ignoreHashValue,
                  OperationEquivalence::ignoreHashValue,
                  OperationEquivalence::IgnoreLocations));
  });
  return hash;
}

bool areEqualKernels(gpu::GPUModuleOp lhsModule, gpu::GPUFuncOp lhs,
                     gpu::GPUModuleOp rhsModule, gpu::GPUFuncOp rhs) {
  return getAttrsButName(lhsModule) == getAttrsButName(rhsModule) &&
         getAttrsButName(lhs) == getAttrsButName(rhs) &&
         OperationEquivalence::isRegionEquivalentTo(
             &lhs.getBody(), &rhs.getBody(),
             OperationEquivalence::IgnoreLocations);
}

struct OneBitDeduplicateGPUKernelsPass
    : public onebit::impl::OneBitDeduplicateGPUKernelsBase<
          OneBitDeduplicateGPUKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Every module's launches, and whether a use of its symbol is anything
    // else (then the module stays).
    DenseMap<Operation *, SmallVector<gpu::LaunchFuncOp>> launches;
    DenseSet<Operation *> otherwiseUsed;
    SymbolTableCollection symbols;
    module.walk([&](Operation *op) {
      auto launch = dyn_cast<gpu::LaunchFuncOp>(op);
      if (launch) {
        if (Operation *kernelModule = symbols.lookupSymbolIn(
                module, launch.getKernelModuleName()))
          launches[kernelModule].push_back(launch);
        return;
      }
      for (NamedAttribute attr : op->getAttrs())
        attr.getValue().walk([&](SymbolRefAttr ref) {
          if (Operation *used =
                  symbols.lookupSymbolIn(module, ref.getRootReference()))
            otherwiseUsed.insert(used);
        });
    });

    // The first module of each class of equal kernels, by hash.
    DenseMap<llvm::hash_code, SmallVector<gpu::GPUModuleOp>> kept;
    for (auto kernelModule :
         llvm::to_vector(module.getOps<gpu::GPUModuleOp>())) {
      gpu::GPUFuncOp kernel = getOnlyKernel(kernelModule);
      if (!kernel || otherwiseUsed.contains(kernelModule))
        continue;
      SmallVector<gpu::GPUModuleOp> &candidates =
          kept[hashKernel(kernelModule, kernel)];
      auto equal = llvm::find_if(candidates, [&](gpu::GPUModuleOp candidate) {
        return areEqualKernels(candidate, getOnlyKernel(candidate),
                               kernelModule, kernel);
      });
      if (equal == candidates.end()) {
        candidates.push_back(kernelModule);
        continue;
      }
      auto target = SymbolRefAttr::get(
          equal->getSymNameAttr(),
          {FlatSymbolRefAttr::get(SymbolTable::getSymbolName(getOnlyKernel(*equal)))});
      for (gpu::LaunchFuncOp launch : launches.lookup(kernelModule))
        launch.setKernelAttr(target);
      kernelModule.erase();
    }
  }
};

} // namespace
