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

/// Converts one stored element of `type` at `data` to float.
static float loadFloat(FloatType type, const char *data) {
  if (type.isF32()) {
    float value;
    std::memcpy(&value, data, sizeof(value));
    return value;
  }
  uint16_t bits;
  std::memcpy(&bits, data, sizeof(bits));
  APFloat value(type.getFloatSemantics(), APInt(16, bits));
  return value.convertToFloat();
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
