//===- ElementwiseFolds.h - neighbours evaluated inside a product kernel --===//
//
// The hand-shaped product kernels (onebit-gpu-sign-gemv, onebit-gpu-sign-mma)
// evaluate the elementwise generic that writes their activations (x * g)
// where they load them and the one that reads their sums (* h, a cast) where
// they store them, and drop the zero fill they would accumulate onto: each
// saves a kernel launch and a round trip through memory.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_CONVERSION_ONEBITTOGPU_ELEMENTWISEFOLDS_H
#define ONEBIT_LIB_CONVERSION_ONEBITTOGPU_ELEMENTWISEFOLDS_H

#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <optional>

namespace mlir::onebit {

/// An elementwise linalg.generic folded into the kernel: the prologue writes
/// the activations, the epilogue reads the sums.
struct ElementwiseFold {
  linalg::GenericOp op;
  OpOperand *link = nullptr; // the prologue's output or the epilogue's input
  Value root;                // the buffer between them and the product
};

/// What a product kernel takes over from its neighbours.
struct ProductFolds {
  /// The zero fill of y was erased: the kernel stores its sums instead of
  /// adding them to y.
  bool overwrite = false;
  std::optional<ElementwiseFold> prologue, epilogue;
};

/// Finds (and, for the zero fill, erases) what the kernel replacing
/// `product` (x [M, K], signs -> y [M, N], accumulated onto y) folds: the
/// zero fill of y, a prologue when only it and the product use x's buffer,
/// an epilogue when only the product and it use y's (and the fill is gone).
/// The data-free ops between the product and the epilogue move before the
/// product, so the kernel may use what they define. Without `foldPrologue`
/// the prologue stays a kernel of its own (where the product kernel would
/// evaluate it many times over).
ProductFolds collectProductFolds(PackedSignProductOp product,
                                 bool foldPrologue = true);

/// Erases the folded generics and their buffers (after the kernel is built).
void eraseProductFolds(const ProductFolds &folds);

/// Activation x[row, k] of a product with `inFeatures` inputs, through the
/// prologue if there is one.
Value loadActivation(ImplicitLocOpBuilder &b, const ProductFolds &folds,
                     Value x, Value row, Value k, int64_t inFeatures);

/// Whether loadActivations can read `width` activations at once: no
/// prologue, or one whose inputs are contiguous (or constant) along x's
/// rows and whose body maps elementwise over vectors.
bool canLoadActivations(const ProductFolds &folds, int64_t width);

/// Activations x[row, k .. k + width) as one vector (k a multiple of
/// `width`), through the prologue if there is one (canLoadActivations).
Value loadActivations(ImplicitLocOpBuilder &b, const ProductFolds &folds,
                      Value x, Value row, Value k, int64_t inFeatures,
                      int64_t width);

/// Stores `sum` as y[row, column] of a product with `outFeatures` outputs:
/// added to y's value unless the fill was erased, through the epilogue if
/// there is one.
void storeSum(ImplicitLocOpBuilder &b, const ProductFolds &folds, Value y,
              Value row, Value column, int64_t outFeatures, Value sum);

} // namespace mlir::onebit

#endif // ONEBIT_LIB_CONVERSION_ONEBITTOGPU_ELEMENTWISEFOLDS_H
