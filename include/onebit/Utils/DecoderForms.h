//===- DecoderForms.h - the inputs and outputs of decoder steps -*- C++ -*-===//
//
// The names by which a decoding step's graph says what its inputs and
// outputs are, in the two forms onebit keeps the cache of (docs/decoding.md):
// onebit's own (`past_key.i` in, `key.i` out, `position`) and Hugging Face
// Optimum's / torch.onnx's (`past_key_values.i.key` in, `present.i.key`
// out, `attention_mask`, `position_ids`).
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_UTILS_DECODERFORMS_H
#define ONEBIT_UTILS_DECODERFORMS_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>

namespace mlir::onebit {

enum class DecoderForm { None, OneBit, Optimum };

enum class DecoderTensor {
  Other,
  InputIds,      // [B, T] token ids
  Position,      // onebit: [1], the positions already in the cache
  AttentionMask, // Optimum: [B, past + T]
  PositionIds,   // Optimum: [B, T]
  PastKey,       // [B, Hkv, past, D]
  PastValue,
  NewKey, // onebit: [B, Hkv, T, D], the new rows alone
  NewValue,
  PresentKey, // Optimum: [B, Hkv, past + T, D], Concat(past, new)
  PresentValue,
};

struct DecoderName {
  DecoderTensor kind = DecoderTensor::Other;
  DecoderForm form = DecoderForm::None;
  /// The layer of a cache tensor, else -1.
  int64_t layer = -1;
};

/// What the graph input named `name` is.
DecoderName classifyDecoderInput(llvm::StringRef name);
/// What the graph output named `name` is.
DecoderName classifyDecoderOutput(llvm::StringRef name);

} // namespace mlir::onebit

#endif // ONEBIT_UTILS_DECODERFORMS_H
