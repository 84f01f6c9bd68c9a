//===- InterchangeContractions.cpp - contiguous inner loops for contractions =//
//
// linalg-to-loops keeps an op's loop order, which puts a contraction's
// reduction innermost: every iteration loads, adds and stores the same
// output element, a chain LLVM cannot vectorize. Reordering the loops so the
// output's contiguous dimension is innermost turns the inner loop into a
// vectorizable multiply-add over rows, with the same sum order per element.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITINTERCHANGECONTRACTIONS
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// The loop order that makes the output's innermost dimension the innermost
/// loop, or std::nullopt when the op should keep its order.
std::optional<SmallVector<unsigned>> contiguousInnerOrder(linalg::LinalgOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0 ||
      op.getNumParallelLoops() == 0)
    return std::nullopt;
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (outMap.getNumResults() == 0)
    return std::nullopt;
  auto inner = dyn_cast<AffineDimExpr>(outMap.getResults().back());
  if (!inner)
    return std::nullopt;
  unsigned j = inner.getPosition();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  unsigned numLoops = iterators.size();
  bool reductionAfter = false;
  for (unsigned d = j + 1; d < numLoops; ++d)
    reductionAfter |= iterators[d] == utils::IteratorType::reduction;
  if (!reductionAfter)
    return std::nullopt;
  // Every operand that reads j must read it as its contiguous index, and only
  // there.
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    for (auto [index, expr] : llvm::enumerate(map.getResults())) {
      if (!expr.isFunctionOfDim(j))
        continue;
      auto dim = dyn_cast<AffineDimExpr>(expr);
      if (!dim || index + 1 != map.getNumResults())
        return std::nullopt;
    }
  }
  SmallVector<unsigned> order;
  for (unsigned d = 0; d < numLoops; ++d)
    if (d != j)
      order.push_back(d);
  order.push_back(j);
  return order;
}

struct OneBitInterchangeContractionsPass
    : public onebit::impl::OneBitInterchangeContractionsBase<
          OneBitInterchangeContractionsPass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> candidates;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (contiguousInnerOrder(op))
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : candidates) {
      SmallVector<unsigned> order = *contiguousInnerOrder(op);
      rewriter.setInsertionPoint(op);
      auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      if (!generic) {
        FailureOr<linalg::GenericOp> generalized =
            linalg::generalizeNamedOp(rewriter, op);
        if (failed(generalized))
          continue;
        generic = *generalized;
      }
      if (failed(linalg::interchangeGenericOp(rewriter, generic, order))) {
        generic.emitOpError("could not reorder the loops of this contraction");
        return signalPassFailure();
      }
    }
  }
};

} // namespace
