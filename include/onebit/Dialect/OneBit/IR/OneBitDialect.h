//===- OneBitDialect.h - onebit dialect and attributes ----------*- C++ -*-===//

#ifndef ONEBIT_DIALECT_ONEBIT_IR_ONEBITDIALECT_H
#define ONEBIT_DIALECT_ONEBIT_IR_ONEBITDIALECT_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "onebit/Dialect/OneBit/IR/OneBitOpsDialect.h.inc"
#include "onebit/Dialect/OneBit/IR/OneBitEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "onebit/Dialect/OneBit/IR/OneBitAttrs.h.inc"

#endif // ONEBIT_DIALECT_ONEBIT_IR_ONEBITDIALECT_H
