//===- KernelBuilding.h - pieces shared by the hand-shaped GPU kernels ----===//
//
// Index constants, row-major delinearization and warp reductions, used by
// onebit-gpu-sign-gemv and onebit-gpu-row-reductions.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_CONVERSION_ONEBITTOGPU_KERNELBUILDING_H
#define ONEBIT_LIB_CONVERSION_ONEBITTOGPU_KERNELBUILDING_H

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::onebit {

constexpr int64_t kWarpSize = 32;

Value constIndex(ImplicitLocOpBuilder &b, int64_t value);

/// The row-major indices of position `linear` in `shape`.
SmallVector<Value> delinearize(ImplicitLocOpBuilder &b, Value linear,
                               ArrayRef<int64_t> shape);

/// `value` combined over the 32 lanes of each warp with XOR shuffles; every
/// lane gets the result.
Value warpReduce(ImplicitLocOpBuilder &b, Value value,
                 llvm::function_ref<Value(Value, Value)> combine);

/// `value` summed over the 32 lanes of each warp.
Value warpSum(ImplicitLocOpBuilder &b, Value value);

} // namespace mlir::onebit

#endif // ONEBIT_LIB_CONVERSION_ONEBITTOGPU_KERNELBUILDING_H
