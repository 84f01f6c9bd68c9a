//===- BufferizableOpInterfaceImpl.h - onebit ops on buffers ----*- C++ -*-===//

#ifndef ONEBIT_DIALECT_ONEBIT_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
#define ONEBIT_DIALECT_ONEBIT_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
namespace onebit {

/// One-Shot Bufferize's model of the destination-style onebit ops
/// (onebit.cached_attention): each result lives in its init's buffer.
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);

} // namespace onebit
} // namespace mlir

#endif // ONEBIT_DIALECT_ONEBIT_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
