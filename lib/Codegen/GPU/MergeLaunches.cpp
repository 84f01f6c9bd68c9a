//===- MergeLaunches.cpp - independent kernels side by side in one launch -===//
//
// onebit-gpu-merge-launches: at batch 1 a small 1-bit product (4096 x 4096)
// is a few microseconds of mostly latency, and the q, k and v products (or
// gate and up) that read the same activations run one after another. Where
// such launches follow each other, do not depend on each other and share a
// block size, one launch runs them all: its blocks are theirs side by side,
// and each block runs the body of the launch it belongs to. The same holds
// for the loop nests mapped to the GPU (no kernel name), such as the
// rotary embeddings of q and k.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilding.h"
#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITGPUMERGELAUNCHES
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// The static workgroup memory limit of every architecture we target.
constexpr int64_t kMaxWorkgroupBytes = 48 * 1024;

/// The value of `value` where it folds to an integer constant: launch
/// sizes of mapped loop nests are still `affine.apply`s and `arith.muli`s
/// of constants here.
std::optional<int64_t> getConstant(Value value, unsigned depth = 0) {
  APInt result;
  if (matchPattern(value, m_ConstantInt(&result)))
    return result.getSExtValue();
  Operation *def = value.getDefiningOp();
  if (!def || depth == 8 || def->getNumResults() != 1 || !isPure(def))
    return std::nullopt;
  SmallVector<Attribute> operands;
  for (Value operand : def->getOperands()) {
    std::optional<int64_t> constant = getConstant(operand, depth + 1);
    if (!constant)
      return std::nullopt;
    operands.push_back(IntegerAttr::get(operand.getType(), *constant));
  }
  SmallVector<OpFoldResult> folded;
  if (failed(def->fold(operands, folded)) || folded.size() != 1)
    return std::nullopt;
  auto attr = dyn_cast_if_present<IntegerAttr>(
      dyn_cast_if_present<Attribute>(folded.front()));
  if (!attr)
    return std::nullopt;
  return attr.getInt();
}

/// A launch that can be merged: constant sizes, a one-dimensional grid, a
/// single-block body, no async tokens or dynamic workgroup memory; named
/// (a hand-built kernel) or not (a mapped loop nest).
struct MergeableLaunch {
  mutable gpu::LaunchOp op; // ops are handles: const ones still change the IR
  int64_t gridX;
  std::array<int64_t, 3> block;
  int64_t workgroupBytes;
};

std::optional<MergeableLaunch> matchLaunch(gpu::LaunchOp launch) {
  if (!launch.getAsyncDependencies().empty() || launch.getAsyncToken() ||
      launch.getDynamicSharedMemorySize() || !launch.getBody().hasOneBlock() ||
      !launch.getPrivateAttributions().empty())
    return std::nullopt;
  std::optional<int64_t> gridX = getConstant(launch.getGridSizeX());
  std::optional<int64_t> gridY = getConstant(launch.getGridSizeY());
  std::optional<int64_t> gridZ = getConstant(launch.getGridSizeZ());
  std::optional<int64_t> blockX = getConstant(launch.getBlockSizeX());
  std::optional<int64_t> blockY = getConstant(launch.getBlockSizeY());
  std::optional<int64_t> blockZ = getConstant(launch.getBlockSizeZ());
  if (!gridX || gridY != 1 || gridZ != 1 || !blockX || !blockY || !blockZ)
    return std::nullopt;
  int64_t bytes = 0;
  for (BlockArgument buffer : launch.getWorkgroupAttributions()) {
    auto type = cast<MemRefType>(buffer.getType());
    if (!type.hasStaticShape() || !type.getElementType().isIntOrFloat())
      return std::nullopt;
    bytes += type.getNumElements() *
             llvm::divideCeil(type.getElementTypeBitWidth(), 8);
  }
  return MergeableLaunch{launch, *gridX, {*blockX, *blockY, *blockZ}, bytes};
}

/// Whether `next` can join `run`: the same kernel name and block, workgroup
/// memory within the limit together, independent of every launch of it.
bool canJoin(ArrayRef<MergeableLaunch> run, const MergeableLaunch &next) {
  int64_t bytes = next.workgroupBytes;
  for (const MergeableLaunch &launch : run) {
    if (launch.op.getFunctionAttr() != next.op.getFunctionAttr() ||
        launch.block != next.block ||
        !areIndependent(launch.op, next.op))
      return false;
    bytes += launch.workgroupBytes;
  }
  return bytes <= kMaxWorkgroupBytes;
}

/// One launch in place of the last of `run`: their blocks side by side in
/// x, each block running the body of its launch (an scf.index_switch).
void merge(ArrayRef<MergeableLaunch> run) {
  ImplicitLocOpBuilder b(run.back().op.getLoc(), run.back().op);
  int64_t grid = 0;
  SmallVector<Type> workgroup;
  for (const MergeableLaunch &launch : run) {
    grid += launch.gridX;
    for (BlockArgument buffer : launch.op.getWorkgroupAttributions())
      workgroup.push_back(buffer.getType());
  }
  auto merged = gpu::LaunchOp::create(
      b, constIndex(b, grid), constIndex(b, 1), constIndex(b, 1),
      constIndex(b, run.front().block[0]), constIndex(b, run.front().block[1]),
      constIndex(b, run.front().block[2]),
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      /*asyncDependencies=*/{}, workgroup);
  merged.setFunctionAttr(run.front().op.getFunctionAttr());
  Block &body = merged.getBody().front();
  b.setInsertionPointToEnd(&body);
  gpu::TerminatorOp::create(b);
  b.setInsertionPointToStart(&body);

  // Which launch a block belongs to: the count of starts it is past.
  Value blockId = merged.getBlockIds().x;
  Value which = constIndex(b, 0);
  SmallVector<int64_t> starts;
  int64_t start = 0;
  for (const MergeableLaunch &launch : run) {
    starts.push_back(start);
    if (start > 0) {
      Value past = arith::CmpIOp::create(b, arith::CmpIPredicate::uge, blockId,
                                         constIndex(b, start));
      which = arith::AddIOp::create(
          b, which, arith::IndexCastOp::create(b, b.getIndexType(),
                                               arith::ExtUIOp::create(
                                                   b, b.getI64Type(), past)));
    }
    start += launch.gridX;
  }
  SmallVector<unsigned> firstBuffers; // of each launch, in the merged list
  unsigned buffers = 0;
  for (const MergeableLaunch &launch : run) {
    firstBuffers.push_back(buffers);
    buffers += launch.op.getWorkgroupAttributions().size();
  }
  createIndexSwitch(b, which, run.size(), [&](int64_t index) {
    gpu::LaunchOp old = run[index].op;
    IRMapping mapping;
    // Its blocks count from its start; its grid is its own.
    mapping.map(old.getBlockIds().x,
                starts[index] == 0
                    ? blockId
                    : arith::SubIOp::create(b, blockId,
                                            constIndex(b, starts[index]))
                          .getResult());
    mapping.map(old.getBlockIds().y, merged.getBlockIds().y);
    mapping.map(old.getBlockIds().z, merged.getBlockIds().z);
    mapping.map(old.getGridSize().x, constIndex(b, run[index].gridX));
    mapping.map(old.getGridSize().y, merged.getGridSize().y);
    mapping.map(old.getGridSize().z, merged.getGridSize().z);
    mapping.map(old.getThreadIds().x, merged.getThreadIds().x);
    mapping.map(old.getThreadIds().y, merged.getThreadIds().y);
    mapping.map(old.getThreadIds().z, merged.getThreadIds().z);
    mapping.map(old.getBlockSize().x, merged.getBlockSize().x);
    mapping.map(old.getBlockSize().y, merged.getBlockSize().y);
    mapping.map(old.getBlockSize().z, merged.getBlockSize().z);
    for (auto [i, buffer] : llvm::enumerate(old.getWorkgroupAttributions()))
      mapping.map(buffer,
                  merged.getWorkgroupAttributions()[firstBuffers[index] + i]);
    for (Operation &op : old.getBody().front().without_terminator())
      b.clone(op, mapping);
  });
  for (const MergeableLaunch &launch : run)
    launch.op.erase();
}

struct OneBitGPUMergeLaunchesPass
    : onebit::impl::OneBitGPUMergeLaunchesBase<OneBitGPUMergeLaunchesPass> {
  using Base::Base;

  void runOnOperation() override {
    for (Block &block : getOperation().getBody()) {
      SmallVector<SmallVector<MergeableLaunch>> runs(1);
      for (Operation &op : block) {
        std::optional<MergeableLaunch> launch;
        if (auto gpuLaunch = dyn_cast<gpu::LaunchOp>(op))
          launch = matchLaunch(gpuLaunch);
        if (launch && canJoin(runs.back(), *launch)) {
          runs.back().push_back(*launch);
          continue;
        }
        if (!launch && touchesNoData(&op))
          continue;
        runs.emplace_back();
        if (launch)
          runs.back().push_back(*launch);
      }
      for (ArrayRef<MergeableLaunch> run : runs)
        if (run.size() > 1)
          merge(run);
    }
  }
};

} // namespace
