//===- DTypes.h - numpy names of element types ------------------*- C++ -*-===//

#ifndef ONEBIT_UTILS_DTYPES_H
#define ONEBIT_UTILS_DTYPES_H

#include "mlir/IR/Types.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir::onebit {

/// The numpy name of an element type ("float32", "uint8", ...);
/// unsigned integers need `isUnsigned` (MLIR's are signless).
std::string getNumpyDTypeName(Type elementType, bool isUnsigned = false);

/// Whether a model library's inputs and outputs can have the numpy dtype
/// `name` (ONEBIT_DTYPE_LIST of onebit_runtime.h).
bool isRuntimeDType(llvm::StringRef name);

} // namespace mlir::onebit

#endif // ONEBIT_UTILS_DTYPES_H
