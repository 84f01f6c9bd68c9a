//===- InterleaveSigns.cpp - signs 16 rows interleaved for the CPU
//---------===//

#include "onebit/Dialect/OneBit/IR/OneBitOps.h"
#include "onebit/Dialect/OneBit/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

namespace mlir::onebit {
#define GEN_PASS_DEF_ONEBITINTERLEAVESIGNS
#include "onebit/Dialect/OneBit/Transforms/Passes.h.inc"
} // namespace mlir::onebit

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// Output rows that one 16-byte load of the interleaved layout covers: the
/// lanes of one AVX-512 vector of f32 partial sums.
constexpr unsigned kInterleavedRows = 16;

struct OneBitInterleaveSignsPass
    : onebit::impl::OneBitInterleaveSignsBase<OneBitInterleaveSignsPass> {
  void runOnOperation() override {
    getOperation()->walk([](LinearOp op) {
      SignPackingAttr packing = op.getPacking();
      // OneBit's bytes, whose words the repack only moves (its fold is then
      // a copy): the kernel reads bytes, LSB first.
      if (packing.getWord() != 8 || packing.getOrder() != BitOrder::LSBFirst ||
          packing.getInterleave() != 1 ||
          op.getOutFeatures() % kInterleavedRows != 0 ||
          !matchPattern(op.getSigns(), m_Constant()))
        return;
      auto interleaved = SignPackingAttr::get(
          op.getContext(), packing.getWord(), packing.getOrder(),
          packing.getNegative(), kInterleavedRows);
      auto type = RankedTensorType::get(
          interleaved.getPackedShape(op.getOutFeatures(), op.getInFeatures()),
          op.getSigns().getType().getElementType());
      OpBuilder builder(op);
      Value signs = builder.createOrFold<RepackOp>(
          op.getLoc(), type, op.getSigns(), op.getInFeatures(), packing,
          interleaved);
      op.getSignsMutable().assign(signs);
      op.setPackingAttr(interleaved);
    });
  }
};

} // namespace
