//===- DTypes.cpp - numpy names of element types --------------------------===//

#include "onebit/Utils/DTypes.h"
#include "onebit/Runtime/onebit_runtime.h"

#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

std::string mlir::onebit::getNumpyDTypeName(Type elementType,
                                            bool isUnsigned) {
  if (elementType.isF32())
    return "float32";
  if (elementType.isF16())
    return "float16";
  if (elementType.isBF16())
    return "bfloat16";
  if (elementType.isF64())
    return "float64";
  if (elementType.isInteger(1))
    return "bool";
  if (elementType.isIntOrFloat())
    return (isUnsigned ? "uint" : "int") +
           std::to_string(elementType.getIntOrFloatBitWidth());
  return "";
}

bool mlir::onebit::isRuntimeDType(llvm::StringRef name) {
#define ONEBIT_DTYPE_NAME(suffix, numpyName, size) numpyName,
  static constexpr llvm::StringLiteral names[] = {
      ONEBIT_DTYPE_LIST(ONEBIT_DTYPE_NAME)};
#undef ONEBIT_DTYPE_NAME
  return llvm::is_contained(names, name);
}
