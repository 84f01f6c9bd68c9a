//===- RowSteps.h - the ops a row-reduction kernel runs ---------*- C++ -*-===//
//
// The analysis half of onebit-gpu-row-reductions (RowSteps.cpp): which ops
// are row reductions or row-local elementwise steps, how steps group into
// one kernel's rows and independent chains, and how a step addresses its
// buffers. RowReductionKernel.cpp emits the kernels.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_CODEGEN_GPU_ROWSTEPS_H
#define ONEBIT_LIB_CODEGEN_GPU_ROWSTEPS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace mlir::onebit::row_steps {

/// A row reduction the kernel can take.
struct RowReduction {
  linalg::GenericOp op;
  Operation *combiner;           // the op that folds a value into the output's
  Value value;                   // what the combiner folds in
  SmallVector<int64_t> rowShape; // the parallel loops' sizes
  int64_t rowSize;
};

/// One op of a row group: per block (one row), a row reduction or an
/// elementwise linalg.generic or linalg.fill over the row's elements.
struct RowStep {
  Operation *op;
  std::optional<RowReduction> reduction;
  SmallVector<int64_t> ranges; // the op's loop sizes
  unsigned rowLoops = 0;       // leading loops that pick the row
  /// A reduction's output value before it, where a fill it absorbed set
  /// it (foldFillsIntoReductions): not loaded again.
  Value initial;
};

/// A row group: steps a kernel with one block per row runs in order.
struct RowGroup {
  SmallVector<RowStep> steps;
  int64_t rows;
};

/// How a step's access to `buffer` through `map` addresses the buffer's
/// root (identity layouts, reshapes only): element e of the block's row,
/// at row * (the row's elements) + e (the identity map on a buffer shaped
/// like the step's loops), or the row's only element, at row (the row
/// loops in order, then a buffer dimension of 1).
enum class RowAccess { Element, RowScalar, Other };

inline int64_t product(ArrayRef<int64_t> sizes) {
  int64_t result = 1;
  for (int64_t size : sizes)
    result *= size;
  return result;
}

/// The row reduction `op` is, where a block per row can run it: rows of at
/// least `minRowSize` elements, at most `maxRows` rows.
std::optional<RowReduction>
matchRowReduction(linalg::GenericOp op, int64_t minRowSize, int64_t maxRows);

/// The buffer a step writes.
Value getOutput(const RowStep &step);

/// The elements of one row a step covers.
int64_t getRowElements(const RowStep &step);

RowAccess classify(const RowStep &step, Value buffer, AffineMap map);

/// What the elementwise step computes at loop point `point`.
Value computeElementwise(ImplicitLocOpBuilder &b, const RowStep &step,
                         ArrayRef<Value> point,
                         llvm::function_ref<Value(OpOperand *)> getInput);

/// Splits `steps` into chains that touch disjoint written buffers: steps
/// of one chain run in order, chains at once.
SmallVector<SmallVector<RowStep>> splitIntoChains(ArrayRef<RowStep> steps);

/// Drops from `chain` each fill that the next step touching its buffer
/// reduces into, over exactly the filled elements (RowStep::initial).
void foldFillsIntoReductions(SmallVectorImpl<RowStep> &chain);

/// Moves each row step of `block` down past the kernels after it that it
/// does not depend on (nor they on it).
void sinkRowStepsPastKernels(Block &block, int64_t minRowSize, int64_t maxRows);

/// The row groups among the top-level ops of `block`.
SmallVector<RowGroup> collectRowGroups(Block &block, int64_t minRowSize,
                                       int64_t maxRows);

} // namespace mlir::onebit::row_steps

#endif // ONEBIT_LIB_CODEGEN_GPU_ROWSTEPS_H
