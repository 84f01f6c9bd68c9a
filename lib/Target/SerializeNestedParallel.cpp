//===- SerializeNestedParallel.cpp - one OpenMP region per loop nest -------===//
//
// convert-scf-to-openmp makes every scf.parallel a parallel region, nested
// ones included: an inner region forks and joins once per iteration of the
// loops around it, while the outer region already keeps every core busy.
// Only the outermost parallel loop of a nest stays parallel.
//
//===----------------------------------------------------------------------===//

#include "onebit/Target/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITSERIALIZENESTEDPARALLEL
#include "onebit/Target/Passes.h.inc"
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

struct OneBitSerializeNestedParallelPass
    : public onebit::impl::OneBitSerializeNestedParallelBase<
          OneBitSerializeNestedParallelPass> {
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> nested;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (loop.getNumReductions() == 0 &&
          loop->getParentOfType<scf::ParallelOp>())
        nested.push_back(loop);
    });
    // Post-order: inner loops come first, so a loop is serialized before the
    // loop around it is cloned.
    for (scf::ParallelOp loop : nested)
      serialize(loop);
  }
};

} // namespace
