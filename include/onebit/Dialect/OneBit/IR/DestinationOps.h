//===- DestinationOps.h - onebit ops on tensors and buffers -----*- C++ -*-===//
//
// onebit.cached_attention and onebit.packed_sign_product work on tensors
// and on memrefs alike, as linalg ops do: what their verifiers and memory
// effects share.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_DIALECT_ONEBIT_IR_DESTINATIONOPS_H
#define ONEBIT_DIALECT_ONEBIT_IR_DESTINATIONOPS_H

#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::onebit {

/// Operands all tensors (then results follow) or all memrefs (then no
/// results).
LogicalResult verifyTensorsOrBuffers(DestinationStyleOpInterface op);

/// None on tensors; on buffers, a read of every operand and a write of
/// every init.
void getDestinationEffects(
    DestinationStyleOpInterface op,
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects);

} // namespace mlir::onebit

#endif // ONEBIT_DIALECT_ONEBIT_IR_DESTINATIONOPS_H
