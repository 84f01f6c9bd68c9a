//===- TileLoops.cpp - loop nests shaped as grid x block --------------------===//
//
// onebit-gpu-tile-loops: every top-level loop nest becomes a grid of blocks
// of block-size threads, ready for gpu-map-parallel-loops.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"

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
#define GEN_PASS_DEF_ONEBITGPUTILELOOPS
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {


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

} // namespace
