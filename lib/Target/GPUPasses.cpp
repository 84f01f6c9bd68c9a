//===- GPUPasses.cpp - host buffers, loop shaping and device constants ----===//
//
// The three passes of onebit-cuda-pipeline that upstream MLIR has no
// equivalent for: buffers on the device, loop nests shaped as grid x block,
// and weights read from device copies uploaded once by the runtime.
//
//===----------------------------------------------------------------------===//

#include "onebit/Target/Passes.h"

#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITGPUHOSTBUFFERS
#define GEN_PASS_DEF_ONEBITGPUTILELOOPS
#define GEN_PASS_DEF_ONEBITCUDADEVICECONSTANTS
#include "onebit/Target/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

//===----------------------------------------------------------------------===//
// onebit-gpu-host-buffers
//===----------------------------------------------------------------------===//

struct GPUHostBuffersPass
    : onebit::impl::OneBitGPUHostBuffersBase<GPUHostBuffersPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<memref::AllocOp, memref::DeallocOp, memref::CopyOp>(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      Location loc = op->getLoc();
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        auto device = gpu::AllocOp::create(
            rewriter, loc, alloc.getType(), /*asyncToken=*/Type(),
            /*asyncDependencies=*/ValueRange(), alloc.getDynamicSizes(),
            alloc.getSymbolOperands(), /*hostShared=*/false);
        rewriter.replaceOp(alloc, device.getMemref());
      } else if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        linalg::CopyOp::create(rewriter, loc, copy.getSource(),
                               copy.getTarget());
        rewriter.eraseOp(copy);
      } else {
        rewriter.eraseOp(op);
      }
    }
  }
};

//===----------------------------------------------------------------------===//
// onebit-gpu-tile-loops
//===----------------------------------------------------------------------===//

/// Whether `op` (or an op nested in it) reads or writes memory through a
/// memref on the host.
bool touchesMemory(Operation *op) {
  WalkResult result = op->walk([](Operation *inner) {
    if (isa<memref::LoadOp, memref::StoreOp, memref::AtomicRMWOp,
            memref::GenericAtomicRMWOp, vector::TransferReadOp,
            vector::TransferWriteOp, vector::LoadOp, vector::StoreOp,
            linalg::LinalgOp, memref::CopyOp>(inner))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return result.wasInterrupted();
}

/// Moves `group` (ops of one block, in order) into a one-iteration
/// scf.parallel placed after the last of them, and `delayed` (frees met
/// between them) after that loop: freeing later is always safe. Fails,
/// naming the op, when a result is used outside the group: the host cannot
/// read device memory.
LogicalResult wrapGroup(IRRewriter &rewriter, ArrayRef<Operation *> group,
                        ArrayRef<Operation *> delayed) {
  if (group.empty())
    return success();
  llvm::SmallPtrSet<Operation *, 16> members(group.begin(), group.end());
  for (Operation *op : group)
    for (Operation *user : op->getUsers())
      if (!members.contains(op->getBlock()->findAncestorOpInBlock(*user)))
        return op->emitError()
               << "'" << op->getName()
               << "' cannot run on the GPU: it reads device memory and its "
                  "results are needed on the host";
  rewriter.setInsertionPointAfter(group.back());
  Location loc = group.front()->getLoc();
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  auto parallel = scf::ParallelOp::create(rewriter, loc, ValueRange{zero},
                                          ValueRange{one}, ValueRange{one});
  for (Operation *op : group)
    op->moveBefore(parallel.getBody()->getTerminator());
  Operation *last = parallel;
  for (Operation *op : delayed) {
    op->moveAfter(last);
    last = op;
  }
  return success();
}

LogicalResult wrapSequentialWork(IRRewriter &rewriter, Block &body) {
  SmallVector<Operation *> group, delayed;
  llvm::SmallPtrSet<Operation *, 16> members;
  auto flush = [&]() {
    LogicalResult result = wrapGroup(rewriter, group, delayed);
    group.clear();
    delayed.clear();
    members.clear();
    return result;
  };
  for (Operation &op : llvm::make_early_inc_range(body)) {
    if (isa<scf::ParallelOp, gpu::LaunchOp>(op) ||
        op.hasTrait<OpTrait::IsTerminator>()) {
      if (failed(flush()))
        return failure();
      continue;
    }
    bool usesGroup = op.walk([&](Operation *inner) {
                         for (Value v : inner->getOperands())
                           if (members.contains(v.getDefiningOp()))
                             return WalkResult::interrupt();
                         return WalkResult::advance();
                       }).wasInterrupted();
    if (usesGroup || touchesMemory(&op)) {
      group.push_back(&op);
      members.insert(&op);
    } else if (!group.empty() && hasEffect<MemoryEffects::Free>(&op)) {
      delayed.push_back(&op);
    }
  }
  return flush();
}

struct GPUTileLoopsPass
    : onebit::impl::OneBitGPUTileLoopsBase<GPUTileLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    IRRewriter rewriter(&getContext());
    Block &body = func.getBody().front();

    // 1. Sequential work that touches memory runs as a one-thread kernel:
    // each run of such ops between two loop nests, with the ops that compute
    // on their results (a load, the arithmetic on it, the store of it).
    if (failed(wrapSequentialWork(rewriter, body)))
      return signalPassFailure();

    // 2. Every loop nest: one dimension, tiled by the block size (or by
    // its trip count where that is smaller).
    SmallVector<std::pair<Operation *, int64_t>> nests;
    for (Operation &op : body) {
      auto loop = dyn_cast<scf::ParallelOp>(op);
      if (!loop)
        continue;
      int64_t trips = 1;
      for (auto [lower, upper, step] :
           llvm::zip(loop.getLowerBound(), loop.getUpperBound(),
                     loop.getStep())) {
        std::optional<int64_t> l = getConstantIntValue(lower);
        std::optional<int64_t> u = getConstantIntValue(upper);
        std::optional<int64_t> s = getConstantIntValue(step);
        if (!l || !u || !s || *s <= 0) {
          trips = -1;
          break;
        }
        trips *= std::max<int64_t>(0, (*u - *l + *s - 1) / *s);
      }
      int64_t tile = trips < 0 ? blockSize
                               : std::max<int64_t>(
                                     1, std::min<int64_t>(blockSize, trips));
      nests.push_back({loop, tile});
    }
    for (auto [op, tile] : nests) {
      auto loop = cast<scf::ParallelOp>(op);
      scf::ParallelOp collapsed = loop;
      if (loop.getNumLoops() > 1) {
        std::vector<unsigned> all;
        for (unsigned i = 0; i < loop.getNumLoops(); ++i)
          all.push_back(i);
        rewriter.setInsertionPoint(loop);
        Operation *before = loop->getPrevNode();
        collapseParallelLoops(rewriter, loop, {all});
        // The collapsed loop replaces `loop` at the same place.
        Operation *next = before ? before->getNextNode() : &body.front();
        while (next && !isa<scf::ParallelOp>(next))
          next = next->getNextNode();
        collapsed = cast<scf::ParallelOp>(next);
      }
      scf::tileParallelLoop(collapsed, {tile}, /*noMinMaxBounds=*/true);
    }
  }
};

//===----------------------------------------------------------------------===//
// onebit-cuda-device-constants
//===----------------------------------------------------------------------===//

constexpr StringLiteral kDeviceTable = "onebit_cuda_constants";
constexpr StringLiteral kConstantTable = "onebit_cuda_constant_table";
constexpr StringLiteral kNumConstants = "onebit_cuda_num_constants";

struct CUDADeviceConstantsPass
    : onebit::impl::OneBitCUDADeviceConstantsBase<CUDADeviceConstantsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    SymbolTable symbols(module);

    // Constant globals addressed from host functions, in first-use order.
    SmallVector<LLVM::GlobalOp> constants;
    DenseMap<StringAttr, unsigned> indexOf;
    SmallVector<std::pair<LLVM::AddressOfOp, unsigned>> uses;
    for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
      func.walk([&](LLVM::AddressOfOp address) {
        auto global = symbols.lookup<LLVM::GlobalOp>(
            address.getGlobalNameAttr().getAttr());
        if (!global || !global.getConstant() ||
            (!global.getValueOrNull() && !global.getInitializerBlock()))
          return;
        auto [it, inserted] =
            indexOf.try_emplace(global.getSymNameAttr(), constants.size());
        if (inserted)
          constants.push_back(global);
        uses.push_back({address, it->second});
      });
    }

    OpBuilder builder(context);
    builder.setInsertionPointToEnd(module.getBody());
    Location loc = module.getLoc();
    auto ptr = LLVM::LLVMPointerType::get(context);
    auto i64 = builder.getI64Type();
    unsigned count = constants.size();
    unsigned slots = std::max(count, 1u);
    auto tableType = LLVM::LLVMArrayType::get(ptr, slots);

    // The device pointers, written by the runtime when the model opens.
    auto device = LLVM::GlobalOp::create(builder, loc, tableType,
                                         /*isConstant=*/false,
                                         LLVM::Linkage::External, kDeviceTable,
                                         Attribute());
    {
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPointToStart(
          builder.createBlock(&device.getInitializerRegion()));
      LLVM::ReturnOp::create(builder, loc,
                             LLVM::ZeroOp::create(builder, loc, tableType));
    }

    // {host address, bytes} of each constant, read by the runtime.
    DataLayout layout(module);
    auto entryType = LLVM::LLVMStructType::getLiteral(context, {ptr, i64});
    auto entriesType = LLVM::LLVMArrayType::get(entryType, slots);
    auto entries = LLVM::GlobalOp::create(
        builder, loc, entriesType, /*isConstant=*/true,
        LLVM::Linkage::External, kConstantTable, Attribute());
    {
      Block *block = builder.createBlock(&entries.getInitializerRegion());
      builder.setInsertionPointToStart(block);
      Value table = LLVM::UndefOp::create(builder, loc, entriesType);
      for (unsigned i = 0; i < slots; ++i) {
        Value address, bytes;
        if (i < count) {
          address = LLVM::AddressOfOp::create(builder, loc, constants[i]);
          bytes = LLVM::ConstantOp::create(
              builder, loc, i64,
              builder.getI64IntegerAttr(
                  layout.getTypeSize(constants[i].getGlobalType())));
        } else {
          address = LLVM::ZeroOp::create(builder, loc, ptr);
          bytes = LLVM::ConstantOp::create(builder, loc, i64,
                                           builder.getI64IntegerAttr(0));
        }
        Value entry = LLVM::UndefOp::create(builder, loc, entryType);
        entry = LLVM::InsertValueOp::create(builder, loc, entry, address,
                                            ArrayRef<int64_t>{0});
        entry = LLVM::InsertValueOp::create(builder, loc, entry, bytes,
                                            ArrayRef<int64_t>{1});
        table = LLVM::InsertValueOp::create(builder, loc, table, entry,
                                            ArrayRef<int64_t>{i});
      }
      LLVM::ReturnOp::create(builder, loc, table);
    }
    builder.setInsertionPointToEnd(module.getBody());
    LLVM::GlobalOp::create(builder, loc, i64, /*isConstant=*/true,
                           LLVM::Linkage::External, kNumConstants,
                           builder.getI64IntegerAttr(count));

    // Host code reads each constant's device address from the table.
    for (auto [address, index] : uses) {
      builder.setInsertionPoint(address);
      Location useLoc = address.getLoc();
      Value table = LLVM::AddressOfOp::create(builder, useLoc, ptr,
                                              kDeviceTable);
      Value slot = LLVM::GEPOp::create(
          builder, useLoc, ptr, tableType, table,
          ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(index)});
      Value device = LLVM::LoadOp::create(builder, useLoc, ptr, slot);
      address.replaceAllUsesWith(device);
      address.erase();
    }
  }
};

} // namespace
