//===- FusePointwiseConcat.cpp - concatenations as one generic ------------===//
//
// onebit-fuse-pointwise-concat: a tensor.empty tiled along one dimension
// by tensor.insert_slice ops (what tosa.concat lowers to), whose pieces are
// slices or pointwise generics of slices, becomes one linalg.generic that
// picks each element's piece by its index and reads the sources in place.
// Elementwise fusion can then fold it into its consumer: a rotary
// embedding's rotate_half stops being three kernels of its own.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITFUSEPOINTWISECONCAT
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;

namespace {

/// A value inserted at [offset, offset + size) along the concatenated
/// dimension.
struct Piece {
  Value value;
  int64_t offset, size;
};

/// Whether `slice` takes static, unit-stride, same-rank pieces.
bool isPlainSlice(OffsetSizeAndStrideOpInterface slice, int64_t rank) {
  return slice.hasUnitStride() && !ShapedType::isDynamicShape(
                                      slice.getStaticOffsets()) &&
         !ShapedType::isDynamicShape(slice.getStaticSizes()) &&
         int64_t(slice.getStaticSizes().size()) == rank;
}

/// Whether the piece `generic` is pointwise: identity maps, all parallel,
/// one result, a body of side-effect-free ops without regions or indices.
bool isPointwise(linalg::GenericOp generic) {
  if (!generic.hasPureTensorSemantics() || generic.getNumResults() != 1 ||
      generic.getNumReductionLoops() != 0 ||
      !llvm::all_of(generic.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isIdentity(); }) ||
      !generic.getRegionOutputArgs()[0].use_empty())
    return false;
  return llvm::all_of(generic.getBody()->without_terminator(),
                      [](Operation &op) {
                        return op.getNumRegions() == 0 &&
                               !isa<linalg::IndexOp>(op) &&
                               isMemoryEffectFree(&op);
                      });
}

/// The pieces of the insert_slice chain ending at `root`, in order along
/// `axis`, covering it; failure where it is not such a chain.
FailureOr<SmallVector<Piece>> getPieces(tensor::InsertSliceOp root,
                                        int64_t &axis,
                                        tensor::EmptyOp &empty) {
  auto type = cast<RankedTensorType>(root.getType());
  if (!type.hasStaticShape())
    return failure();
  int64_t rank = type.getRank();
  SmallVector<Piece> pieces;
  axis = -1;
  Value dest = root.getResult();
  while (auto insert = dest.getDefiningOp<tensor::InsertSliceOp>()) {
    if (insert != root && !insert->hasOneUse())
      return failure();
    if (!isPlainSlice(insert, rank))
      return failure();
    ArrayRef<int64_t> offsets = insert.getStaticOffsets(),
                      sizes = insert.getStaticSizes();
    for (int64_t d = 0; d < rank; ++d) {
      if (sizes[d] == type.getDimSize(d) && offsets[d] == 0)
        continue;
      if (axis >= 0 && axis != d)
        return failure();
      axis = d;
    }
    if (axis < 0)
      return failure();
    pieces.push_back({insert.getSource(), offsets[axis], sizes[axis]});
    dest = insert.getDest();
  }
  empty = dest.getDefiningOp<tensor::EmptyOp>();
  if (!empty || pieces.size() < 2)
    return failure();
  llvm::sort(pieces,
             [](const Piece &a, const Piece &b) { return a.offset < b.offset; });
  int64_t covered = 0;
  for (const Piece &piece : pieces) {
    if (piece.offset != covered)
      return failure();
    covered += piece.size;
  }
  if (covered != type.getDimSize(axis))
    return failure();
  return pieces;
}

class PieceReader {
public:
  PieceReader(OpBuilder &b, Location loc, ArrayRef<Value> point, int64_t axis)
      : b(b), loc(loc), point(point), axis(axis) {}

  /// The element of `piece` at the result's point, its index along the
  /// axis clamped into the piece (so that every piece can be read).
  Value read(const Piece &piece) {
    Value local = arith::SubIOp::create(
        b, loc, point[axis],
        arith::ConstantIndexOp::create(b, loc, piece.offset));
    local = arith::MaxSIOp::create(
        b, loc, local, arith::ConstantIndexOp::create(b, loc, 0));
    local = arith::MinSIOp::create(
        b, loc, local, arith::ConstantIndexOp::create(b, loc, piece.size - 1));
    SmallVector<Value> at(point);
    at[axis] = local;
    return readValue(piece.value, at);
  }

private:
  Value readValue(Value value, ArrayRef<Value> at) {
    if (auto generic = value.getDefiningOp<linalg::GenericOp>();
        generic && isPointwise(generic)) {
      IRMapping mapping;
      for (auto [input, argument] :
           llvm::zip(generic.getDpsInputs(), generic.getRegionInputArgs()))
        mapping.map(argument, readSource(input, at));
      for (Operation &op : generic.getBody()->without_terminator())
        b.clone(op, mapping);
      auto yield = cast<linalg::YieldOp>(generic.getBody()->getTerminator());
      return mapping.lookupOrDefault(yield.getValues()[0]);
    }
    return readSource(value, at);
  }

  /// A slice reads its source in place; anything else is read as it is.
  Value readSource(Value value, ArrayRef<Value> at) {
    SmallVector<Value> indices(at);
    if (auto slice = value.getDefiningOp<tensor::ExtractSliceOp>();
        slice && isPlainSlice(slice, at.size()) &&
        slice.getSourceType().getRank() == int64_t(at.size())) {
      for (auto [d, offset] : llvm::enumerate(slice.getStaticOffsets()))
        if (offset != 0)
          indices[d] = arith::AddIOp::create(
              b, loc, indices[d],
              arith::ConstantIndexOp::create(b, loc, offset));
      value = slice.getSource();
    }
    return tensor::ExtractOp::create(b, loc, value, indices);
  }

  OpBuilder &b;
  Location loc;
  ArrayRef<Value> point;
  int64_t axis;
};

LogicalResult fuse(tensor::InsertSliceOp root) {
  int64_t axis;
  tensor::EmptyOp empty;
  FailureOr<SmallVector<Piece>> pieces = getPieces(root, axis, empty);
  if (failed(pieces))
    return failure();
  auto type = cast<RankedTensorType>(root.getType());
  int64_t rank = type.getRank();
  OpBuilder b(root);
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  SmallVector<Type> resultTypes = {type};
  SmallVector<Value> outputs = {empty.getResult()};
  auto generic = linalg::GenericOp::create(
      b, root.getLoc(), resultTypes, ValueRange{}, outputs,
      maps, iterators, [&](OpBuilder &nb, Location loc, ValueRange) {
        SmallVector<Value> point;
        for (int64_t d = 0; d < rank; ++d)
          point.push_back(linalg::IndexOp::create(nb, loc, d));
        PieceReader reader(nb, loc, point, axis);
        Value result = reader.read(pieces->front());
        for (const Piece &piece : llvm::drop_begin(*pieces)) {
          Value inside = arith::CmpIOp::create(
              nb, loc, arith::CmpIPredicate::sge, point[axis],
              arith::ConstantIndexOp::create(nb, loc, piece.offset));
          result = arith::SelectOp::create(nb, loc, inside,
                                           reader.read(piece), result);
        }
        linalg::YieldOp::create(nb, loc, result);
      });
  root.replaceAllUsesWith(generic.getResult(0));
  return success();
}

struct FusePointwiseConcatPass
    : onebit::impl::OneBitFusePointwiseConcatBase<FusePointwiseConcatPass> {
  void runOnOperation() override {
    // The last insert of each chain: its result is no insert's destination.
    SmallVector<tensor::InsertSliceOp> roots;
    getOperation().walk([&](tensor::InsertSliceOp insert) {
      bool last = llvm::none_of(insert->getUses(), [](OpOperand &use) {
        auto next = dyn_cast<tensor::InsertSliceOp>(use.getOwner());
        return next && next.getDest() == use.get();
      });
      if (last)
        roots.push_back(insert);
    });
    // The old chains are left dead, for the next greedy rewrite to erase.
    for (tensor::InsertSliceOp root : roots)
      (void)fuse(root);
  }
};

} // namespace
