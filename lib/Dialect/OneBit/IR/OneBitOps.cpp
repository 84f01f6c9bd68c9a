//===- OneBitOps.cpp - onebit operations ----------------------------------===//

#include "onebit/Dialect/OneBit/IR/OneBitOps.h"
#include "onebit/Dialect/OneBit/IR/ConstantVector.h"
#include "onebit/Dialect/OneBit/IR/SignLayout.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/Support/FormatVariadic.h"

#include <cstring>

using namespace mlir;
using namespace mlir::onebit;

/// Prints a shape as [a, b, c] for diagnostics.
static std::string formatShape(ArrayRef<int64_t> shape) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(shape, os, [&](int64_t dim) {
    if (ShapedType::isDynamic(dim))
      os << "?";
    else
      os << dim;
  });
  os << "]";
  return text;
}

/// Checks that `signs` is the packed form of an N x K sign matrix in
/// `packing`: element width and shape.
static LogicalResult verifyPackedSigns(Operation *op, StringRef operandName,
                                       RankedTensorType signsType,
                                       SignPackingAttr packing,
                                       int64_t outFeatures,
                                       int64_t inFeatures) {
  auto elementType = cast<IntegerType>(signsType.getElementType());
  if (elementType.getWidth() != packing.getWord())
    return op->emitOpError() << "'" << operandName << "' element type must be "
                             << packing.getWord()
                             << "-bit integers to match the packing word, got "
                             << elementType;
  if (outFeatures % packing.getInterleave() != 0)
    return op->emitOpError()
           << "has " << outFeatures
           << " outputs, not a multiple of the packing interleave "
           << packing.getInterleave();
  SmallVector<int64_t> expected =
      packing.getPackedShape(outFeatures, inFeatures);
  if (signsType.getShape() != ArrayRef<int64_t>(expected))
    return op->emitOpError()
           << "'" << operandName << "' must have shape "
           << formatShape(expected) << " for " << outFeatures << " outputs x "
           << inFeatures << " inputs in this packing, got "
           << formatShape(signsType.getShape());
  return success();
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

int64_t LinearOp::getInFeatures() {
  return getInput().getType().getShape().back();
}

int64_t LinearOp::getOutFeatures() {
  return getResult().getType().getShape().back();
}

LogicalResult LinearOp::verify() {
  RankedTensorType inputType = getInput().getType();
  RankedTensorType resultType = getResult().getType();
  if (inputType.getRank() == 0)
    return emitOpError() << "'input' must have rank at least 1";
  if (resultType.getRank() != inputType.getRank())
    return emitOpError() << "result must have the rank of 'input' ("
                         << inputType.getRank() << "), got "
                         << resultType.getRank();
  if (resultType.getElementType() != inputType.getElementType())
    return emitOpError() << "result element type must match 'input' ("
                         << inputType.getElementType() << "), got "
                         << resultType.getElementType();
  int64_t inFeatures = getInFeatures();
  int64_t outFeatures = getOutFeatures();
  if (ShapedType::isDynamic(inFeatures))
    return emitOpError() << "'input' must have a static last dimension (K)";
  if (ShapedType::isDynamic(outFeatures))
    return emitOpError() << "result must have a static last dimension (N)";
  for (auto [dim, inputDim, resultDim] :
       llvm::enumerate(inputType.getShape().drop_back(),
                       resultType.getShape().drop_back()))
    if (inputDim != resultDim)
      return emitOpError() << "result dimension " << dim << " must match "
                           << "'input' (" << formatShape(inputType.getShape())
                           << " -> " << formatShape(resultType.getShape())
                           << ")";

  if (failed(verifyPackedSigns(*this, "signs", getSigns().getType(),
                               getPacking(), outFeatures, inFeatures)))
    return failure();

  auto checkVector = [&](Value vector, StringRef name,
                         int64_t size) -> LogicalResult {
    if (!vector)
      return success();
    auto type = cast<RankedTensorType>(vector.getType());
    if (type.getDimSize(0) != size)
      return emitOpError() << "'" << name << "' must have " << size
                           << " elements, got "
                           << formatShape(type.getShape());
    return success();
  };
  if (failed(checkVector(getInputScale(), "input_scale", inFeatures)) ||
      failed(checkVector(getOutputScale(), "output_scale", outFeatures)) ||
      failed(checkVector(getBias(), "bias", outFeatures)))
    return failure();

  if (std::optional<APFloat> epsilon = getNormEpsilon())
    if (epsilon->isNegative() || epsilon->isNaN())
      return emitOpError() << "norm epsilon must be a non-negative number";
  return success();
}

//===----------------------------------------------------------------------===//
// PackSignsOp
//===----------------------------------------------------------------------===//

LogicalResult PackSignsOp::verify() {
  RankedTensorType inputType = getInput().getType();
  if (inputType.getRank() != 2 || !inputType.hasStaticShape())
    return emitOpError() << "'input' must be a static N x K matrix, got "
                         << inputType;
  return verifyPackedSigns(*this, "result", getResult().getType(),
                           getPacking(), inputType.getDimSize(0),
                           inputType.getDimSize(1));
}

/// Builds the dense constant of `type` holding `words`.
static DenseElementsAttr getWordsAttr(RankedTensorType type,
                                      ArrayRef<uint64_t> words) {
  unsigned width = type.getElementTypeBitWidth();
  SmallVector<APInt> values;
  values.reserve(words.size());
  for (uint64_t word : words)
    values.emplace_back(width, word);
  return DenseElementsAttr::get(type, values);
}

OpFoldResult PackSignsOp::fold(FoldAdaptor adaptor) {
  // pack(unpack(x)) is x when both use this layout.
  if (auto unpack = getInput().getDefiningOp<UnpackSignsOp>())
    if (unpack.getPacking() == getPacking() &&
        unpack.getInput().getType() == getType())
      return unpack.getInput();
  auto input = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput());
  if (!input)
    return {};
  RankedTensorType inputType = getInput().getType();
  SignLayout layout(getPacking(), inputType.getDimSize(0),
                    inputType.getDimSize(1));
  std::vector<bool> negative;
  negative.reserve(input.getNumElements());
  if (isa<FloatType>(input.getElementType())) {
    for (const APFloat &value : input.getValues<APFloat>())
      negative.push_back(value.isNegative() && !value.isZero() &&
                         !value.isNaN());
  } else {
    for (const APInt &value : input.getValues<APInt>())
      negative.push_back(value.isNegative());
  }
  return getWordsAttr(getResult().getType(), layout.pack(negative));
}

//===----------------------------------------------------------------------===//
// UnpackSignsOp
//===----------------------------------------------------------------------===//

LogicalResult UnpackSignsOp::verify() {
  RankedTensorType resultType = getResult().getType();
  if (resultType.getRank() != 2 || !resultType.hasStaticShape())
    return emitOpError() << "result must be a static N x K matrix, got "
                         << resultType;
  return verifyPackedSigns(*this, "input", getInput().getType(), getPacking(),
                           resultType.getDimSize(0), resultType.getDimSize(1));
}

//===----------------------------------------------------------------------===//
// RepackOp
//===----------------------------------------------------------------------===//

/// N, recovered from a packed tensor shape and its packing.
static int64_t getOutFeatures(RankedTensorType packedType,
                              SignPackingAttr packing) {
  if (packing.getInterleave() == 1 || packedType.getRank() != 3)
    return packedType.getDimSize(0);
  return packedType.getDimSize(0) * packedType.getDimSize(2);
}

LogicalResult RepackOp::verify() {
  RankedTensorType inputType = getInput().getType();
  if (!inputType.hasStaticShape() || inputType.getRank() < 2)
    return emitOpError() << "'input' must be a static packed sign tensor, got "
                         << inputType;
  int64_t outFeatures = ::getOutFeatures(inputType, getSource());
  int64_t inFeatures = getInFeatures();
  if (failed(verifyPackedSigns(*this, "input", inputType, getSource(),
                               outFeatures, inFeatures)))
    return failure();
  return verifyPackedSigns(*this, "result", getResult().getType(),
                           getTarget(), outFeatures, inFeatures);
}

/// Copies every word of `from`'s rows to its place in `to`, as `Word`s.
template <typename Word>
static void copyWords(const char *source, char *target, const SignLayout &from,
                      const SignLayout &to) {
  int64_t words = from.getWordsPerRow();
  int64_t fromStride = from.getWordStride(), toStride = to.getWordStride();
  for (int64_t n = 0, rows = from.getOutFeatures(); n < rows; ++n) {
    const char *in = source + from.wordIndex(n, 0) * sizeof(Word);
    char *out = target + to.wordIndex(n, 0) * sizeof(Word);
    for (int64_t w = 0; w < words; ++w)
      std::memcpy(out + w * toStride * sizeof(Word),
                  in + w * fromStride * sizeof(Word), sizeof(Word));
  }
}

/// Repacks between layouts that differ only in their interleave, which
/// moves whole words: a copy of the bytes, fast enough for the weights of
/// a 7B model, where unpacking every sign is not. A large constant stays a
/// dense_resource.
static Attribute permuteWords(RankedTensorType resultType, ArrayRef<char> raw,
                              const SignLayout &from, const SignLayout &to) {
  std::vector<char> bytes(raw.size());
  switch (from.getWordBits()) {
  case 8:
    copyWords<uint8_t>(raw.data(), bytes.data(), from, to);
    break;
  case 16:
    copyWords<uint16_t>(raw.data(), bytes.data(), from, to);
    break;
  case 32:
    copyWords<uint32_t>(raw.data(), bytes.data(), from, to);
    break;
  default:
    copyWords<uint64_t>(raw.data(), bytes.data(), from, to);
    break;
  }
  constexpr size_t kResourceBytes = 4096;
  if (bytes.size() < kResourceBytes)
    return DenseElementsAttr::getFromRawBuffer(resultType, bytes);
  return DenseResourceElementsAttr::get(
      resultType, "repacked_signs",
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<char>(bytes)));
}

OpFoldResult RepackOp::fold(FoldAdaptor adaptor) {
  if (getSource() == getTarget() && getInput().getType() == getType())
    return getInput();
  int64_t outFeatures = ::getOutFeatures(getInput().getType(), getSource());
  SignLayout from(getSource(), outFeatures, getInFeatures());
  SignLayout to(getTarget(), outFeatures, getInFeatures());
  SignPackingAttr source = getSource(), target = getTarget();
  if (source.getWord() == target.getWord() &&
      source.getOrder() == target.getOrder() &&
      source.getNegative() == target.getNegative())
    if (std::optional<ArrayRef<char>> raw = getRawElementBytes(adaptor.getInput());
        raw && int64_t(raw->size()) * 8 ==
                   from.getNumWords() * from.getWordBits())
      return permuteWords(getType(), *raw, from, to);
  auto input = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  if (!input)
    return {};
  std::vector<uint64_t> words;
  words.reserve(input.getNumElements());
  for (const APInt &word : input.getValues<APInt>())
    words.push_back(word.getZExtValue());
  return getWordsAttr(getResult().getType(), to.pack(from.unpack(words)));
}

#define GET_OP_CLASSES
#include "onebit/Dialect/OneBit/IR/OneBitOps.cpp.inc"
