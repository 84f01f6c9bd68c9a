//===- Passes.h - passes preparing a model for a target ---------*- C++ -*-===//

#ifndef ONEBIT_TARGET_PASSES_H
#define ONEBIT_TARGET_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::onebit {

/// Module attribute holding the signature text of the entry point.
constexpr llvm::StringLiteral kSignatureAttrName = "onebit.signature";

#define GEN_PASS_DECL
#include "onebit/Target/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "onebit/Target/Passes.h.inc"

} // namespace mlir::onebit

#endif // ONEBIT_TARGET_PASSES_H
