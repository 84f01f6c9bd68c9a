//===- BufferizableOpInterfaceImpl.cpp - onebit ops on buffers ------------===//
//
// onebit.cached_attention and onebit.packed_sign_product work on tensors
// and on memrefs alike (as linalg ops do): bufferizing one swaps every
// tensor operand for its buffer and drops the results, which live in the
// inits' buffers. Bufferized in place, an attention's caches are the
// caller's buffers: the op extends them where they are.
//
//===----------------------------------------------------------------------===//

#include "onebit/Dialect/OneBit/Transforms/BufferizableOpInterfaceImpl.h"
#include "onebit/Dialect/OneBit/IR/OneBitOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace mlir::onebit;

namespace {

template <typename OpTy>
struct DestinationOpInterface
    : DstBufferizableOpInterfaceExternalModel<DestinationOpInterface<OpTy>,
                                              OpTy> {
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    SmallVector<Value> operands;
    for (Value operand : op->getOperands()) {
      if (!isa<TensorType>(operand.getType())) {
        operands.push_back(operand);
        continue;
      }
      FailureOr<Value> buffer = getBuffer(rewriter, operand, options, state);
      if (failed(buffer))
        return failure();
      operands.push_back(*buffer);
    }
    rewriter.setInsertionPoint(op);
    // Same attributes, no results.
    rewriter.create(op->getLoc(), op->getName().getIdentifier(), operands,
                    TypeRange(), op->getAttrs());
    auto destination = cast<DestinationStyleOpInterface>(op);
    SmallVector<Value> inits;
    for (OpOperand &init : destination.getDpsInitsMutable())
      inits.push_back(operands[init.getOperandNumber()]);
    replaceOpWithBufferizedValues(rewriter, op, inits);
    return success();
  }
};

} // namespace

void mlir::onebit::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, OneBitDialect *) {
    CachedAttentionOp::attachInterface<
        DestinationOpInterface<CachedAttentionOp>>(*context);
    PackedSignProductOp::attachInterface<
        DestinationOpInterface<PackedSignProductOp>>(*context);
  });
}
