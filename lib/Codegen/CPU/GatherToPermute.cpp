//===- GatherToPermute.cpp - table lookups as AVX-512 permutes ------------===//
//
// A gather of 16 floats from one 16-float row is a register permute: load
// the row once and let `vpermps` pick the lanes. Kept apart from the kernel
// because the intrinsic has no memory-effect model, which bufferization's
// deallocation refuses; after it, the rewrite is a local peephole.
//
//===----------------------------------------------------------------------===//

#include "onebit/Codegen/Passes.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITGATHERTOPERMUTE
#include "onebit/Codegen/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

constexpr int64_t kRowLanes = 16;

/// The vector<16xi32> that `indices` masks to its low 4 bits
/// (`arith.andi %x, 15`), or null.
Value getUnmaskedIndices(Value indices) {
  auto mask = indices.getDefiningOp<arith::AndIOp>();
  if (!mask)
    return nullptr;
  for (auto [value, other] : {std::pair{mask.getLhs(), mask.getRhs()},
                              std::pair{mask.getRhs(), mask.getLhs()}}) {
    APInt splat;
    if (matchPattern(other, m_ConstantInt(&splat)) && splat == kRowLanes - 1)
      return value;
  }
  return nullptr;
}

/// Whether `gather` reads 16 floats of one contiguous 16-float row at
/// indices in [0, 16); returns the unmasked indices.
Value matchRowGather(vector::GatherOp gather) {
  auto baseType = dyn_cast<MemRefType>(gather.getBase().getType());
  VectorType resultType = gather.getVectorType();
  auto indexType = dyn_cast<VectorType>(gather.getIndices().getType());
  if (!baseType || !baseType.getElementType().isF32() ||
      baseType.getRank() == 0 || baseType.getShape().back() != kRowLanes ||
      !baseType.isLastDimUnitStride() ||
      resultType != VectorType::get({kRowLanes}, baseType.getElementType()) ||
      !indexType || !indexType.getElementType().isInteger(32) ||
      !matchPattern(gather.getOffsets().back(), m_Zero()) ||
      !matchPattern(gather.getMask(), m_One()))
    return nullptr;
  return getUnmaskedIndices(gather.getIndices());
}

struct OneBitGatherToPermutePass
    : onebit::impl::OneBitGatherToPermuteBase<OneBitGatherToPermutePass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    getOperation()->walk([&](vector::GatherOp gather) {
      Value indices = matchRowGather(gather);
      if (!indices)
        return;
      rewriter.setInsertionPoint(gather);
      Location loc = gather.getLoc();
      Value row = vector::LoadOp::create(rewriter, loc, gather.getVectorType(),
                                         gather.getBase(), gather.getOffsets());
      Operation *permute = LLVM::CallIntrinsicOp::create(
          rewriter, loc, gather.getVectorType(),
          rewriter.getStringAttr("llvm.x86.avx512.permvar.sf.512"),
          ValueRange{row, indices});
      rewriter.replaceOp(gather, permute->getResults());
    });
  }
};

} // namespace
