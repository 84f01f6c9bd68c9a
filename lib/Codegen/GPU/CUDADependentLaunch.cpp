//===- CUDADependentLaunch.cpp - kernels that launch before their input ---===//
//
// onebit-cuda-dependent-launch: every outlined kernel waits for the kernels
// before it (griddepcontrol.wait, sm_90) before it touches memory other
// than the model's constants, and lets the next kernel launch: at its start
// where it has few blocks, else as its blocks end. The runtime then
// launches the library's kernels with programmatic stream serialization,
// so that each launch overlaps the kernel before it.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilding.h"
#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITCUDADEPENDENTLAUNCH
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// The symbol the CUDA runtime reads (CudaRuntime.c).
constexpr StringLiteral kDependentLaunch = "onebit_cuda_dependent_launch";
/// Most blocks of a kernel that lets the next one launch at its start: it
/// leaves most SMs to the next kernel's blocks.
constexpr int64_t kFewBlocks = 32;

/// What the pass knows of a kernel from its launches.
struct KernelLaunches {
  /// Arguments every launch binds to (a view of) a constant global: no
  /// kernel writes them.
  llvm::BitVector constantArguments;
  /// Whether every launch has at most kFewBlocks blocks.
  bool fewBlocks = true;
};

DenseMap<Operation *, KernelLaunches> collectLaunches(ModuleOp module) {
  DenseMap<Operation *, KernelLaunches> kernels;
  module.walk([&](gpu::LaunchFuncOp launch) {
    auto kernel = SymbolTable::lookupNearestSymbolFrom<gpu::GPUFuncOp>(
        launch, launch.getKernel());
    if (!kernel)
      return;
    unsigned count = launch.getNumKernelOperands();
    KernelLaunches &info =
        kernels
            .try_emplace(kernel, KernelLaunches{llvm::BitVector(count, true)})
            .first->second;
    for (unsigned i = 0; i < count; ++i) {
      auto global = getAliasRoot(launch.getKernelOperand(i))
                        .getDefiningOp<memref::GetGlobalOp>();
      auto symbol =
          global ? SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
                       global, global.getNameAttr())
                 : memref::GlobalOp();
      if (!symbol || !symbol.getConstant())
        info.constantArguments.reset(i);
    }
    int64_t blocks = 1;
    for (Value size : {launch.getGridSizeX(), launch.getGridSizeY(),
                       launch.getGridSizeZ()}) {
      std::optional<int64_t> constant = getConstantIntValue(size);
      blocks = constant ? blocks * *constant : kFewBlocks + 1;
    }
    info.fewBlocks &= blocks <= kFewBlocks;
  });
  return kernels;
}

/// Whether `op` reads only `constants` (a load of one of them).
bool readsOnlyConstants(Operation *op, const DenseSet<Value> &constants) {
  Value source;
  if (auto load = dyn_cast<memref::LoadOp>(op))
    source = load.getMemRef();
  else if (auto load = dyn_cast<vector::LoadOp>(op))
    source = load.getBase();
  return source && constants.contains(getAliasRoot(source));
}

/// The first op of `block` that may read or write memory other than
/// `constants` (the terminator if none), and whether loads of constants
/// come before it.
std::pair<Operation *, bool> findFirstAccess(Block &block,
                                             const DenseSet<Value> &constants) {
  bool readsConstants = false;
  for (Operation &op : block.without_terminator()) {
    if (readsOnlyConstants(&op, constants))
      readsConstants = true;
    else if (!isMemoryEffectFree(&op))
      return {&op, readsConstants};
  }
  return {block.getTerminator(), readsConstants};
}

/// Places waits in `block` so that each op that may read or write memory
/// other than `constants` runs after one: before the first such op or,
/// where that op is a loop or branch whose body loads constants first (the
/// first sign words of a product), inside its regions (the same way) and
/// after it. A loop body that would wait at every iteration for nothing
/// gets no wait. `atEnd`: wait before the block's terminator if nothing
/// else did (every kernel waits, so that its completion implies its
/// predecessors').
void placeWaits(Block &block, const DenseSet<Value> &constants, bool atEnd) {
  auto [first, readsConstants] = findFirstAccess(block, constants);
  OpBuilder b(first);
  if (first == block.getTerminator()) {
    if (!atEnd)
      return;
  } else if (isa<scf::ForOp, scf::IfOp, scf::IndexSwitchOp>(first) &&
             llvm::any_of(first->getRegions(), [&](Region &region) {
               return !region.empty() &&
                      findFirstAccess(region.front(), constants).second;
             })) {
    for (Region &region : first->getRegions())
      for (Block &inner : region)
        placeWaits(inner, constants, /*atEnd=*/false);
    b.setInsertionPointAfter(first);
  }
  NVVM::GriddepcontrolOp::create(b, first->getLoc(),
                                 NVVM::GridDepActionKind::wait);
}

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
    DenseMap<Operation *, KernelLaunches> launches = collectLaunches(module);
    module.walk([&](gpu::GPUFuncOp func) {
      if (!func.isKernel() || func.getBody().empty())
        return;
      Block &entry = func.getBody().front();
      DenseSet<Value> constants;
      bool fewBlocks = false;
      auto it = launches.find(func);
      if (it != launches.end()) {
        for (unsigned i : it->second.constantArguments.set_bits())
          constants.insert(entry.getArgument(i));
        fewBlocks = it->second.fewBlocks;
      }
      placeWaits(entry, constants, /*atEnd=*/true);
      // A kernel of many blocks triggers at its end: triggered at the
      // start, the next kernel's blocks took SMs while it still ran, and
      // several layers ran slower (docs/benchmarks.md).
      OpBuilder b(func.getContext());
      auto trigger = [&](Location loc) {
        NVVM::GriddepcontrolOp::create(
            b, loc, NVVM::GridDepActionKind::launch_dependents);
      };
      if (fewBlocks) {
        b.setInsertionPointToStart(&entry);
        trigger(func.getLoc());
        return;
      }
      func.walk([&](gpu::ReturnOp ret) {
        b.setInsertionPoint(ret);
        trigger(ret.getLoc());
      });
    });
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    LLVM::GlobalOp::create(b, module.getLoc(), b.getI32Type(),
                           /*isConstant=*/true, LLVM::Linkage::External,
                           kDependentLaunch, b.getI32IntegerAttr(1));
  }
};

} // namespace
