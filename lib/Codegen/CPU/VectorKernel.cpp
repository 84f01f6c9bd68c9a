//===- VectorKernel.cpp - 1-bit products on OneBit's bytes, vectorized ---===//
//
// The CPU kernel for OneBit's own layout (bytes, LSB first): input rows in
// tiles, output rows in blocks of an scf.forall, packed rows read a chunk
// of bytes a step and bitcast to i1 lanes, so each chunk is read and
// decoded once per tile. The ±1 matrix is never formed.
//
//===----------------------------------------------------------------------===//

#include "InputTiles.h"
#include "onebit/Codegen/CPU/Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::onebit;

bool mlir::onebit::hasVectorKernel(SignPackingAttr packing) {
  return packing.getWord() == 8 && packing.getOrder() == BitOrder::LSBFirst &&
         packing.getInterleave() == 1;
}

namespace {

/// Input rows that share every decoded chunk of signs in a decode batch:
/// up to 8 rows are one tile, so each packed byte is read and decoded once.
constexpr int64_t kMaxDecodeRows = 8;
/// Rows per tile of a larger (prefill) batch: with 4 output rows per block,
/// 6 x 4 accumulators and the activation loads of a step (one per input
/// row, each used by 4 FMAs) keep the FMA units busy.
constexpr int64_t kPrefillTileRows = 6;
/// Vector accumulators of one tile (tile rows x block rows) that fit in
/// AVX-512's 32 registers beside the block's sign vectors, one activation
/// vector and the ±1 constants.
constexpr int64_t kMaxAccumulators = 24;

/// Tiles of at most this many input rows use masked adds
/// (accumulateMaskedInputs); larger ones multiply ±1 vectors, whose select
/// per output row is shared by more input rows (measured on Zen 4: masked
/// adds 1.1x faster for 2 rows, 0.94x for 3 and 4, 0.75x from 5).
constexpr int64_t kMaxMaskedRows = 2;

/// How the vector kernel walks y = x Sᵀ (the schedule's fields, with the
/// step's vector width): input rows in tiles, output rows in blocks of
/// `blockRows` (one scf.forall iteration each), packed rows `chunkBytes`
/// bytes (8 * chunkBytes activations) a step.
struct VectorKernelShape {
  int64_t chunkBytes;
  int64_t lanes;
  int64_t chunks;
  int64_t blockRows;
  bool maskedAdds;
  bool negativeIsOne;
};

/// Output rows per block for a tile: the most of 8, 4 and 2 that divide N
/// while the accumulators (with masked adds, one more per input row for
/// its sum of x) stay in registers, else 1.
int64_t selectBlockRows(int64_t tileRows, bool maskedAdds,
                        int64_t outFeatures) {
  int64_t extra = maskedAdds ? tileRows : 0;
  for (int64_t blockRows : {8, 4, 2}) {
    // From 3 input rows, 8 output rows' accumulators and ±1 vectors and
    // an activation would take more than AVX-512's 32 registers.
    if (blockRows == 8 && !maskedAdds)
      continue;
    if (outFeatures % blockRows == 0 &&
        tileRows * blockRows + extra <= kMaxAccumulators)
      return blockRows;
  }
  return 1;
}

/// A vector of f32 `value`s.
Value splat(OpBuilder &b, Location loc, VectorType type, float value) {
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(value)));
}

/// One step of a tile of several input rows: each chunk becomes a ±1
/// vector once (the mask selects -1 or 1) and multiplies-adds it into the
/// accumulator of every input row. fma with ±1 rounds exactly like the add
/// of ±x. `sums` and the result are input-row major.
SmallVector<Value> accumulateSignVectors(OpBuilder &b, Location loc,
                                         const VectorKernelShape &shape,
                                         ArrayRef<Value> xs,
                                         ArrayRef<Value> masks,
                                         ValueRange sums) {
  auto type = cast<VectorType>(xs.front().getType());
  Value plusOne = splat(b, loc, type, 1), minusOne = splat(b, loc, type, -1);
  SmallVector<Value> signs;
  for (Value mask : masks)
    signs.push_back(
        shape.negativeIsOne
            ? arith::SelectOp::create(b, loc, mask, minusOne, plusOne)
            : arith::SelectOp::create(b, loc, mask, plusOne, minusOne));
  SmallVector<Value> next;
  for (auto [i, input] : llvm::enumerate(xs))
    for (auto [r, sign] : llvm::enumerate(signs))
      next.push_back(vector::FMAOp::create(b, loc, input, sign,
                                           sums[i * masks.size() + r]));
  return next;
}

/// One step of a tile with masked adds: each (input row, output row)
/// accumulator adds that input row's x only in the lanes of the output
/// row's set bits (a select of the sum or the old value: one masked add on
/// AVX-512), and each input row keeps the plain sum of its x, after all the
/// other accumulators. combineSignedSums then gets Σ ±x from the two: one
/// vector operation per (input row, output row) and chunk, where the ±1
/// vectors cost a select per output row besides. (An infinite activation
/// under a -1 sign so gives NaN, inf - inf, instead of -inf.)
SmallVector<Value> accumulateMaskedInputs(OpBuilder &b, Location loc,
                                          ArrayRef<Value> xs,
                                          ArrayRef<Value> masks,
                                          ValueRange sums) {
  auto reassoc = arith::FastMathFlags::reassoc;
  SmallVector<Value> next;
  for (auto [i, input] : llvm::enumerate(xs))
    for (auto [r, mask] : llvm::enumerate(masks)) {
      Value sum = sums[i * masks.size() + r];
      Value added = arith::AddFOp::create(b, loc, sum, input, reassoc);
      next.push_back(arith::SelectOp::create(b, loc, mask, added, sum));
    }
  for (auto [i, input] : llvm::enumerate(xs))
    next.push_back(arith::AddFOp::create(
        b, loc, sums[xs.size() * masks.size() + i], input, reassoc));
  return next;
}

/// The vector of Σ ±x of input row `input` and output row `row` from
/// accumulateMaskedInputs's sums: the row's total minus twice the masked
/// lanes' sum when a set bit means -1, twice the masked sum minus the total
/// when it means +1.
Value combineSignedSums(OpBuilder &b, Location loc,
                        const VectorKernelShape &shape, ValueRange sums,
                        int64_t input, int64_t row, int64_t tileRows,
                        int64_t blockRows) {
  Value masked = sums[input * blockRows + row];
  Value total = sums[tileRows * blockRows + input];
  auto type = cast<VectorType>(masked.getType());
  Value twice = arith::MulFOp::create(b, loc, masked, splat(b, loc, type, 2));
  return shape.negativeIsOne ? arith::SubFOp::create(b, loc, total, twice)
                             : arith::SubFOp::create(b, loc, twice, total);
}

/// The chunk loop of one tile: `tileRows` input rows from `firstInput`
/// against `blockRows` packed rows from `firstRow`. Each step loads the
/// block's chunks once (bytes bitcast to i1 lanes) and one activation vector
/// per input row, and updates every (input row, output row) accumulator, so
/// a chunk is read and decoded once per tile whatever its size. Returns the
/// accumulators, input-row major; with masked adds, each input row's sum of
/// x follows them.
ValueRange buildTileSums(OpBuilder &b, Location loc,
                         const VectorKernelShape &shape, Value x, Value signs,
                         Value firstInput, int64_t tileRows, Value firstRow,
                         int64_t blockRows) {
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Type f32 = b.getF32Type();
  auto accType = VectorType::get({shape.lanes}, f32);
  auto byteVector = VectorType::get({shape.chunkBytes}, b.getI8Type());
  auto maskVector = VectorType::get({shape.lanes}, b.getI1Type());
  Value floatZero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  Value byteZero = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0);
  Value zeros = splat(b, loc, accType, 0);
  SmallVector<Value> rowIndices, inputIndices;
  for (int64_t r = 0; r < blockRows; ++r)
    rowIndices.push_back(arith::AddIOp::create(b, loc, firstRow, index(r)));
  for (int64_t i = 0; i < tileRows; ++i)
    inputIndices.push_back(arith::AddIOp::create(b, loc, firstInput, index(i)));

  bool masked = shape.maskedAdds;
  SmallVector<Value> initial(tileRows * blockRows + (masked ? tileRows : 0),
                             zeros);
  auto loop = scf::ForOp::create(
      b, loc, index(0), index(shape.chunks), index(1), initial,
      [&](OpBuilder &cb, Location, Value c, ValueRange sums) {
        Value column = arith::MulIOp::create(cb, loc, c, index(shape.lanes));
        Value byte = arith::MulIOp::create(cb, loc, c, index(shape.chunkBytes));
        SmallVector<Value> masks;
        for (Value row : rowIndices) {
          Value bytes = vector::TransferReadOp::create(
              cb, loc, byteVector, signs, ValueRange{row, byte}, byteZero,
              ArrayRef<bool>{true});
          masks.push_back(
              vector::BitCastOp::create(cb, loc, maskVector, bytes));
        }
        SmallVector<Value> xs;
        for (Value input : inputIndices)
          xs.push_back(vector::TransferReadOp::create(
              cb, loc, accType, x, ValueRange{input, column}, floatZero,
              ArrayRef<bool>{true}));
        scf::YieldOp::create(
            cb, loc,
            masked ? accumulateMaskedInputs(cb, loc, xs, masks, sums)
                   : accumulateSignVectors(cb, loc, shape, xs, masks, sums));
      });
  return loop.getResults();
}

/// Rows [firstInput, firstInput + tileRows) of y, written into `result`
/// ([rows, N]) by an scf.forall over blocks of output rows (OpenMP over N).
/// Each iteration writes its [tileRows, blockRows] block in place: the
/// inserts go into a slice of the shared output, not a new tensor.
Value buildTileProduct(OpBuilder &b, Location loc,
                       const VectorKernelShape &shape, Value x, Value signs,
                       Value result, Value firstInput, int64_t tileRows) {
  int64_t outFeatures = cast<RankedTensorType>(result.getType()).getDimSize(1);
  int64_t blockRows = shape.blockRows;
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(outFeatures / blockRows)},
      ValueRange{result}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  Block *body = forall.getBody();
  b.setInsertionPointToStart(body);
  Value firstRow =
      arith::MulIOp::create(b, loc, body->getArgument(0),
                            arith::ConstantIndexOp::create(b, loc, blockRows));
  SmallVector<OpFoldResult> offsets = {firstInput, firstRow};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(tileRows),
                                     b.getIndexAttr(blockRows)};
  SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
  Value block = tensor::ExtractSliceOp::create(b, loc, body->getArgument(1),
                                               offsets, sizes, strides);
  ValueRange sums = buildTileSums(b, loc, shape, x, signs, firstInput, tileRows,
                                  firstRow, blockRows);
  for (int64_t i = 0; i < tileRows; ++i) {
    for (int64_t r = 0; r < blockRows; ++r) {
      Value sum = shape.maskedAdds
                      ? combineSignedSums(b, loc, shape, sums, i, r, tileRows,
                                          blockRows)
                      : sums[i * blockRows + r];
      Value total = vector::ReductionOp::create(
          b, loc, vector::CombiningKind::ADD, sum,
          arith::FastMathFlags::reassoc);
      block = tensor::InsertOp::create(
          b, loc, total, block,
          ValueRange{arith::ConstantIndexOp::create(b, loc, i),
                     arith::ConstantIndexOp::create(b, loc, r)});
    }
  }
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, block, body->getArgument(1),
                                        offsets, sizes, strides);
  return forall.getResult(0);
}

/// `count` consecutive tiles of `tileRows` input rows from `firstInput`:
/// one scf.forall, or an scf.for over them.
Value buildTiles(OpBuilder &b, Location loc, const VectorKernelShape &shape,
                 Value x, Value signs, Value result, int64_t firstInput,
                 int64_t tileRows, int64_t count) {
  auto index = [&](OpBuilder &ib, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(ib, loc, v);
  };
  if (count == 1)
    return buildTileProduct(b, loc, shape, x, signs, result,
                            index(b, firstInput), tileRows);
  auto overTiles = scf::ForOp::create(
      b, loc, index(b, firstInput), index(b, firstInput + count * tileRows),
      index(b, tileRows), ValueRange{result},
      [&](OpBuilder &tb, Location, Value first, ValueRange args) {
        scf::YieldOp::create(tb, loc,
                             buildTileProduct(tb, loc, shape, x, signs, args[0],
                                              first, tileRows));
      });
  return overTiles.getResult(0);
}

} // namespace

/// A decode batch (up to kMaxDecodeRows) is one tile; a larger one tiles
/// of at most kPrefillTileRows. Masked adds for tiles of up to
/// kMaxMaskedRows; output rows in the largest block that fits the
/// registers; 2 bytes a step where K/8 is even.
CPUSignVectorScheduleAttr
mlir::onebit::selectVectorSchedule(MLIRContext *context, int64_t rows,
                                   int64_t wordsPerRow, int64_t outFeatures) {
  int64_t tileRows =
      rows <= kMaxDecodeRows ? std::max<int64_t>(rows, 1) : kPrefillTileRows;
  // The even cut's largest tile (its smaller ones have as many registers).
  int64_t tiles = std::max<int64_t>(llvm::divideCeil(rows, tileRows), 1);
  int64_t largest = std::max<int64_t>(llvm::divideCeil(rows, tiles), 1);
  bool maskedAdds = largest <= kMaxMaskedRows;
  return CPUSignVectorScheduleAttr::get(
      context, tileRows, selectBlockRows(largest, maskedAdds, outFeatures),
      wordsPerRow % 2 == 0 ? 2 : 1, maskedAdds);
}

LogicalResult mlir::onebit::checkVectorSchedule(
    CPUSignVectorScheduleAttr schedule, SignPackingAttr packing,
    int64_t wordsPerRow, int64_t outFeatures,
    function_ref<InFlightDiagnostic()> emitError) {
  if (!hasVectorKernel(packing))
    return emitError() << "its kernel reads OneBit's bytes, lowest input "
                          "first, not "
                       << packing;
  if (outFeatures % schedule.getBlockRows() != 0)
    return emitError() << "N = " << outFeatures
                       << " is not a multiple of block_rows";
  if (wordsPerRow % schedule.getChunkBytes() != 0)
    return emitError() << "the " << wordsPerRow
                       << " packed bytes of a row are not a multiple of "
                          "chunk_bytes";
  return success();
}

Value mlir::onebit::buildVectorPackedProduct(OpBuilder &b, Location loc,
                                             Value x, Value signs,
                                             SignPackingAttr packing,
                                             CPUSignVectorScheduleAttr schedule,
                                             int64_t outFeatures) {
  int64_t rows = cast<RankedTensorType>(x.getType()).getDimSize(0);
  int64_t wordsPerRow = cast<RankedTensorType>(signs.getType()).getDimSize(1);
  int64_t chunkBytes = schedule.getChunkBytes();
  VectorKernelShape shape{chunkBytes,
                          8 * chunkBytes,
                          wordsPerRow / chunkBytes,
                          schedule.getBlockRows(),
                          schedule.getMaskedAdds(),
                          packing.getNegative() == 1};
  Value result = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{rows, outFeatures}, b.getF32Type());
  for (const TileRun &run : splitIntoTiles(rows, schedule.getTileRows()))
    result = buildTiles(b, loc, shape, x, signs, result, run.first, run.rows,
                        run.count);
  return result;
}
