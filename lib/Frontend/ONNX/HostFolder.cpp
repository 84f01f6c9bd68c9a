//===- HostFolder.cpp - integer shape arithmetic at import time -----------===//

#include "HostFolder.h"
#include "Ops/OpHelpers.h"
#include "TensorReader.h"

#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace mlir::onebit;
using namespace mlir::onebit::onnx_import;

namespace {

/// Larger integer tensors are left to the generated code.
constexpr int64_t kMaxFoldedElements = 1 << 16;

struct IntTensor {
  SmallVector<int64_t> shape;
  SmallVector<int64_t> values;
  Type elementType;

  int64_t size() const { return values.size(); }
};

IntTensor toIntTensor(DenseElementsAttr attr) {
  IntTensor tensor;
  tensor.shape.assign(attr.getType().getShape().begin(),
                      attr.getType().getShape().end());
  tensor.elementType = attr.getElementType();
  bool isBool = tensor.elementType.isInteger(1);
  for (const APInt &value : attr.getValues<APInt>())
    tensor.values.push_back(isBool ? int64_t(value.getBoolValue())
                                   : value.getSExtValue());
  return tensor;
}

DenseElementsAttr toAttr(const IntTensor &tensor) {
  auto type = RankedTensorType::get(tensor.shape, tensor.elementType);
  unsigned width = tensor.elementType.getIntOrFloatBitWidth();
  SmallVector<APInt> values;
  for (int64_t value : tensor.values)
    values.emplace_back(width, uint64_t(value), /*isSigned=*/true,
                        /*implicitTrunc=*/true);
  return DenseElementsAttr::get(type, values);
}

SmallVector<int64_t> getStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// Numpy broadcasting of element-wise ops over any number of inputs.
std::optional<IntTensor>
broadcastApply(ArrayRef<IntTensor> inputs, Type elementType,
               function_ref<int64_t(ArrayRef<int64_t>)> apply) {
  size_t rank = 0;
  for (const IntTensor &input : inputs)
    rank = std::max(rank, input.shape.size());
  SmallVector<int64_t> shape(rank, 1);
  for (const IntTensor &input : inputs)
    for (size_t i = 0; i < input.shape.size(); ++i) {
      int64_t &dim = shape[rank - input.shape.size() + i];
      if (dim == 1)
        dim = input.shape[i];
      else if (input.shape[i] != 1 && input.shape[i] != dim)
        return std::nullopt;
    }
  IntTensor result{shape, {}, elementType};
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  SmallVector<int64_t> resultStrides = getStrides(shape);
  SmallVector<int64_t> operands(inputs.size());
  for (int64_t flat = 0; flat < count; ++flat) {
    for (auto [k, input] : llvm::enumerate(inputs)) {
      SmallVector<int64_t> strides = getStrides(input.shape);
      int64_t offset = 0;
      size_t lead = rank - input.shape.size();
      for (size_t i = 0; i < input.shape.size(); ++i) {
        int64_t index = (flat / resultStrides[lead + i]) % shape[lead + i];
        if (input.shape[i] != 1)
          offset += index * strides[i];
      }
      operands[k] = input.values[offset];
    }
    result.values.push_back(apply(operands));
  }
  return result;
}

int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

} // namespace

std::optional<SmallVector<DenseElementsAttr>>
mlir::onebit::onnx_import::foldOnHost(NodeImporter &node,
                                      ArrayRef<DenseElementsAttr> inputs) {
  const onnx::NodeProto &proto = node.getNode();
  if (!proto.domain().empty() && proto.domain() != "ai.onnx")
    return std::nullopt;
  // Values are read as signed and results typed signed: unsigned tensors
  // (never shapes) are left to the converters, which keep their type.
  for (unsigned i = 0; i < node.getNumInputs(); ++i)
    if (node.hasInput(i) && node.getInput(i)->isUnsigned)
      return std::nullopt;
  StringRef op = proto.op_type();
  // Range of any type: its size depends on its values, so it is always
  // computed here when they are known (the converter reports the rest).
  if (op == "Range") {
    if (inputs.size() != 3 || llvm::is_contained(inputs, nullptr))
      return std::nullopt;
    std::string error;
    FailureOr<DenseElementsAttr> range = computeRange(
        inputs[0], inputs[1], inputs[2], kMaxFoldedElements, error);
    if (failed(range))
      return std::nullopt;
    return SmallVector<DenseElementsAttr>{*range};
  }
  SmallVector<IntTensor> in;
  for (DenseElementsAttr input : inputs) {
    if (!input) {
      in.push_back({});
      continue;
    }
    if (!isa<IntegerType>(input.getElementType()) ||
        input.getNumElements() > kMaxFoldedElements)
      return std::nullopt;
    in.push_back(toIntTensor(input));
  }
  if (in.empty())
    return std::nullopt;
  Builder b(node.getContext());
  Type type = in[0].elementType;
  std::optional<IntTensor> out;

  using Fn = int64_t (*)(ArrayRef<int64_t>);
  // Wrapping like the generated code (two's complement, not C++'s UB).
  Fn binary =
      llvm::StringSwitch<Fn>(op)
          .Case("Add",
                [](ArrayRef<int64_t> v) {
                  return int64_t(uint64_t(v[0]) + uint64_t(v[1]));
                })
          .Case("Sub",
                [](ArrayRef<int64_t> v) {
                  return int64_t(uint64_t(v[0]) - uint64_t(v[1]));
                })
          .Case("Mul",
                [](ArrayRef<int64_t> v) {
                  return int64_t(uint64_t(v[0]) * uint64_t(v[1]));
                })
          .Default(nullptr);
  Fn variadic =
      llvm::StringSwitch<Fn>(op)
          .Case("Min",
                [](ArrayRef<int64_t> v) { return *llvm::min_element(v); })
          .Case("Max",
                [](ArrayRef<int64_t> v) { return *llvm::max_element(v); })
          .Case("Sum",
                [](ArrayRef<int64_t> v) {
                  uint64_t sum = 0;
                  for (int64_t x : v)
                    sum += uint64_t(x);
                  return int64_t(sum);
                })
          .Default(nullptr);
  Fn comparison =
      llvm::StringSwitch<Fn>(op)
          .Case("Equal",
                [](ArrayRef<int64_t> v) { return int64_t(v[0] == v[1]); })
          .Case("Less", [](ArrayRef<int64_t> v) { return int64_t(v[0] < v[1]); })
          .Case("Greater",
                [](ArrayRef<int64_t> v) { return int64_t(v[0] > v[1]); })
          .Case("And",
                [](ArrayRef<int64_t> v) { return int64_t(v[0] && v[1]); })
          .Case("Or", [](ArrayRef<int64_t> v) { return int64_t(v[0] || v[1]); })
          .Default(nullptr);

  if (llvm::any_of(in, [](const IntTensor &t) { return !t.elementType; }) &&
      op != "Slice" && op != "Squeeze" && op != "Unsqueeze")
    return std::nullopt;
  if (binary && in.size() == 2) {
    out = broadcastApply(in, type, binary);
  } else if (variadic && !in.empty()) {
    if (type.isInteger(1))
      return std::nullopt;
    out = broadcastApply(in, type, variadic);
  } else if (comparison && in.size() == 2) {
    out = broadcastApply(in, b.getI1Type(), comparison);
  } else if ((op == "Div" || op == "Mod") && in.size() == 2) {
    // Division by zero and INT64_MIN / -1 are left to the generated code.
    if (llvm::is_contained(in[1].values, 0) ||
        (llvm::is_contained(in[1].values, -1) &&
         llvm::is_contained(in[0].values, INT64_MIN)))
      return std::nullopt;
    bool fmod = node.getInt("fmod", 0);
    out = broadcastApply(in, type, [&](ArrayRef<int64_t> v) {
      if (op == "Div")
        return v[0] / v[1]; // ONNX integer Div truncates.
      return fmod ? v[0] % v[1] : v[0] - floorDiv(v[0], v[1]) * v[1];
    });
  } else if (op == "Neg" || op == "Not" || op == "Identity" || op == "Abs") {
    out = in[0];
    for (int64_t &v : out->values)
      v = op == "Neg" ? -v : op == "Not" ? !v : op == "Abs" ? std::abs(v) : v;
  } else if (op == "Where" && in.size() == 3) {
    out = broadcastApply(in, in[1].elementType, [](ArrayRef<int64_t> v) {
      return v[0] ? v[1] : v[2];
    });
  } else if (op == "Cast") {
    int32_t to = node.getInt("to", 0);
    Type target = getElementType(node.getContext(), to);
    if (!target || !isa<IntegerType>(target) || isUnsignedType(to))
      return std::nullopt;
    out = in[0];
    out->elementType = target;
    if (target.isInteger(1))
      for (int64_t &v : out->values)
        v = v != 0;
  } else if (op == "Unsqueeze" || op == "Squeeze") {
    SmallVector<int64_t> axes;
    if (in.size() > 1 && !in[1].values.empty())
      axes = in[1].values;
    else if (auto attr = node.getInts("axes"))
      axes = *attr;
    out = in[0];
    if (op == "Unsqueeze") {
      int64_t rank = in[0].shape.size() + axes.size();
      for (int64_t &axis : axes)
        axis = axis < 0 ? axis + rank : axis;
      llvm::sort(axes);
      for (int64_t axis : axes) {
        if (axis < 0 || axis > int64_t(out->shape.size()))
          return std::nullopt;
        out->shape.insert(out->shape.begin() + axis, 1);
      }
    } else {
      int64_t rank = in[0].shape.size();
      SmallVector<int64_t> shape;
      for (int64_t i = 0; i < rank; ++i) {
        bool listed = axes.empty() ? in[0].shape[i] == 1
                                   : llvm::any_of(axes, [&](int64_t a) {
                                       return (a < 0 ? a + rank : a) == i;
                                     });
        if (listed && in[0].shape[i] != 1)
          return std::nullopt;
        if (!listed)
          shape.push_back(in[0].shape[i]);
      }
      out->shape = shape;
    }
  } else if (op == "Concat") {
    int64_t rank = in[0].shape.size();
    int64_t axis = node.getInt("axis", 0);
    axis = axis < 0 ? axis + rank : axis;
    if (axis < 0 || axis >= rank)
      return std::nullopt;
    // Mismatched inputs are left to the converter to report.
    for (const IntTensor &t : in) {
      if (t.shape.size() != size_t(rank) || t.elementType != type)
        return std::nullopt;
      for (int64_t d = 0; d < rank; ++d)
        if (d != axis && t.shape[d] != in[0].shape[d])
          return std::nullopt;
    }
    out = IntTensor{in[0].shape, {}, type};
    out->shape[axis] = 0;
    for (const IntTensor &t : in)
      out->shape[axis] += t.shape[axis];
    int64_t outer = 1;
    for (int64_t i = 0; i < axis; ++i)
      outer *= in[0].shape[i];
    for (int64_t o = 0; o < outer; ++o)
      for (const IntTensor &t : in) {
        int64_t chunk = t.size() / std::max<int64_t>(outer, 1);
        if (outer == 0)
          break;
        out->values.append(t.values.begin() + o * chunk,
                           t.values.begin() + (o + 1) * chunk);
      }
  } else if (op == "Gather" && in.size() == 2) {
    int64_t rank = in[0].shape.size();
    int64_t axis = node.getInt("axis", 0);
    axis = axis < 0 ? axis + rank : axis;
    if (axis < 0 || axis >= rank)
      return std::nullopt;
    int64_t outer = 1, inner = 1, dim = in[0].shape[axis];
    for (int64_t i = 0; i < axis; ++i)
      outer *= in[0].shape[i];
    for (int64_t i = axis + 1; i < rank; ++i)
      inner *= in[0].shape[i];
    out = IntTensor{{}, {}, type};
    out->shape.append(in[0].shape.begin(), in[0].shape.begin() + axis);
    out->shape.append(in[1].shape.begin(), in[1].shape.end());
    out->shape.append(in[0].shape.begin() + axis + 1, in[0].shape.end());
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t index : in[1].values) {
        if (index < -dim || index >= dim)
          return std::nullopt;
        index = index < 0 ? index + dim : index;
        auto begin = in[0].values.begin() + (o * dim + index) * inner;
        out->values.append(begin, begin + inner);
      }
  } else if (op == "Slice" && in.size() >= 3 && in[0].shape.size() == 1) {
    int64_t dim = in[0].shape[0];
    SmallVector<int64_t> axes = in.size() > 3 && !in[3].values.empty()
                                    ? in[3].values
                                    : SmallVector<int64_t>{0};
    if (in[1].values.size() != 1 || axes.size() != 1 ||
        (axes[0] != 0 && axes[0] != -1))
      return std::nullopt;
    int64_t step = in.size() > 4 && !in[4].values.empty() ? in[4].values[0] : 1;
    if (step == 0)
      return std::nullopt;
    auto clamp = [&](int64_t v, int64_t lo, int64_t hi) {
      v = v < 0 ? v + dim : v;
      return std::clamp(v, lo, hi);
    };
    int64_t start = clamp(in[1].values[0], step > 0 ? 0 : -1,
                          step > 0 ? dim : dim - 1);
    int64_t end = clamp(in[2].values[0], step > 0 ? 0 : -1,
                        step > 0 ? dim : dim - 1);
    if (in[2].values[0] < -dim && step < 0)
      end = -1;
    out = IntTensor{{0}, {}, type};
    for (int64_t i = start; step > 0 ? i < end : i > end; i += step)
      out->values.push_back(in[0].values[i]);
    out->shape[0] = out->values.size();
  } else if (op == "Reshape" && in.size() == 2) {
    SmallVector<int64_t> shape = in[1].values;
    int64_t known = 1, inferred = -1;
    for (auto [i, dim] : llvm::enumerate(shape)) {
      if (dim == 0 && !node.getInt("allowzero", 0))
        dim = i < in[0].shape.size() ? in[0].shape[i] : 0;
      if (dim == -1)
        inferred = i;
      else
        known *= dim;
    }
    if (inferred >= 0)
      shape[inferred] = known ? in[0].size() / known : 0;
    int64_t count = 1;
    for (int64_t dim : shape) {
      if (dim < 0)
        return std::nullopt;
      count *= dim;
    }
    if (count != in[0].size())
      return std::nullopt;
    out = in[0];
    out->shape = shape;
  } else if (op == "Expand" && in.size() == 2) {
    IntTensor shape{in[1].values, SmallVector<int64_t>(), type};
    int64_t count = 1;
    for (int64_t dim : shape.shape) {
      if (dim < 0)
        return std::nullopt;
      count *= dim;
    }
    if (count > kMaxFoldedElements)
      return std::nullopt;
    shape.values.assign(count, 0);
    out = broadcastApply({in[0], shape}, type,
                         [](ArrayRef<int64_t> v) { return v[0]; });
  } else {
    return std::nullopt;
  }
  if (!out || out->size() > kMaxFoldedElements)
    return std::nullopt;
  return SmallVector<DenseElementsAttr>{toAttr(*out)};
}
