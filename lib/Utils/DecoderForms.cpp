//===- DecoderForms.cpp - the inputs and outputs of decoder steps ---------===//

#include "onebit/Utils/DecoderForms.h"

using namespace mlir::onebit;

/// `prefix` N `suffix` with N a layer number.
static bool matchLayer(llvm::StringRef name, llvm::StringRef prefix,
                       llvm::StringRef suffix, int64_t &layer) {
  if (!name.consume_front(prefix) || !name.consume_back(suffix))
    return false;
  unsigned long long value;
  if (name.empty() || name.getAsInteger(10, value) || value > (1u << 20))
    return false;
  layer = int64_t(value);
  return true;
}

DecoderName mlir::onebit::classifyDecoderInput(llvm::StringRef name) {
  DecoderName result;
  if (name == "input_ids")
    return {DecoderTensor::InputIds, DecoderForm::None, -1};
  if (name == "position")
    return {DecoderTensor::Position, DecoderForm::OneBit, -1};
  if (name == "attention_mask")
    return {DecoderTensor::AttentionMask, DecoderForm::Optimum, -1};
  if (name == "position_ids")
    return {DecoderTensor::PositionIds, DecoderForm::Optimum, -1};
  if (matchLayer(name, "past_key.", "", result.layer))
    return {DecoderTensor::PastKey, DecoderForm::OneBit, result.layer};
  if (matchLayer(name, "past_value.", "", result.layer))
    return {DecoderTensor::PastValue, DecoderForm::OneBit, result.layer};
  if (matchLayer(name, "past_key_values.", ".key", result.layer))
    return {DecoderTensor::PastKey, DecoderForm::Optimum, result.layer};
  if (matchLayer(name, "past_key_values.", ".value", result.layer))
    return {DecoderTensor::PastValue, DecoderForm::Optimum, result.layer};
  return result;
}

DecoderName mlir::onebit::classifyDecoderOutput(llvm::StringRef name) {
  DecoderName result;
  if (matchLayer(name, "key.", "", result.layer))
    return {DecoderTensor::NewKey, DecoderForm::OneBit, result.layer};
  if (matchLayer(name, "value.", "", result.layer))
    return {DecoderTensor::NewValue, DecoderForm::OneBit, result.layer};
  if (matchLayer(name, "present.", ".key", result.layer))
    return {DecoderTensor::PresentKey, DecoderForm::Optimum, result.layer};
  if (matchLayer(name, "present.", ".value", result.layer))
    return {DecoderTensor::PresentValue, DecoderForm::Optimum, result.layer};
  return result;
}
