//===- Passes.h - onebit code generation passes -----------------*- C++ -*-===//
//
// The passes of lib/Codegen: memory planning (Common), CPU loop nests (CPU)
// and GPU kernels (GPU). Conversions into these kernels live in
// lib/Conversion, the pipelines that order them in lib/Target.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_CODEGEN_PASSES_H
#define ONEBIT_CODEGEN_PASSES_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "onebit/Dialect/OneBit/IR/OneBitDialect.h"

namespace mlir::onebit {

/// Function attributes of `onebit-plan-arena`: the arena's size, how many
/// buffers it holds and the sum of their sizes.
constexpr llvm::StringLiteral kArenaBytesAttrName = "onebit.arena_bytes";
constexpr llvm::StringLiteral kArenaBuffersAttrName = "onebit.arena_buffers";
constexpr llvm::StringLiteral kArenaUnsharedBytesAttrName =
    "onebit.arena_unshared_bytes";

/// The most input rows the decode kernel takes (its activations live in
/// registers).
constexpr int64_t kMaxSignGemvRows = 4;
/// Whether onebit-gpu-sign-gemv's kernel computes the product of `rows`
/// input rows with signs packed as `packing` over `inFeatures` inputs.
bool isSignGemvCandidate(int64_t rows, int64_t inFeatures,
                         SignPackingAttr packing);
/// Whether onebit-gpu-sign-mma's kernel computes the product of activations
/// of `elementType` with signs packed as `packing` over `inFeatures` inputs.
bool isSignMmaCandidate(Type elementType, int64_t inFeatures,
                        SignPackingAttr packing);

#define GEN_PASS_DECL
#include "onebit/Codegen/Passes.h.inc"

/// What is wrong with onebit-gpu-select-schedules' options, naming each
/// option with `dashes` before it ("" for the pass, "--" for a tool's
/// flags), or "" where they are all in range.
std::string
verifyGPUScheduleOptions(const OneBitGPUSelectSchedulesOptions &options,
                         StringRef dashes);

#define GEN_PASS_REGISTRATION
#include "onebit/Codegen/Passes.h.inc"

} // namespace mlir::onebit

#endif // ONEBIT_CODEGEN_PASSES_H
