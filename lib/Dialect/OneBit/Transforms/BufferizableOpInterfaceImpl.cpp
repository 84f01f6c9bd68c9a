//===- BufferizableOpInterfaceImpl.cpp - onebit ops on buffers ------------===//
//
// onebit.cached_attention works on tensors and on memrefs alike (as linalg
// ops do): bufferizing it swaps every tensor operand for its buffer and
// drops the results, which live in the inits' buffers. Bufferized in place,
// the caches are the caller's buffers: the op extends them where they are.
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

struct CachedAttentionOpInterface
    : DstBufferizableOpInterfaceExternalModel<CachedAttentionOpInterface,
                                              CachedAttentionOp> {
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
    unsigned inits = op->getNumOperands() - 3;
    replaceOpWithBufferizedValues(
        rewriter, op,
        {operands[inits], operands[inits + 1], operands[inits + 2]});
    return success();
  }
};

} // namespace

void mlir::onebit::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, OneBitDialect *) {
    CachedAttentionOp::attachInterface<CachedAttentionOpInterface>(*context);
  });
}
