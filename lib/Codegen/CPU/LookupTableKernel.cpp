//===- LookupTableKernel.cpp - 1-bit products by tables of sums -----------===//
//
// A byte of a packed row holds two groups of 4 signs. For each input row
// and group g, a table holds the 16 sums ±x[4g] ±x[4g+1] ±x[4g+2] ±x[4g+3],
// entry i taking the signs that the 4 bits of i stand for. With the rows
// interleaved by 16, one 16-byte load gives the bytes of 16 output rows; each
// nibble, zero-extended to a 32-bit lane, is an index into the table of its
// group, and one lookup reads all 16 rows' sums. Lookups are gathers from
// one table row of 16 floats; onebit-gather-to-permute makes each one AVX-512
// `vpermps` after bufferization. A step of 8 weights of 16 rows is then a
// load, a shift, two permutes and two adds, where a masked add covers 16
// weights of one row: about half the vector operations per weight, and
// fewer, longer streams of packed bytes.
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

namespace {

/// Output rows of one index vector (and table lookup): the 16 f32 lanes of
/// an AVX-512 register, the layout's interleave.
constexpr int64_t kLanes = 16;
/// Inputs per table: 4 bits index 16 entries, one register of f32.
constexpr int64_t kGroupInputs = 4;
/// Most input rows of a tile. Each tile streams every packed row once and
/// keeps an accumulator per (input row, index vector) in registers; 6 rows
/// of 2 index vectors measured fastest for prefill on Zen 4.
constexpr int64_t kMaxTileRows = 6;

/// How a tile walks the packed rows: `indexVectors` loads of 16 rows per
/// scf.forall iteration, one accumulator per (input row, index vector).
struct LookupKernelShape {
  int64_t wordsPerRow;
  int64_t tileRows;
  int64_t indexVectors;
  bool negativeIsOne;
};

Value index(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}

/// The f32 vector whose lane i is the sign that bit `input` of i stands for.
Value buildSignPattern(OpBuilder &b, Location loc, int64_t input,
                       bool negativeIsOne) {
  SmallVector<float> signs;
  for (int64_t i = 0; i < kLanes; ++i) {
    bool set = (i >> input) & 1;
    signs.push_back(set == negativeIsOne ? -1.0f : 1.0f);
  }
  auto type = VectorType::get({kLanes}, b.getF32Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, ArrayRef<float>(signs)));
}

/// Fills `tables` ([tileRows, 2 * wordsPerRow, 16]) with the tables of input
/// rows [firstInput, firstInput + tileRows) of `x`: entry i of group g is
/// Σ_j s_j(i) x[4g + j], four multiply-adds of broadcast activations with
/// the sign patterns.
Value buildTables(OpBuilder &b, Location loc, const LookupKernelShape &shape,
                  Value x, Value firstInput, Value tables) {
  Type f32 = b.getF32Type();
  auto groupType = VectorType::get({kGroupInputs}, f32);
  auto tableType = VectorType::get({kLanes}, f32);
  SmallVector<Value> patterns;
  for (int64_t j = 0; j < kGroupInputs; ++j)
    patterns.push_back(buildSignPattern(b, loc, j, shape.negativeIsOne));
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0));
  int64_t groups = 2 * shape.wordsPerRow;
  auto overRows = scf::ForOp::create(
      b, loc, index(b, loc, 0), index(b, loc, shape.tileRows), index(b, loc, 1),
      ValueRange{tables},
      [&](OpBuilder &rb, Location, Value r, ValueRange rowArgs) {
        Value row = arith::AddIOp::create(rb, loc, firstInput, r);
        auto overGroups = scf::ForOp::create(
            rb, loc, index(rb, loc, 0), index(rb, loc, groups),
            index(rb, loc, 1), rowArgs,
            [&](OpBuilder &gb, Location, Value g, ValueRange groupArgs) {
              Value k = arith::MulIOp::create(gb, loc, g,
                                              index(gb, loc, kGroupInputs));
              Value inputs = vector::TransferReadOp::create(
                  gb, loc, groupType, x, ValueRange{row, k}, zero,
                  ArrayRef<bool>{true});
              Value entries;
              for (int64_t j = 0; j < kGroupInputs; ++j) {
                Value input = vector::BroadcastOp::create(
                    gb, loc, tableType,
                    vector::ExtractOp::create(gb, loc, inputs, j));
                entries =
                    j == 0 ? arith::MulFOp::create(gb, loc, input, patterns[j])
                                 .getResult()
                           : vector::FMAOp::create(gb, loc, input, patterns[j],
                                                   entries)
                                 .getResult();
              }
              Value written =
                  vector::TransferWriteOp::create(
                      gb, loc, entries, groupArgs[0],
                      ValueRange{r, g, index(gb, loc, 0)}, ArrayRef<bool>{true})
                      .getResult();
              scf::YieldOp::create(gb, loc, written);
            });
        scf::YieldOp::create(rb, loc, overGroups.getResults());
      });
  return overRows.getResult(0);
}

/// Entries `indices & 15` of the table of input row `row` and group
/// `group`: a gather from one row of 16 floats, which
/// onebit-gather-to-permute turns into a load and one `vpermps`.
Value lookUp(OpBuilder &b, Location loc, Value tables, Value row, Value group,
             Value indices) {
  auto indexType = cast<VectorType>(indices.getType());
  auto resultType = VectorType::get({kLanes}, b.getF32Type());
  Value inTable = arith::AndIOp::create(
      b, loc, indices,
      arith::ConstantOp::create(
          b, loc,
          DenseElementsAttr::get(indexType, b.getI32IntegerAttr(kLanes - 1))));
  Value all = arith::ConstantOp::create(
      b, loc,
      DenseElementsAttr::get(VectorType::get({kLanes}, b.getI1Type()), true));
  Value zeros = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(resultType, b.getF32FloatAttr(0)));
  return vector::GatherOp::create(b, loc, resultType, tables,
                                  ValueRange{row, group, index(b, loc, 0)},
                                  inTable, all, zeros);
}

/// The packed-row loop of one scf.forall iteration: the accumulators of
/// every (input row, index vector), input-row major.
ValueRange buildBlockSums(OpBuilder &b, Location loc,
                          const LookupKernelShape &shape, Value signs,
                          Value tables, Value firstVector) {
  Type f32 = b.getF32Type();
  auto sumType = VectorType::get({kLanes}, f32);
  auto byteType = VectorType::get({kLanes}, b.getI8Type());
  auto indexType = VectorType::get({kLanes}, b.getI32Type());
  Value zeros = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(sumType, b.getF32FloatAttr(0)));
  Value nibble = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(indexType, b.getI32IntegerAttr(4)));
  Value byteZero = arith::ConstantIntOp::create(b, loc, b.getI8Type(), 0);
  SmallVector<Value> vectorIndices;
  for (int64_t v = 0; v < shape.indexVectors; ++v)
    vectorIndices.push_back(
        arith::AddIOp::create(b, loc, firstVector, index(b, loc, v)));
  SmallVector<Value> initial(shape.tileRows * shape.indexVectors, zeros);
  auto loop = scf::ForOp::create(
      b, loc, index(b, loc, 0), index(b, loc, shape.wordsPerRow),
      index(b, loc, 1), initial,
      [&](OpBuilder &wb, Location, Value w, ValueRange sums) {
        SmallVector<Value> low, high;
        for (Value vector : vectorIndices) {
          Value bytes = vector::TransferReadOp::create(
              wb, loc, byteType, signs,
              ValueRange{vector, w, index(wb, loc, 0)}, byteZero,
              ArrayRef<bool>{true});
          low.push_back(arith::ExtUIOp::create(wb, loc, indexType, bytes));
          high.push_back(arith::ShRUIOp::create(wb, loc, low.back(), nibble));
        }
        Value lowGroup = arith::MulIOp::create(wb, loc, w, index(wb, loc, 2));
        Value highGroup =
            arith::AddIOp::create(wb, loc, lowGroup, index(wb, loc, 1));
        SmallVector<Value> next(sums.begin(), sums.end());
        for (int64_t r = 0; r < shape.tileRows; ++r) {
          Value row = index(wb, loc, r);
          for (int64_t v = 0; v < shape.indexVectors; ++v) {
            Value &sum = next[r * shape.indexVectors + v];
            sum = arith::AddFOp::create(
                wb, loc, sum, lookUp(wb, loc, tables, row, lowGroup, low[v]));
            sum = arith::AddFOp::create(
                wb, loc, sum, lookUp(wb, loc, tables, row, highGroup, high[v]));
          }
        }
        scf::YieldOp::create(wb, loc, next);
      });
  return loop.getResults();
}

/// Rows [firstInput, firstInput + tileRows) of y into `result` ([rows, N]):
/// an scf.forall over groups of `indexVectors` x 16 output rows (OpenMP over
/// N), each writing its [tileRows, 16 x indexVectors] block in place.
Value buildTileProduct(OpBuilder &b, Location loc,
                       const LookupKernelShape &shape, Value signs,
                       Value tables, Value result, Value firstInput) {
  int64_t outFeatures = cast<RankedTensorType>(result.getType()).getDimSize(1);
  int64_t blockRows = kLanes * shape.indexVectors;
  auto forall = scf::ForallOp::create(
      b, loc, ArrayRef<OpFoldResult>{b.getIndexAttr(outFeatures / blockRows)},
      ValueRange{result}, std::nullopt);
  OpBuilder::InsertionGuard guard(b);
  Block *body = forall.getBody();
  b.setInsertionPointToStart(body);
  Value blockIndex = body->getArgument(0);
  Value firstVector = arith::MulIOp::create(b, loc, blockIndex,
                                            index(b, loc, shape.indexVectors));
  Value firstRow =
      arith::MulIOp::create(b, loc, blockIndex, index(b, loc, blockRows));
  SmallVector<OpFoldResult> offsets = {firstInput, firstRow};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(shape.tileRows),
                                     b.getIndexAttr(blockRows)};
  SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
  Value block = tensor::ExtractSliceOp::create(b, loc, body->getArgument(1),
                                               offsets, sizes, strides);
  ValueRange sums = buildBlockSums(b, loc, shape, signs, tables, firstVector);
  for (int64_t r = 0; r < shape.tileRows; ++r)
    for (int64_t v = 0; v < shape.indexVectors; ++v)
      block = vector::TransferWriteOp::create(
                  b, loc, sums[r * shape.indexVectors + v], block,
                  ValueRange{index(b, loc, r), index(b, loc, v * kLanes)},
                  ArrayRef<bool>{true})
                  .getResult();
  b.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(b, loc, block, body->getArgument(1),
                                        offsets, sizes, strides);
  return forall.getResult(0);
}

/// `count` consecutive tiles of `shape.tileRows` input rows from
/// `firstInput`, one after the other, all filling one table buffer.
Value buildTiles(OpBuilder &b, Location loc, const LookupKernelShape &shape,
                 Value x, Value signs, Value result, int64_t firstInput,
                 int64_t count) {
  Value tables = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{shape.tileRows, 2 * shape.wordsPerRow, kLanes},
      b.getF32Type());
  auto buildTile = [&](OpBuilder &tb, Value first, Value tileResult,
                       Value tileTables) -> std::pair<Value, Value> {
    Value filled = buildTables(tb, loc, shape, x, first, tileTables);
    return {buildTileProduct(tb, loc, shape, signs, filled, tileResult, first),
            filled};
  };
  if (count == 1)
    return buildTile(b, index(b, loc, firstInput), result, tables).first;
  auto overTiles = scf::ForOp::create(
      b, loc, index(b, loc, firstInput),
      index(b, loc, firstInput + count * shape.tileRows),
      index(b, loc, shape.tileRows), ValueRange{result, tables},
      [&](OpBuilder &tb, Location, Value first, ValueRange args) {
        auto [tileResult, filled] = buildTile(tb, first, args[0], args[1]);
        scf::YieldOp::create(tb, loc, ValueRange{tileResult, filled});
      });
  return overTiles.getResult(0);
}

} // namespace

bool mlir::onebit::hasLookupTableKernel(SignPackingAttr packing) {
  return packing.getWord() == 8 && packing.getOrder() == BitOrder::LSBFirst &&
         packing.getInterleave() == kLanes;
}

/// One input row loads 4 index vectors (64 output rows) a step, several
/// input rows 2, or fewer where N/16 has no such factor (measured on Zen 4
/// with 2 threads: 4 vectors 2.3-2.9x faster than 1 at M = 1; 2 vectors
/// 1.2-1.5x faster than 4 for 2 and 3 input rows).
CPUSignLookupScheduleAttr
mlir::onebit::selectLookupTableSchedule(MLIRContext *context, int64_t rows,
                                        int64_t outFeatures) {
  int64_t vectors = outFeatures / kLanes;
  int64_t indexVectors = rows == 1 ? 4 : 2;
  while (vectors % indexVectors != 0)
    indexVectors /= 2;
  return CPUSignLookupScheduleAttr::get(
      context, std::clamp<int64_t>(rows, 1, kMaxTileRows), indexVectors);
}

LogicalResult mlir::onebit::checkLookupTableSchedule(
    CPUSignLookupScheduleAttr schedule, SignPackingAttr packing,
    int64_t outFeatures, function_ref<InFlightDiagnostic()> emitError) {
  if (!hasLookupTableKernel(packing))
    return emitError() << "its kernel reads bytes, lowest input first, 16 "
                          "rows interleaved, not "
                       << packing;
  if ((outFeatures / kLanes) % schedule.getIndexVectors() != 0)
    return emitError() << "N / 16 = " << outFeatures / kLanes
                       << " is not a multiple of index_vectors";
  return success();
}

Value mlir::onebit::buildLookupTableProduct(OpBuilder &b, Location loc, Value x,
                                            Value signs,
                                            SignPackingAttr packing,
                                            CPUSignLookupScheduleAttr schedule,
                                            int64_t outFeatures) {
  int64_t rows = cast<RankedTensorType>(x.getType()).getDimSize(0);
  int64_t wordsPerRow = cast<RankedTensorType>(signs.getType()).getDimSize(1);
  Value result = tensor::EmptyOp::create(
      b, loc, ArrayRef<int64_t>{rows, outFeatures}, b.getF32Type());
  for (const TileRun &run : splitIntoTiles(rows, schedule.getTileRows()))
    result = buildTiles(b, loc,
                        {wordsPerRow, run.rows, schedule.getIndexVectors(),
                         packing.getNegative() == 1},
                        x, signs, result, run.first, run.count);
  return result;
}
