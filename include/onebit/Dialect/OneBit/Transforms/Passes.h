//===- Passes.h - onebit transformation passes ------------------*- C++ -*-===//

#ifndef ONEBIT_DIALECT_ONEBIT_TRANSFORMS_PASSES_H
#define ONEBIT_DIALECT_ONEBIT_TRANSFORMS_PASSES_H

#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"

#include "mlir/Pass/Pass.h"

#include <cstdint>

namespace mlir {
class OpPassManager;
class RewritePatternSet;
namespace arith {
class ArithDialect;
} // namespace arith
namespace tosa {
class TosaDialect;
} // namespace tosa

namespace onebit {

#define GEN_PASS_DECL
#include "onebit/Dialect/OneBit/Transforms/Passes.h.inc"

/// Patterns rewriting onebit.linear into onebit.unpack_signs and TOSA ops.
void populateExpandLinearPatterns(RewritePatternSet &patterns);

/// What onebit-fuse-linear fused, by encoding.
struct FusionStatistics {
  int64_t packed = 0, signMatrix = 0, mergedScales = 0;
  int64_t bytesBefore = 0, bytesAfter = 0;
};

/// Patterns fusing 1-bit layer encodings, LayerNorm and bias into
/// onebit.linear; `statistics` (optional) counts what they fuse.
void populateFuseLinearPatterns(RewritePatternSet &patterns,
                                FusionStatistics *statistics = nullptr,
                                bool remarks = false);

/// The pipeline onebit-compile runs after import (--emit=onebit); onebit-opt
/// replays it as `onebit-fusion-pipeline`.
void buildFusionPipeline(OpPassManager &pm, bool report = false);

/// Registers the pipelines onebit-compile runs, so onebit-opt replays them.
void registerOneBitPipelines();

#define GEN_PASS_REGISTRATION
#include "onebit/Dialect/OneBit/Transforms/Passes.h.inc"

} // namespace onebit
} // namespace mlir

#endif // ONEBIT_DIALECT_ONEBIT_TRANSFORMS_PASSES_H
