//===- SignLayout.h - addressing packed sign matrices -----------*- C++ -*-===//
//
// Maps sign (n, k) of an N x K matrix to its word and bit in the layout a
// #onebit.sign_packing attribute describes, and packs / unpacks whole
// matrices held as host arrays. The folders, the importer's fusion and the
// backends' weight emission all use this one definition of the layout.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_DIALECT_ONEBIT_IR_SIGNLAYOUT_H
#define ONEBIT_DIALECT_ONEBIT_IR_SIGNLAYOUT_H

#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include <cstdint>
#include <vector>

namespace mlir::onebit {

class SignLayout {
public:
  SignLayout(SignPackingAttr packing, int64_t outFeatures, int64_t inFeatures);

  int64_t getOutFeatures() const { return outFeatures; }
  int64_t getInFeatures() const { return inFeatures; }
  int64_t getWordsPerRow() const { return wordsPerRow; }
  unsigned getWordBits() const { return wordBits; }
  int64_t getNumWords() const { return outFeatures * wordsPerRow; }
  /// Distance, in words, between consecutive words of one row.
  int64_t getWordStride() const { return interleave; }

  /// Linear (row-major) index, in the packed tensor, of the word that holds
  /// sign (n, k).
  int64_t wordIndex(int64_t n, int64_t k) const;
  /// Bit position of sign (n, k) inside its word, 0 = least significant.
  unsigned bitIndex(int64_t k) const;

  /// Packs a row-major N x K matrix of signs (true = -1) into words.
  std::vector<uint64_t> pack(const std::vector<bool> &negative) const;
  /// Unpacks words into a row-major N x K matrix of signs (true = -1).
  std::vector<bool> unpack(llvm::ArrayRef<uint64_t> words) const;

private:
  unsigned wordBits;
  bool msbFirst;
  bool negativeBit;
  int64_t interleave;
  int64_t outFeatures, inFeatures, wordsPerRow;
};

} // namespace mlir::onebit

#endif // ONEBIT_DIALECT_ONEBIT_IR_SIGNLAYOUT_H
