//===- Indexing.cpp - Trilu, ScatterND and Range to TOSA ------------------===//
//
// Ops whose positions are known when the model is compiled: their masks and
// index maps become constants.
//
//===----------------------------------------------------------------------===//

#include "../NodeImporter.h"
#include "OpHelpers.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::onnx_import;

namespace {

/// Range outputs past this size are not made constants.
constexpr int64_t kMaxRangeElements = int64_t(1) << 24;

/// The only element of a one-element attribute, as a double or an int64.
double getScalarDouble(DenseElementsAttr attr) {
  if (isa<FloatType>(attr.getElementType()))
    return (*attr.value_begin<APFloat>()).convertToDouble();
  return double((*attr.value_begin<APInt>()).getSExtValue());
}

int64_t getScalarInt(DenseElementsAttr attr) {
  return (*attr.value_begin<APInt>()).getSExtValue();
}

/// Trilu (opset 14): keeps the elements on and above (upper=1) or on and
/// below (upper=0) the k-th diagonal of the last two dims: a select with a
/// constant mask, or with a comparison against k when k is computed.
LogicalResult convertTrilu(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  RankedTensorType type = input->getType();
  int64_t rank = type.getRank();
  if (rank < 2)
    return node.emitError() << "needs an input of rank 2 or more, got "
                            << type;
  bool upper = node.getInt("upper", 1);
  int64_t rows = type.getDimSize(rank - 2), cols = type.getDimSize(rank - 1);
  TosaBuilder &tosa = node.getTosa();
  OpBuilder &b = node.getBuilder();
  SmallVector<int64_t> maskShape(rank - 2, 1);
  maskShape.append({rows, cols});

  std::optional<int64_t> knownK = 0;
  Value k;
  if (node.hasInput(1)) {
    FailureOr<ImportedValue> kInput = node.getInput(1);
    if (failed(kInput))
      return failure();
    if (!isa<IntegerType>(kInput->getType().getElementType()) ||
        kInput->getType().getNumElements() != 1)
      return node.emitError() << "k must be an integer scalar, got "
                              << kInput->getType();
    if (kInput->known)
      knownK = getScalarInt(kInput->known);
    else {
      knownK.reset();
      k = tosa.reshape(tosa.cast(kInput->value, b.getI64Type()),
                       SmallVector<int64_t>(rank, 1));
    }
  }
  // Column minus row: the diagonal each element is on.
  SmallVector<int64_t> diagonal;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      diagonal.push_back(j - i);
  Value mask;
  if (knownK) {
    SmallVector<int64_t> keep;
    for (int64_t d : diagonal)
      keep.push_back(upper ? d >= *knownK : d <= *knownK);
    mask = tosa.constant(getDenseOf(b.getI1Type(), maskShape, keep));
  } else {
    Value d = tosa.constant(getDenseOf(b.getI64Type(), maskShape, diagonal));
    mask = upper ? tosa.binary<tosa::GreaterEqualOp>(d, k, b.getI1Type())
                 : tosa.binary<tosa::GreaterEqualOp>(k, d, b.getI1Type());
  }
  Value zero = tosa.scalar(type.getElementType(), 0.0, rank);
  node.setOutput(0, buildSelect(tosa, mask, input->value, zero),
                 input->isUnsigned);
  return success();
}

/// ScatterND with known indices. Every destination row gets the update
/// that writes it: a gather of the updates by a constant map, selected by a
/// constant mask. Rows written several times take one such layer per write,
/// in order, so that reductions see each update and plain scatters keep
/// the last.
LogicalResult convertScatterND(NodeImporter &node) {
  FailureOr<ImportedValue> data = node.getInput(0);
  FailureOr<ImportedValue> updates = node.getInput(2);
  if (failed(data) || failed(updates))
    return failure();
  FailureOr<ImportedValue> indicesInput = node.getInput(1);
  if (failed(indicesInput))
    return failure();
  if (!indicesInput->known)
    return node.emitError()
           << "the indices input of ScatterND must be known when the model "
              "is compiled (a constant, or computed from shapes)";
  FailureOr<SmallVector<int64_t>> indices =
      node.getKnownInts(1, "the indices input of ScatterND");
  if (failed(indices))
    return failure();
  // reduction: none/add/mul from opset 16, max/min from 18.
  std::string reduction = node.getString("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul" &&
      reduction != "max" && reduction != "min")
    return node.emitError() << "unsupported reduction '" << reduction << "'";
  int64_t since = reduction == "none"                        ? 13
                  : reduction == "add" || reduction == "mul" ? 16
                                                             : 18;
  if (node.getOpset() < since)
    return node.emitError() << "reduction '" << reduction
                            << "' needs opset " << since << " or later";
  RankedTensorType dataType = data->getType();
  RankedTensorType indexType = indicesInput->getType();
  if (updates->getType().getElementType() != dataType.getElementType())
    return node.emitError() << "updates " << updates->getType()
                            << " do not have the element type of data "
                            << dataType;
  if (indexType.getRank() < 1)
    return node.emitError() << "indices must have rank 1 or more";
  int64_t depth = indexType.getShape().back();
  if (depth < 1 || depth > dataType.getRank())
    return node.emitError() << "index tuples of " << depth
                            << " entries for data of rank "
                            << dataType.getRank();
  // updates.shape == indices.shape[:-1] + data.shape[depth:]
  SmallVector<int64_t> expected(indexType.getShape().drop_back());
  llvm::append_range(expected, dataType.getShape().drop_front(depth));
  if (updates->getType().getShape() != ArrayRef<int64_t>(expected))
    return node.emitError() << "updates " << updates->getType()
                            << " do not have the shape [" 
                            << llvm::make_range(expected.begin(),
                                                expected.end())
                            << "] that indices and data give";
  int64_t rows = 1, width = 1;
  for (int64_t i = 0; i < depth; ++i)
    rows *= dataType.getDimSize(i);
  for (int64_t i = depth; i < dataType.getRank(); ++i)
    width *= dataType.getDimSize(i);
  int64_t count = indexType.getNumElements() / depth;
  if (count == 0) {
    node.setOutput(0, *data);
    return success();
  }

  // writes[row] lists the updates that write `row`, in order.
  SmallVector<SmallVector<int32_t>> writes(rows);
  size_t layers = 0;
  for (int64_t u = 0; u < count; ++u) {
    int64_t row = 0;
    for (int64_t d = 0; d < depth; ++d) {
      int64_t dim = dataType.getDimSize(d), index = (*indices)[u * depth + d];
      if (index < -dim || index >= dim)
        return node.emitError() << "index " << index
                                << " is out of range for a dimension of "
                                << dim;
      row = row * dim + (index < 0 ? index + dim : index);
    }
    if (reduction == "none")
      writes[row].assign(1, u);
    else
      writes[row].push_back(u);
    layers = std::max(layers, writes[row].size());
  }

  TosaBuilder &tosa = node.getTosa();
  OpBuilder &b = node.getBuilder();
  Type elementType = dataType.getElementType();
  bool isUnsigned = data->isUnsigned;
  Value values = tosa.reshape(data->value, {1, rows, width});
  Value source = tosa.reshape(updates->value, {1, count, width});
  for (size_t layer = 0; layer < layers; ++layer) {
    SmallVector<int64_t> map, written;
    for (const SmallVector<int32_t> &rowWrites : writes) {
      bool hasWrite = layer < rowWrites.size();
      map.push_back(hasWrite ? rowWrites[layer] : 0);
      written.push_back(hasWrite);
    }
    Value indexMap =
        tosa.constant(getDenseOf(b.getI32Type(), {1, rows}, map));
    Value gathered = tosa::GatherOp::create(
        b, node.getLoc(), RankedTensorType::get({1, rows, width}, elementType),
        source, indexMap);
    Value combined = gathered;
    if (reduction == "add")
      combined = tosa.add(values, gathered);
    else if (reduction == "mul")
      combined = tosa.mul(values, gathered);
    else if (reduction == "max" || reduction == "min") {
      // Unsigned values compare widened to a signed type.
      Value l = widenInteger(tosa, values, isUnsigned, 0);
      Value r = widenInteger(tosa, gathered, isUnsigned, 0);
      combined = tosa.cast(reduction == "max"
                               ? tosa.binary<tosa::MaximumOp>(l, r)
                               : tosa.binary<tosa::MinimumOp>(l, r),
                           elementType);
    }
    Value mask =
        tosa.constant(getDenseOf(b.getI1Type(), {1, rows, 1}, written));
    values = buildSelect(tosa, mask, combined, values);
  }
  node.setOutput(0, tosa.reshape(values, dataType.getShape()), isUnsigned);
  return success();
}

/// Range: its output's size depends on its inputs' values, so they must be
/// known. Known ones are usually computed by the host folder; this converter
/// sees the rest.
LogicalResult convertRange(NodeImporter &node) {
  SmallVector<DenseElementsAttr> operands;
  SmallVector<Type> types;
  for (unsigned i = 0; i < 3; ++i) {
    FailureOr<ImportedValue> input = node.getInput(i);
    if (failed(input))
      return failure();
    if (input->getType().getNumElements() != 1)
      return node.emitError() << "start, limit and delta must be scalars, got "
                              << input->getType();
    types.push_back(input->getType().getElementType());
    operands.push_back(input->known);
  }
  if (types[1] != types[0] || types[2] != types[0])
    return node.emitError() << "start, limit and delta must have one element "
                               "type";
  if (llvm::is_contained(operands, nullptr))
    return node.emitError()
           << "start, limit and delta must be known when the model is "
              "compiled (the output's size depends on them)";
  std::string error;
  FailureOr<DenseElementsAttr> range = computeRange(
      operands[0], operands[1], operands[2], kMaxRangeElements, error);
  if (failed(range))
    return node.emitError() << error;
  node.setKnownOutput(0, *range);
  return success();
}

} // namespace

FailureOr<DenseElementsAttr> mlir::onebit::onnx_import::computeRange(
    DenseElementsAttr start, DenseElementsAttr limit, DenseElementsAttr delta,
    int64_t maxElements, std::string &error) {
  Type elementType = start.getElementType();
  int64_t count;
  SmallVector<APFloat> floats;
  SmallVector<APInt> ints;
  if (auto floatType = dyn_cast<FloatType>(elementType)) {
    // As numpy's arange (ONNX's reference): in double, rounded once.
    double first = getScalarDouble(start), last = getScalarDouble(limit),
           step = getScalarDouble(delta);
    if (step == 0 || !std::isfinite(first) || !std::isfinite(last) ||
        !std::isfinite(step)) {
      error = "Range needs a finite non-zero delta and finite bounds";
      return failure();
    }
    double size = std::max(std::ceil((last - first) / step), 0.0);
    if (size > double(maxElements)) {
      error = "Range would produce " + std::to_string(int64_t(size)) +
              " elements, more than the " + std::to_string(maxElements) +
              " onebit computes when compiling";
      return failure();
    }
    count = int64_t(size);
    for (int64_t i = 0; i < count; ++i) {
      APFloat value(first + double(i) * step);
      bool losesInfo;
      value.convert(floatType.getFloatSemantics(),
                    APFloat::rmNearestTiesToEven, &losesInfo);
      floats.push_back(value);
    }
  } else {
    int64_t first = getScalarInt(start), last = getScalarInt(limit),
            step = getScalarInt(delta);
    if (step == 0) {
      error = "Range needs a non-zero delta";
      return failure();
    }
    // ceil((last - first) / step) without overflow or rounding.
    __int128 span = __int128(last) - first;
    __int128 size = 0;
    if ((span > 0 && step > 0) || (span < 0 && step < 0))
      size = (span + step + (step > 0 ? -1 : 1)) / step;
    if (size > maxElements) {
      error = "Range would produce more than the " +
              std::to_string(maxElements) +
              " elements onebit computes when compiling";
      return failure();
    }
    count = int64_t(size);
    unsigned width = elementType.getIntOrFloatBitWidth();
    for (int64_t i = 0; i < count; ++i)
      ints.emplace_back(width, uint64_t(first + i * step), /*isSigned=*/true,
                        /*implicitTrunc=*/true);
  }
  auto type = RankedTensorType::get({count}, elementType);
  if (isa<FloatType>(elementType))
    return DenseElementsAttr::get(type, floats);
  return DenseElementsAttr::get(type, ints);
}

void mlir::onebit::onnx_import::registerIndexingConverters(ConverterMap &map) {
  map["::Trilu"] = convertTrilu;
  map["::ScatterND"] = convertScatterND;
  map["::Range"] = convertRange;
}
