//===- SignLayout.cpp - addressing packed sign matrices -------------------===//

#include "onebit/Dialect/OneBit/IR/SignLayout.h"

using namespace mlir;
using namespace mlir::onebit;

SignLayout::SignLayout(SignPackingAttr packing, int64_t outFeatures,
                       int64_t inFeatures)
    : wordBits(packing.getWord()),
      msbFirst(packing.getOrder() == BitOrder::MSBFirst),
      negativeBit(packing.getNegative() == 1),
      interleave(packing.getInterleave()), outFeatures(outFeatures),
      inFeatures(inFeatures),
      wordsPerRow(packing.getWordsPerRow(inFeatures)) {}

int64_t SignLayout::wordIndex(int64_t n, int64_t k) const {
  int64_t w = k / wordBits;
  if (interleave == 1)
    return n * wordsPerRow + w;
  return ((n / interleave) * wordsPerRow + w) * interleave + n % interleave;
}

unsigned SignLayout::bitIndex(int64_t k) const {
  unsigned bit = k % wordBits;
  return msbFirst ? wordBits - 1 - bit : bit;
}

std::vector<uint64_t> SignLayout::pack(const std::vector<bool> &negative) const {
  // Padding bits must read as 0 whatever `negative` means, so start from 0
  // and set each bit that differs from it.
  std::vector<uint64_t> words(getNumWords(), 0);
  for (int64_t n = 0; n < outFeatures; ++n)
    for (int64_t k = 0; k < inFeatures; ++k)
      if (negative[n * inFeatures + k] == negativeBit)
        words[wordIndex(n, k)] |= uint64_t(1) << bitIndex(k);
  return words;
}

std::vector<bool> SignLayout::unpack(llvm::ArrayRef<uint64_t> words) const {
  std::vector<bool> negative(outFeatures * inFeatures);
  for (int64_t n = 0; n < outFeatures; ++n)
    for (int64_t k = 0; k < inFeatures; ++k) {
      bool bit = (words[wordIndex(n, k)] >> bitIndex(k)) & 1;
      negative[n * inFeatures + k] = bit == negativeBit;
    }
  return negative;
}
