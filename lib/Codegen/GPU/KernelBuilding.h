//===- KernelBuilding.h - pieces shared by the hand-shaped GPU kernels ----===//
//
// Index and bit-pattern constants, scheduled products and their sizes,
// row-major delinearization and warp reductions, used by
// onebit-gpu-sign-gemv, onebit-gpu-sign-mma and onebit-gpu-row-reductions.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_LIB_CONVERSION_ONEBITTOGPU_KERNELBUILDING_H
#define ONEBIT_LIB_CONVERSION_ONEBITTOGPU_KERNELBUILDING_H

#include "onebit/Codegen/Common/PackedSignProduct.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::onebit {

constexpr int64_t kWarpSize = 32;

Value constIndex(ImplicitLocOpBuilder &b, int64_t value);

/// An i32 constant with the bits of `value` (sign masks, f16 pairs).
Value constI32(ImplicitLocOpBuilder &b, uint32_t value);

/// The sizes of a packed-sign product, x [M, K] -> y [M, N], where static:
/// tensors (schedule selection) or buffers (the kernels).
struct ProductSizes {
  int64_t rows, inFeatures, outFeatures;
  Type xElement, yElement;
};
FailureOr<ProductSizes> getProductSizes(PackedSignProductOp product);

/// Builds the kernel of every onebit.packed_sign_product under `root` whose
/// schedule is a `ScheduleAttr`: `getShape` reads the schedule against the
/// product's sizes (or reports why it cannot run it), `buildKernel` builds
/// that shape with the packing's meaning of a set bit (true: -1). A
/// scheduled product the kernels cannot read (tensors, dynamic sizes, a
/// packing other than OneBit's bytes, buffers with layouts other than the
/// identity) is an error on the product, as is a shape `getShape` refuses;
/// fails after any.
template <typename ScheduleAttr, typename Shape>
LogicalResult buildScheduledProducts(
    Operation *root,
    FailureOr<Shape> (*getShape)(const ProductSizes &, ScheduleAttr,
                                 llvm::function_ref<InFlightDiagnostic()>),
    void (*buildKernel)(PackedSignProductOp, const Shape &, bool));

/// The scheduled products of `root` whose schedule satisfies `isMine`,
/// each with its sizes and packing, or failure after reporting one the
/// kernels cannot read.
struct ScheduledProduct {
  PackedSignProductOp product;
  ProductSizes sizes;
  SignPackingAttr packing;
  Attribute schedule;
};
FailureOr<SmallVector<ScheduledProduct>>
getScheduledProducts(Operation *root,
                     llvm::function_ref<bool(Attribute)> isMine);

template <typename ScheduleAttr, typename Shape>
LogicalResult buildScheduledProducts(
    Operation *root,
    FailureOr<Shape> (*getShape)(const ProductSizes &, ScheduleAttr,
                                 llvm::function_ref<InFlightDiagnostic()>),
    void (*buildKernel)(PackedSignProductOp, const Shape &, bool)) {
  FailureOr<SmallVector<ScheduledProduct>> products = getScheduledProducts(
      root, [](Attribute schedule) { return isa<ScheduleAttr>(schedule); });
  if (failed(products))
    return failure();
  bool failedAny = false;
  for (ScheduledProduct &scheduled : *products) {
    PackedSignProductOp product = scheduled.product;
    FailureOr<Shape> shape =
        getShape(scheduled.sizes, cast<ScheduleAttr>(scheduled.schedule),
                 [&] { return product.emitOpError(); });
    if (failed(shape)) {
      failedAny = true;
      continue;
    }
    buildKernel(product, *shape, scheduled.packing.getNegative() == 1);
  }
  return failure(failedAny);
}

/// A gpu.launch of gridX x gridY blocks of blockX threads with the workgroup
/// buffers `workgroup`, whose outlined kernel gpu-kernel-outlining names
/// `kernelName` (what profilers show), with its terminator; `b` is left at
/// the start of its body.
gpu::LaunchOp createNamedLaunch(ImplicitLocOpBuilder &b, StringRef kernelName,
                                Value gridX, Value gridY, Value blockX,
                                TypeRange workgroup);

/// `value` without the reshapes (memref.expand_shape, collapse_shape) in
/// front of it: the buffer it views.
Value getBufferRoot(Value value);

/// The allocation, argument or global that `buffer` views through any view
/// op (getBufferRoot's reshapes, subviews, views, casts): buffers of
/// different alias roots never overlap.
Value getAliasRoot(Value buffer);

/// Whether `op` neither reads nor writes buffer contents (allocations,
/// views, constants).
bool touchesNoData(Operation *op);

/// Whether `first` and `second` (linalg ops on buffers, gpu.launch ops, ...)
/// may run in either order or at once: neither writes a buffer the other
/// touches, by the memory effects of the ops in them (an op without them
/// reads and writes every buffer it uses). Buffers are told apart by the
/// allocation, argument or global they view; distinct ones never alias.
bool areIndependent(Operation *first, Operation *second);

/// Whether `op` can be evaluated at one point of its iteration space inside
/// a kernel: on buffers, all parallel, one output with an identity map that
/// its body does not read, operands indexed by dimensions or constants, a
/// body of side-effect-free ops without regions.
bool isPointwiseGeneric(linalg::GenericOp op);

/// The indices `map` (of dimensions and constants) gives at loop point
/// `point`.
SmallVector<Value> getMapIndices(ImplicitLocOpBuilder &b, AffineMap map,
                                 ArrayRef<Value> point);

/// What the pointwise generic `op` computes at loop point `point`: its
/// buffer inputs loaded there, except those for which `getInput` (if
/// given) returns a value.
Value evaluatePointwiseGeneric(
    ImplicitLocOpBuilder &b, linalg::GenericOp op, ArrayRef<Value> point,
    llvm::function_ref<Value(OpOperand *)> getInput = nullptr);

/// An scf.index_switch on `which` with cases 0 to count - 1, each built by
/// `buildCase(i)` (the builder inside it, before its yield), and an empty
/// default.
void createIndexSwitch(ImplicitLocOpBuilder &b, Value which, int64_t count,
                       llvm::function_ref<void(int64_t)> buildCase);

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
