//===- Pipelines.h - pieces the target pipelines share ----------*- C++ -*-===//

#ifndef ONEBIT_TARGET_PIPELINES_H
#define ONEBIT_TARGET_PIPELINES_H

#include "mlir/Pass/PassManager.h"

namespace mlir::onebit {

/// TOSA to linalg, arith and tensor on each function, then canonicalization:
/// what is left of a model after its onebit ops are lowered.
void addTosaLoweringPasses(OpPassManager &functionPm);

/// One-shot bufferization across function boundaries (identity layouts),
/// with results turned into caller-provided out-params: the runtime passes
/// the caller's output buffers.
void addBufferizationPasses(OpPassManager &modulePm);

} // namespace mlir::onebit

#endif // ONEBIT_TARGET_PIPELINES_H
