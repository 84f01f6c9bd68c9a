//===- DestinationOps.cpp - onebit ops on tensors and buffers -------------===//

#include "onebit/Dialect/OneBit/IR/DestinationOps.h"

#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

LogicalResult
onebit::verifyTensorsOrBuffers(DestinationStyleOpInterface op) {
  bool tensors = isa<TensorType>(op->getOperand(0).getType());
  for (Value operand : op->getOperands())
    if (isa<TensorType>(operand.getType()) != tensors)
      return op->emitOpError()
             << "operands must be all tensors or all memrefs";
  if (!tensors && op->getNumResults() != 0)
    return op->emitOpError() << "has no results on memrefs";
  return success();
}

void onebit::getDestinationEffects(
    DestinationStyleOpInterface op,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    effects.emplace_back(MemoryEffects::Read::get(), &operand,
                         SideEffects::DefaultResource::get());
    if (op.isDpsInit(&operand))
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}
