//===- SerializeNestedParallel.cpp - one OpenMP region per loop nest ------===//
//
// convert-scf-to-openmp makes every scf.parallel a parallel region, nested
// ones included: an inner region forks and joins once per iteration of the
// loops around it, while the outer region already keeps every core busy, and
// a small loop costs more to fork than to run. Only the outermost parallel
// loop of a nest with enough work stays parallel.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITSERIALIZENESTEDPARALLEL
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

void serialize(scf::ParallelOp loop) {
  OpBuilder builder(loop);
  scf::buildLoopNest(
      builder, loop.getLoc(), loop.getLowerBound(), loop.getUpperBound(),
      loop.getStep(), [&](OpBuilder &nested, Location, ValueRange ivs) {
        IRMapping mapping;
        mapping.map(loop.getInductionVars(), ivs);
        for (Operation &op : loop.getBody()->without_terminator())
          nested.clone(op, mapping);
      });
  loop.erase();
}

constexpr int64_t kUnknownTripCount = int64_t(1) << 40;

int64_t staticTripCount(Value lower, Value upper, Value step) {
  std::optional<int64_t> lb = getConstantIntValue(lower);
  std::optional<int64_t> ub = getConstantIntValue(upper);
  std::optional<int64_t> st = getConstantIntValue(step);
  if (!lb || !ub || !st || *st <= 0)
    return kUnknownTripCount;
  return std::max<int64_t>(0, llvm::divideCeil(*ub - *lb, *st));
}

int64_t saturatingMul(int64_t a, int64_t b) {
  return (a != 0 && b > kUnknownTripCount / a) ? kUnknownTripCount : a * b;
}

Operation *enclosingLoop(Operation *op) {
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp())
    if (isa<scf::ParallelOp, scf::ForOp>(parent))
      return parent;
  return nullptr;
}

/// Iterations of the innermost bodies of `loop`'s nest: its trip count times
/// that of its most expensive nested loop.
int64_t work(Operation *loop) {
  int64_t trips = 1;
  if (auto parallel = dyn_cast<scf::ParallelOp>(loop)) {
    for (auto [lb, ub, st] : llvm::zip(parallel.getLowerBound(),
                                       parallel.getUpperBound(),
                                       parallel.getStep()))
      trips = saturatingMul(trips, staticTripCount(lb, ub, st));
  } else if (auto forOp = dyn_cast<scf::ForOp>(loop)) {
    trips = staticTripCount(forOp.getLowerBound(), forOp.getUpperBound(),
                            forOp.getStep());
  }
  int64_t inner = 1;
  loop->walk([&](Operation *nested) {
    if (nested != loop && isa<scf::ParallelOp, scf::ForOp>(nested) &&
        enclosingLoop(nested) == loop)
      inner = std::max(inner, work(nested));
  });
  return saturatingMul(trips, inner);
}

struct OneBitSerializeNestedParallelPass
    : public onebit::impl::OneBitSerializeNestedParallelBase<
          OneBitSerializeNestedParallelPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<scf::ParallelOp> serial;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (loop.getNumReductions() == 0 &&
          (loop->getParentOfType<scf::ParallelOp>() ||
           loop->getParentOfType<scf::ForallOp>() ||
           work(loop) < minParallelWork))
        serial.push_back(loop);
    });
    // Post-order: inner loops come first, so a loop is serialized before the
    // loop around it is cloned.
    for (scf::ParallelOp loop : serial)
      serialize(loop);
  }
};

} // namespace
