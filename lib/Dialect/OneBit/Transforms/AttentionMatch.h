//===- AttentionMatch.h - attention over a key/value cache in TOSA -*- C++ -*-===//
//
// Finds the attention that reads a layer's key/value cache in an imported
// decoder, whatever the exporter's op chain: onebit's own decoding step,
// Hugging Face Optimum and torch.onnx (eager or SDPA attention, the
// grouped-query repeat as Unsqueeze/Expand/Reshape).
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_DIALECT_ONEBIT_TRANSFORMS_ATTENTIONMATCH_H
#define ONEBIT_LIB_DIALECT_ONEBIT_TRANSFORMS_ATTENTIONMATCH_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"

#include <string>

namespace mlir::onebit {

/// The attention of one layer over `Concat(past, new)` of its keys and
/// values: softmax(scale · Q Kᵀ + mask) V, the mask aside.
struct CachedAttentionMatch {
  /// [B, Hq, T, D]: the queries (rotary applied), before any scaling.
  Value query;
  /// [B, Hkv, T, D]: the new keys and values (the Concat's second inputs).
  Value newKey, newValue;
  /// The product of every constant factor on the scores' path.
  double scale = 1.0;
  /// The result of the product with the values, [B·Hq, T, D] (as TOSA's
  /// 3-D matmul gives it): what the attention computes.
  Value output;
};

/// Matches the attention that reads `pastKey` and `pastValue` (graph inputs
/// of shape [B, Hkv, S, D]), each of which must feed only a Concat with the
/// new rows along dimension 2. Data movement (reshape, transpose, the tile
/// of a grouped-query repeat), casts and constant factors may sit anywhere
/// between the Concat and the matmuls; the additive mask is not read (see
/// onebit-resident-kv-cache). On failure, `where` is the op at which the
/// match stopped and `why` says what it expected.
FailureOr<CachedAttentionMatch> matchCachedAttention(Value pastKey,
                                                     Value pastValue,
                                                     Operation *&where,
                                                     std::string &why);

} // namespace mlir::onebit

#endif // ONEBIT_LIB_DIALECT_ONEBIT_TRANSFORMS_ATTENTIONMATCH_H
