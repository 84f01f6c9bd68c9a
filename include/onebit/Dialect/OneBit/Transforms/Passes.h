//===- Passes.h - onebit transformation passes ------------------*- C++ -*-===//

#ifndef ONEBIT_DIALECT_ONEBIT_TRANSFORMS_PASSES_H
#define ONEBIT_DIALECT_ONEBIT_TRANSFORMS_PASSES_H

#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassOptions.h"

#include <cstdint>

namespace mlir {
class OpPassManager;
class RewritePatternSet;
namespace arith {
class ArithDialect;
} // namespace arith
namespace tensor {
class TensorDialect;
} // namespace tensor
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

/// Options of `onebit-fusion-pipeline` (and of onebit-compile's front).
struct FusionPipelineOptions : PassPipelineOptions<FusionPipelineOptions> {
  Option<bool> report{*this, "report",
                      llvm::cl::desc("A remark per fused layer and a summary "
                                     "(onebit-compile --fusion-report)"),
                      llvm::cl::init(false)};
  Option<bool> residentCache{
      *this, "resident-cache",
      llvm::cl::desc("Keep a decoder's key/value cache in the library "
                     "(onebit-resident-kv-cache); false: the cache stays "
                     "inputs and outputs"),
      llvm::cl::init(true)};
  Option<int64_t> maxSeqLen{
      *this, "max-seq-len",
      llvm::cl::desc("A decoder's window: most positions a session holds "
                     "(0: from the model)"),
      llvm::cl::init(0)};
};

/// The pipeline onebit-compile runs after import (--emit=onebit); onebit-opt
/// replays it as `onebit-fusion-pipeline`.
void buildFusionPipeline(OpPassManager &pm,
                         const FusionPipelineOptions &options);

/// Registers the pipelines onebit-compile runs, so onebit-opt replays them.
void registerOneBitPipelines();

#define GEN_PASS_REGISTRATION
#include "onebit/Dialect/OneBit/Transforms/Passes.h.inc"

} // namespace onebit
} // namespace mlir

#endif // ONEBIT_DIALECT_ONEBIT_TRANSFORMS_PASSES_H
