//===- Shape.cpp - shape and data movement ONNX ops to TOSA ---------------===//

#include "../NodeImporter.h"
#include "../TensorReader.h"
#include "OpHelpers.h"

#include "mlir/Dialect/Tosa/IR/TosaOps.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::onnx_import;

namespace {

DenseElementsAttr getI64Vector(MLIRContext *context, ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({int64_t(values.size())},
                                    IntegerType::get(context, 64));
  return DenseElementsAttr::get(type, values);
}

/// The elements at constant `positions` along `axis`: tosa.gather on the
/// tensor seen as [outer, dim, inner].
Value gatherAlong(TosaBuilder &tosa, Value input, int64_t axis,
                  ArrayRef<int64_t> positions) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t outer = 1, inner = 1, dim = type.getDimSize(axis);
  for (int64_t i = 0; i < axis; ++i)
    outer *= type.getDimSize(i);
  for (int64_t i = axis + 1; i < type.getRank(); ++i)
    inner *= type.getDimSize(i);
  int64_t count = positions.size();
  SmallVector<int64_t> indices;
  for (int64_t o = 0; o < outer; ++o)
    llvm::append_range(indices, positions);
  OpBuilder &b = tosa.getBuilder();
  Value indexMap = tosa.constant(
      getDenseOf(b.getI32Type(), {outer, count}, indices));
  Value gathered = tosa::GatherOp::create(
      b, tosa.getLoc(),
      RankedTensorType::get({outer, count, inner}, type.getElementType()),
      tosa.reshape(input, {outer, dim, inner}), indexMap);
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = count;
  return tosa.reshape(gathered, shape);
}

LogicalResult convertReshape(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  FailureOr<SmallVector<int64_t>> shape =
      node.getKnownInts(1, "the shape input of Reshape");
  if (failed(input) || failed(shape))
    return failure();
  RankedTensorType type = input->getType();
  bool allowZero = node.getInt("allowzero", 0);
  int64_t known = 1, inferred = -1;
  for (auto [i, dim] : llvm::enumerate(*shape)) {
    if (dim == 0 && !allowZero) {
      if (i >= size_t(type.getRank()))
        return node.emitError() << "shape entry " << i
                                << " copies a dimension the input lacks";
      dim = type.getDimSize(i);
    }
    if (dim == -1) {
      if (inferred >= 0)
        return node.emitError() << "shape has more than one -1";
      inferred = i;
    } else if (dim < 0) {
      return node.emitError() << "invalid shape entry " << dim;
    } else {
      known *= dim;
    }
  }
  if (inferred >= 0) {
    if (known == 0 || type.getNumElements() % known != 0)
      return node.emitError() << "cannot reshape " << type << " to the shape ["
                              << llvm::make_range(shape->begin(), shape->end())
                              << "]";
    (*shape)[inferred] = type.getNumElements() / known;
    known *= (*shape)[inferred];
  }
  if (known != type.getNumElements())
    return node.emitError() << "cannot reshape " << type << " ("
                            << type.getNumElements() << " elements) to "
                            << known << " elements";
  if (failed(checkNotEmpty(node, *shape, "the result")))
    return failure();
  node.setOutput(0, {node.getTosa().reshape(input->value, *shape),
                     input->isUnsigned, nullptr});
  return success();
}

/// Flatten: [d0 * ... * d(axis-1), d(axis) * ... * d(rank-1)]; axis may
/// equal the rank.
LogicalResult convertFlatten(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  RankedTensorType type = input->getType();
  int64_t rank = type.getRank(), axis = node.getInt("axis", 1);
  if (axis < -rank || axis > rank)
    return node.emitError() << "axis " << axis << " is out of range for rank "
                            << rank;
  if (axis < 0)
    axis += rank;
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < rank; ++i)
    (i < axis ? outer : inner) *= type.getDimSize(i);
  node.setOutput(0, node.getTosa().reshape(input->value, {outer, inner}),
                 input->isUnsigned);
  return success();
}

LogicalResult convertTranspose(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  int64_t rank = input->getType().getRank();
  SmallVector<int32_t> perms;
  if (auto attr = node.getInts("perm")) {
    if (int64_t(attr->size()) != rank)
      return node.emitError() << "perm has " << attr->size()
                              << " entries for rank " << rank;
    SmallVector<bool> seen(rank, false);
    for (int64_t p : *attr) {
      if (p < 0 || p >= rank || seen[p])
        return node.emitError() << "perm is not a permutation of 0.."
                                << rank - 1;
      seen[p] = true;
      perms.push_back(p);
    }
  } else {
    for (int64_t i = rank - 1; i >= 0; --i)
      perms.push_back(i);
  }
  node.setOutput(0, node.getTosa().transpose(input->value, perms),
                 input->isUnsigned);
  return success();
}

/// Axes from the `axes` input (opset >= 13) or attribute.
FailureOr<SmallVector<int64_t>> getAxes(NodeImporter &node, unsigned index) {
  if (node.hasInput(index))
    return node.getKnownInts(index, "the axes input");
  if (auto attr = node.getInts("axes"))
    return *attr;
  return SmallVector<int64_t>();
}

LogicalResult convertUnsqueeze(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  FailureOr<SmallVector<int64_t>> axes = getAxes(node, 1);
  if (failed(input) || failed(axes))
    return failure();
  int64_t rank = input->getType().getRank() + axes->size();
  SmallVector<int64_t> normalized;
  for (int64_t axis : *axes) {
    FailureOr<int64_t> a = normalizeAxis(node, axis, rank);
    if (failed(a))
      return failure();
    normalized.push_back(*a);
  }
  llvm::sort(normalized);
  if (std::adjacent_find(normalized.begin(), normalized.end()) !=
      normalized.end())
    return node.emitError() << "axes has a duplicate entry";
  SmallVector<int64_t> shape(input->getType().getShape());
  for (int64_t axis : normalized)
    shape.insert(shape.begin() + axis, 1);
  node.setOutput(0, node.getTosa().reshape(input->value, shape),
                 input->isUnsigned);
  return success();
}

LogicalResult convertSqueeze(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  FailureOr<SmallVector<int64_t>> axes = getAxes(node, 1);
  if (failed(input) || failed(axes))
    return failure();
  RankedTensorType type = input->getType();
  SmallVector<bool> drop(type.getRank(), axes->empty());
  if (axes->empty())
    for (int64_t i = 0; i < type.getRank(); ++i)
      drop[i] = type.getDimSize(i) == 1;
  for (int64_t axis : *axes) {
    FailureOr<int64_t> a = normalizeAxis(node, axis, type.getRank());
    if (failed(a))
      return failure();
    if (type.getDimSize(*a) != 1)
      return node.emitError() << "cannot squeeze dimension " << *a
                              << " of size " << type.getDimSize(*a);
    drop[*a] = true;
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (!drop[i])
      shape.push_back(type.getDimSize(i));
  node.setOutput(0, node.getTosa().reshape(input->value, shape),
                 input->isUnsigned);
  return success();
}

LogicalResult convertConcat(NodeImporter &node) {
  SmallVector<Value> inputs;
  bool isUnsigned = false;
  for (unsigned i = 0; i < node.getNumInputs(); ++i) {
    FailureOr<ImportedValue> input = node.getInput(i);
    if (failed(input))
      return failure();
    if (input->getType().getNumElements() == 0 && node.getNumInputs() > 1)
      continue;
    isUnsigned |= input->isUnsigned;
    inputs.push_back(input->value);
  }
  if (inputs.empty())
    return node.emitError() << "has only empty inputs: empty tensors are not "
                               "supported";
  auto first = cast<RankedTensorType>(inputs.front().getType());
  FailureOr<int64_t> axis =
      normalizeAxis(node, node.getInt("axis", 0), first.getRank());
  if (failed(axis))
    return failure();
  for (Value input : inputs) {
    auto type = cast<RankedTensorType>(input.getType());
    for (int64_t d = 0; d < first.getRank(); ++d)
      if (type.getRank() != first.getRank() ||
          (d != *axis && type.getDimSize(d) != first.getDimSize(d)))
        return node.emitError() << "inputs " << first << " and " << type
                                << " do not match outside axis " << *axis;
  }
  node.setOutput(0, node.getTosa().concat(inputs, *axis), isUnsigned);
  return success();
}

LogicalResult convertSlice(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  FailureOr<SmallVector<int64_t>> starts =
      node.getKnownInts(1, "the starts input of Slice");
  FailureOr<SmallVector<int64_t>> ends =
      node.getKnownInts(2, "the ends input of Slice");
  if (failed(input) || failed(starts) || failed(ends))
    return failure();
  RankedTensorType type = input->getType();
  int64_t rank = type.getRank();
  SmallVector<int64_t> axes, steps;
  if (node.hasInput(3)) {
    FailureOr<SmallVector<int64_t>> known =
        node.getKnownInts(3, "the axes input of Slice");
    if (failed(known))
      return failure();
    axes = *known;
  } else {
    for (size_t i = 0; i < starts->size(); ++i)
      axes.push_back(i);
  }
  if (node.hasInput(4)) {
    FailureOr<SmallVector<int64_t>> known =
        node.getKnownInts(4, "the steps input of Slice");
    if (failed(known))
      return failure();
    steps = *known;
  } else {
    steps.assign(starts->size(), 1);
  }
  if (axes.size() != starts->size() || ends->size() != starts->size() ||
      steps.size() != starts->size())
    return node.emitError() << "starts, ends, axes and steps differ in length";

  // One tosa.slice for the range of every axis, then a reverse for each
  // step of -1 and a gather of the kept positions for each longer step.
  SmallVector<int64_t> begin(rank, 0), size(type.getShape());
  SmallVector<bool> seen(rank, false);
  SmallVector<std::pair<int64_t, int64_t>> strided; // (axis, step)
  for (auto [i, axis] : llvm::enumerate(axes)) {
    FailureOr<int64_t> a = normalizeAxis(node, axis, rank);
    if (failed(a))
      return failure();
    if (seen[*a])
      return node.emitError() << "axis " << *a << " is sliced twice";
    seen[*a] = true;
    int64_t dim = type.getDimSize(*a), step = steps[i];
    if (step == 0)
      return node.emitError() << "steps must not be 0";
    // Negative starts and ends count from the end; both are then clamped
    // to [0, dim] for positive steps and [-1, dim - 1] for negative ones.
    auto clamp = [&](int64_t v) {
      if (v < 0)
        v += dim;
      return step > 0 ? std::clamp<int64_t>(v, 0, dim)
                      : std::clamp<int64_t>(v, -1, dim - 1);
    };
    int64_t start = clamp((*starts)[i]), end = clamp((*ends)[i]);
    int64_t count =
        step > 0 ? std::max<int64_t>(0, (end - start + step - 1) / step)
                 : std::max<int64_t>(0, (start - end - step - 1) / -step);
    // The first and last positions taken, in increasing order.
    int64_t last = start + (count - 1) * step;
    begin[*a] = std::min(start, last);
    size[*a] = count == 0 ? 0 : std::abs(last - start) + 1;
    if (count > 1 && step != 1)
      strided.push_back({*a, step});
  }
  if (failed(checkNotEmpty(node, size, "the result")))
    return failure();
  TosaBuilder &tosa = node.getTosa();
  Value result = tosa.slice(input->value, begin, size);
  for (auto [axis, step] : strided) {
    if (step == -1) {
      result = tosa::ReverseOp::create(node.getBuilder(), node.getLoc(),
                                       result.getType(), result,
                                       node.getBuilder().getI32IntegerAttr(
                                           axis));
      continue;
    }
    // Positions within the slice: 0, step, ... or from its end backwards.
    int64_t length = size[axis];
    SmallVector<int64_t> positions;
    for (int64_t p = step > 0 ? 0 : length - 1; p >= 0 && p < length;
         p += step)
      positions.push_back(p);
    result = gatherAlong(tosa, result, axis, positions);
  }
  node.setOutput(0, result, input->isUnsigned);
  return success();
}

LogicalResult convertGather(NodeImporter &node) {
  FailureOr<ImportedValue> data = node.getInput(0);
  FailureOr<ImportedValue> indices = node.getInput(1);
  if (failed(data) || failed(indices))
    return failure();
  RankedTensorType type = data->getType();
  FailureOr<int64_t> axis =
      normalizeAxis(node, node.getInt("axis", 0), type.getRank());
  if (failed(axis))
    return failure();
  TosaBuilder &tosa = node.getTosa();
  int64_t dim = type.getDimSize(*axis);
  // Negative indices count from the end: known ones are wrapped here,
  // others with a select.
  int64_t count = indices->getType().getNumElements();
  if (!isa<IntegerType>(indices->getType().getElementType()))
    return node.emitError() << "needs integer indices, got "
                            << indices->getType();
  if (failed(checkNotEmpty(node, indices->getType().getShape(),
                           "the indices input")))
    return failure();
  Type i32 = node.getBuilder().getI32Type();
  Value flatIndex;
  if (indices->known) {
    SmallVector<int32_t> wrapped;
    for (const APInt &value : indices->known.getValues<APInt>()) {
      int64_t index = value.getSExtValue();
      if (index < -dim || index >= dim)
        return node.emitError() << "index " << index
                                << " is out of range for a dimension of "
                                << dim;
      wrapped.push_back(index < 0 ? index + dim : index);
    }
    flatIndex = tosa.constant(DenseElementsAttr::get(
        RankedTensorType::get({1, count}, i32), ArrayRef<int32_t>(wrapped)));
  } else {
    // Guarded in 64 bits: a cast first would wrap large ids into range.
    Value guarded = node.guardIndices(*indices, dim);
    Value index = tosa.reshape(tosa.cast(guarded, i32), {1, count});
    Value negative = tosa.binary<tosa::GreaterOp>(
        tosa.scalar(i32, 0, 2), index, node.getBuilder().getI1Type());
    flatIndex = tosa::SelectOp::create(
        node.getBuilder(), node.getLoc(), index.getType(), negative,
        tosa.add(index, tosa.scalar(i32, dim, 2)), index);
  }
  // tosa.gather takes values [N, K, C] and indices [N, W]: move the axis to
  // the middle with everything before it in N and after it in C.
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < *axis; ++i)
    outer *= type.getDimSize(i);
  for (int64_t i = *axis + 1; i < type.getRank(); ++i)
    inner *= type.getDimSize(i);
  Value values = tosa.reshape(data->value, {outer, dim, inner});
  flatIndex = tosa.tile(flatIndex, {outer, 1});
  auto gatheredType =
      RankedTensorType::get({outer, count, inner}, type.getElementType());
  Value gathered = tosa::GatherOp::create(node.getBuilder(), node.getLoc(),
                                          gatheredType, values, flatIndex);
  SmallVector<int64_t> shape(type.getShape().take_front(*axis));
  llvm::append_range(shape, indices->getType().getShape());
  llvm::append_range(shape, type.getShape().drop_front(*axis + 1));
  node.setOutput(0, tosa.reshape(gathered, shape), data->isUnsigned);
  return success();
}

LogicalResult convertShape(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  ArrayRef<int64_t> shape = input->getType().getShape();
  int64_t rank = shape.size();
  int64_t start = node.getInt("start", 0), end = node.getInt("end", rank);
  start = std::clamp<int64_t>(start < 0 ? start + rank : start, 0, rank);
  end = std::clamp<int64_t>(end < 0 ? end + rank : end, 0, rank);
  node.setKnownOutput(
      0, getI64Vector(node.getContext(),
                      shape.slice(start, std::max<int64_t>(0, end - start))));
  return success();
}

LogicalResult convertSize(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  auto type = RankedTensorType::get({}, node.getBuilder().getI64Type());
  node.setKnownOutput(
      0, DenseElementsAttr::get(
             type, {APInt(64, input->getType().getNumElements())}));
  return success();
}

LogicalResult convertConstant(NodeImporter &node) {
  const onnx::AttributeProto *value = node.getAttribute("value");
  Builder b(node.getContext());
  if (value && value->has_t()) {
    std::string error;
    ElementsAttr attr = node.readTensor(value->t(), error);
    if (!attr)
      return node.emitError() << "value: " << error;
    node.setKnownOutput(0, cast<DenseElementsAttr>(attr),
                        isUnsignedType(value->t().data_type()));
    return success();
  }
  if (const onnx::AttributeProto *f = node.getAttribute("value_float")) {
    node.setKnownOutput(0, DenseElementsAttr::get(
                               RankedTensorType::get({}, b.getF32Type()),
                               f->f()));
    return success();
  }
  if (const onnx::AttributeProto *i = node.getAttribute("value_int")) {
    node.setKnownOutput(0, getI64Vector(node.getContext(), {i->i()})
                               .reshape(RankedTensorType::get(
                                   {}, b.getI64Type())));
    return success();
  }
  if (auto ints = node.getInts("value_ints")) {
    node.setKnownOutput(0, getI64Vector(node.getContext(), *ints));
    return success();
  }
  if (auto floats = node.getFloats("value_floats")) {
    node.setKnownOutput(
        0, DenseElementsAttr::get(
               RankedTensorType::get({int64_t(floats->size())}, b.getF32Type()),
               ArrayRef<float>(*floats)));
    return success();
  }
  return node.emitError() << "supports value, value_float(s) and "
                             "value_int(s) only";
}

LogicalResult convertConstantOfShape(NodeImporter &node) {
  FailureOr<SmallVector<int64_t>> shape =
      node.getKnownInts(0, "the shape input of ConstantOfShape");
  if (failed(shape))
    return failure();
  Builder b(node.getContext());
  DenseElementsAttr element =
      DenseElementsAttr::get(RankedTensorType::get({1}, b.getF32Type()), 0.0f);
  bool isUnsigned = false;
  if (const onnx::AttributeProto *value = node.getAttribute("value")) {
    std::string error;
    element = dyn_cast_or_null<DenseElementsAttr>(node.readTensor(value->t(), error));
    if (!element)
      return node.emitError() << "value: " << error;
    isUnsigned = isUnsignedType(value->t().data_type());
  }
  if (element.getNumElements() != 1)
    return node.emitError() << "value must have one element, got "
                            << element.getType();
  for (int64_t dim : *shape)
    if (dim < 0)
      return node.emitError() << "negative dimension " << dim;
  auto type = RankedTensorType::get(*shape, element.getElementType());
  node.setKnownOutput(0, DenseElementsAttr::get(
                             type, *element.value_begin<Attribute>()),
                      isUnsigned);
  return success();
}

LogicalResult convertExpand(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  FailureOr<SmallVector<int64_t>> shape =
      node.getKnownInts(1, "the shape input of Expand");
  if (failed(input) || failed(shape))
    return failure();
  RankedTensorType type = input->getType();
  int64_t rank = std::max<int64_t>(type.getRank(), shape->size());
  SmallVector<int64_t> target(rank, 1);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t a = i - (rank - type.getRank()) >= 0
                    ? type.getDimSize(i - (rank - type.getRank()))
                    : 1;
    int64_t b = i - (rank - int64_t(shape->size())) >= 0
                    ? (*shape)[i - (rank - shape->size())]
                    : 1;
    if (a != b && a != 1 && b != 1)
      return node.emitError() << "cannot expand " << type << " to the shape ["
                              << llvm::make_range(shape->begin(), shape->end())
                              << "]";
    if (b < 0)
      return node.emitError() << "negative dimension " << b << " in the shape";
    target[i] = a == 1 ? b : a;
  }
  if (failed(checkNotEmpty(node, target, "the result")))
    return failure();
  node.setOutput(0, node.getTosa().broadcastTo(input->value, target),
                 input->isUnsigned);
  return success();
}

LogicalResult convertSplit(NodeImporter &node) {
  FailureOr<ImportedValue> input = node.getInput(0);
  if (failed(input))
    return failure();
  RankedTensorType type = input->getType();
  FailureOr<int64_t> axis =
      normalizeAxis(node, node.getInt("axis", 0), type.getRank());
  if (failed(axis))
    return failure();
  int64_t dim = type.getDimSize(*axis);
  unsigned outputs = node.getNumOutputs();
  // Opset 18 names the number of outputs; it must agree with the node.
  if (const onnx::AttributeProto *numOutputs =
          node.getAttribute("num_outputs")) {
    if (node.getOpset() < 18)
      return node.emitError() << "num_outputs needs opset 18 or later";
    if (numOutputs->i() != int64_t(outputs))
      return node.emitError() << "num_outputs is " << numOutputs->i()
                              << " but the node has " << outputs
                              << " outputs";
  }
  SmallVector<int64_t> sizes;
  if (node.hasInput(1)) {
    FailureOr<SmallVector<int64_t>> known =
        node.getKnownInts(1, "the split input of Split");
    if (failed(known))
      return failure();
    sizes = *known;
  } else if (auto attr = node.getInts("split")) {
    sizes = *attr;
  } else if (node.getOpset() >= 18) {
    // ceil(dim / n) each; the last takes what remains. (ONNX asks for
    // num_outputs here; without it the node's outputs say n.)
    int64_t chunk = (dim + outputs - 1) / outputs;
    sizes.assign(outputs, chunk);
    sizes.back() = dim - chunk * (outputs - 1);
  } else {
    if (dim % outputs != 0)
      return node.emitError() << "cannot split dimension " << *axis << " of "
                              << type << " into " << outputs
                              << " equal parts";
    sizes.assign(outputs, dim / outputs);
  }
  int64_t total = 0;
  for (int64_t size : sizes) {
    if (size < 0)
      return node.emitError() << "split sizes must not be negative";
    total += size;
  }
  if (sizes.size() != outputs || total != dim)
    return node.emitError() << "split sizes do not cover dimension " << *axis
                            << " of " << type << " in " << outputs
                            << " outputs";
  if (llvm::is_contained(sizes, 0))
    return node.emitError() << "an output of size 0 along the axis: empty "
                               "tensors are not supported";
  SmallVector<int64_t> begin(type.getRank(), 0), size(type.getShape());
  for (unsigned i = 0; i < outputs; ++i) {
    size[*axis] = sizes[i];
    node.setOutput(i, node.getTosa().slice(input->value, begin, size),
                   input->isUnsigned);
    begin[*axis] += sizes[i];
  }
  return success();
}

} // namespace

void mlir::onebit::onnx_import::registerShapeConverters(ConverterMap &map) {
  map["::Reshape"] = convertReshape;
  map["::Transpose"] = convertTranspose;
  map["::Flatten"] = convertFlatten;
  map["::Unsqueeze"] = convertUnsqueeze;
  map["::Squeeze"] = convertSqueeze;
  map["::Concat"] = convertConcat;
  map["::Slice"] = convertSlice;
  map["::Gather"] = convertGather;
  map["::Shape"] = convertShape;
  map["::Size"] = convertSize;
  map["::Constant"] = convertConstant;
  map["::ConstantOfShape"] = convertConstantOfShape;
  map["::Expand"] = convertExpand;
  map["::Split"] = convertSplit;
}
