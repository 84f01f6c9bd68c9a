//===- InitAll.h - everything onebit's tools register -----------*- C++ -*-===//
//
// One place that lists the dialects, passes and pipelines of onebit-opt and
// onebit-compile, so that every step of onebit-compile can be replayed with
// onebit-opt.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_INITALL_H
#define ONEBIT_INITALL_H

namespace mlir {
class DialectRegistry;

namespace onebit {

/// The onebit dialect, the upstream dialects the importer and the backends
/// produce, and their external models (bufferization, inlining, ...).
void registerAllDialects(DialectRegistry &registry);

/// onebit's passes and pipelines plus the upstream passes they build on.
void registerAllPasses();

} // namespace onebit
} // namespace mlir

#endif // ONEBIT_INITALL_H
