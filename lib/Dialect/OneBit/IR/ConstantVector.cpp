//===- ConstantVector.cpp - small constant float vectors ------------------===//

#include "onebit/Dialect/OneBit/IR/ConstantVector.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <cstring>

using namespace mlir;
using namespace mlir::onebit;

std::optional<SmallVector<double>> mlir::onebit::getConstantFloats(Value value) {
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) ||
      !isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  SmallVector<double> values;
  values.reserve(attr.getNumElements());
  for (const APFloat &element : attr.getValues<APFloat>())
    values.push_back(element.convertToDouble());
  return values;
}

bool mlir::onebit::isConstantSplat(Value value, double splat) {
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) ||
      !isa<FloatType>(attr.getElementType()) || !attr.isSplat())
    return false;
  return attr.getSplatValue<APFloat>().convertToDouble() == splat;
}

Value mlir::onebit::createFloatConstant(OpBuilder &builder, Location loc,
                                        RankedTensorType type,
                                        ArrayRef<double> values) {
  auto elementType = cast<FloatType>(type.getElementType());
  SmallVector<APFloat> elements;
  elements.reserve(values.size());
  for (double value : values) {
    APFloat element(value);
    bool losesInfo;
    element.convert(elementType.getFloatSemantics(),
                    APFloat::rmNearestTiesToEven, &losesInfo);
    elements.push_back(element);
  }
  return arith::ConstantOp::create(builder, loc,
                                   DenseElementsAttr::get(type, elements));
}

/// IEEE half bits to float, exactly (every half is a float). Bit
/// manipulation instead of APFloat: a model's weights are read once per
/// element, and APFloat took seconds per hundred million of them.
static float halfToFloat(uint16_t bits) {
  uint32_t sign = uint32_t(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1f;
  uint32_t mantissa = bits & 0x3ff;
  uint32_t result;
  if (exponent == 0x1f) { // inf, nan
    result = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) { // normal
    result = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) { // zero
    result = sign;
  } else { // subnormal: normalise the mantissa
    int shift = 0;
    while (!(mantissa & 0x400)) {
      mantissa <<= 1;
      ++shift;
    }
    result = sign | (uint32_t(113 - shift) << 23) | ((mantissa & 0x3ff) << 13);
  }
  float value;
  std::memcpy(&value, &result, sizeof(value));
  return value;
}

/// Converts one stored element of `type` (f32, f16 or bf16) at `data` to
/// float.
static float loadFloat(FloatType type, const char *data) {
  if (type.isF32()) {
    float value;
    std::memcpy(&value, data, sizeof(value));
    return value;
  }
  uint16_t bits;
  std::memcpy(&bits, data, sizeof(bits));
  if (type.isF16())
    return halfToFloat(bits);
  uint32_t widened = uint32_t(bits) << 16; // bf16 is a truncated float
  float value;
  std::memcpy(&value, &widened, sizeof(value));
  return value;
}

std::optional<std::vector<float>>
mlir::onebit::readFloatElements(ElementsAttr attr) {
  auto type = dyn_cast<FloatType>(attr.getElementType());
  if (!type || !(type.isF32() || type.isF16() || type.isBF16()))
    return std::nullopt;
  size_t count = attr.getNumElements();
  std::vector<float> values(count);
  size_t size = type.getWidth() / 8;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    ArrayRef<char> raw = dense.getRawData();
    bool splat = dense.isSplat();
    for (size_t i = 0; i < count; ++i)
      values[i] = loadFloat(type, raw.data() + (splat ? 0 : i * size));
    return values;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != count * size)
      return std::nullopt;
    const char *raw = blob->getData().data();
    for (size_t i = 0; i < count; ++i)
      values[i] = loadFloat(type, raw + i * size);
    return values;
  }
  return std::nullopt;
}

std::optional<ArrayRef<char>>
mlir::onebit::getRawElementBytes(Attribute attr) {
  if (auto dense = dyn_cast_if_present<DenseElementsAttr>(attr))
    if (!dense.isSplat())
      return dense.getRawData();
  if (auto resource = dyn_cast_if_present<DenseResourceElementsAttr>(attr))
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
      return blob->getData();
  return std::nullopt;
}

ElementsAttr mlir::onebit::getElementsFromRawBytes(ShapedType type,
                                                   ArrayRef<char> bytes,
                                                   StringRef resourceName) {
  constexpr size_t kResourceBytes = 4096;
  if (bytes.size() < kResourceBytes)
    return DenseElementsAttr::getFromRawBuffer(type, bytes);
  return DenseResourceElementsAttr::get(
      type, resourceName,
      HeapAsmResourceBlob::allocateAndCopyInferAlign(bytes));
}
