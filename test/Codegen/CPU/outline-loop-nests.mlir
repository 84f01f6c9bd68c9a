// RUN: onebit-opt %s --split-input-file --onebit-outline-loop-nests | FileCheck %s
// RUN: onebit-opt %s --split-input-file --onebit-outline-loop-nests \
// RUN:   --duplicate-function-elimination | FileCheck %s --check-prefix=DEDUP

// Each nest becomes a call; its buffers (a global's, a view's, an argument)
// become arguments in the order of first use, its constants are cloned in.
// CHECK-LABEL: func.func private @layers_loop_0
// CHECK-SAME: (%[[W:.*]]: memref<64xf32>, %[[OUT:.*]]: memref<64xf32>)
// CHECK-SAME: attributes {llvm.linkage = #llvm.linkage<internal>, no_inline}
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: scf.for %[[I:.*]] = %[[C0]] to %[[C64]] step %[[C1]]
// CHECK: memref.load %[[W]][%[[I]]]
// CHECK: memref.store %{{.*}}, %[[OUT]][%[[I]]]
// CHECK: return
// CHECK-LABEL: func.func private @layers_loop_1
// CHECK-LABEL: func.func @layers
// CHECK-SAME: (%[[X:.*]]: memref<64xf32>)
// CHECK: %[[W0:.*]] = memref.get_global @w0
// CHECK: %[[V0:.*]] = memref.view
// CHECK: call @layers_loop_0(%[[W0]], %[[V0]]) {no_inline}
// CHECK: %[[W1:.*]] = memref.get_global @w1
// CHECK: call @layers_loop_1(%[[W1]], %[[X]]) {no_inline}
// CHECK-NOT: scf.for

// The two nests differ only in their buffers: one function serves both.
// DEDUP-LABEL: func.func private @layers_loop_0
// DEDUP-NOT: func.func private
// DEDUP-LABEL: func.func @layers
// DEDUP: call @layers_loop_0(
// DEDUP: call @layers_loop_0(
memref.global "private" constant @w0 : memref<64xf32> = dense<1.0>
memref.global "private" constant @w1 : memref<64xf32> = dense<2.0>
func.func @layers(%x: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %arena = memref.alloc() : memref<256xi8>
  %w0 = memref.get_global @w0 : memref<64xf32>
  %v0 = memref.view %arena[%c0][] : memref<256xi8> to memref<64xf32>
  scf.for %i = %c0 to %c64 step %c1 {
    %w = memref.load %w0[%i] : memref<64xf32>
    memref.store %w, %v0[%i] : memref<64xf32>
  }
  %w1 = memref.get_global @w1 : memref<64xf32>
  scf.for %i = %c0 to %c64 step %c1 {
    %w = memref.load %w1[%i] : memref<64xf32>
    memref.store %w, %x[%i] : memref<64xf32>
  }
  memref.dealloc %arena : memref<256xi8>
  return
}

// -----

// Results of a nest are the function's results; a bound that differs keeps
// the nests apart, and an existing symbol makes the new name unique.
// CHECK-LABEL: func.func private @sums_loop_0_0
// CHECK-SAME: (%{{.*}}: memref<64xf32>) -> f32
// CHECK: %[[SUM:.*]] = scf.for
// CHECK: return %[[SUM]] : f32
// CHECK-LABEL: func.func @sums
// CHECK: %[[A:.*]] = call @sums_loop_0_0(%arg0) {no_inline} : (memref<64xf32>) -> f32
// CHECK: %[[B:.*]] = call @sums_loop_1(%arg0) {no_inline} : (memref<64xf32>) -> f32
// CHECK: arith.addf %[[A]], %[[B]]
// CHECK-LABEL: func.func private @sums_loop_0()
// CHECK-NOT: call

// DEDUP-LABEL: func.func @sums
// DEDUP: call @sums_loop_0_0(
// DEDUP: call @sums_loop_1(
func.func @sums(%x: memref<64xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %a = scf.for %i = %c0 to %c64 step %c1 iter_args(%acc = %zero) -> f32 {
    %v = memref.load %x[%i] : memref<64xf32>
    %s = arith.addf %acc, %v : f32
    scf.yield %s : f32
  }
  %b = scf.for %i = %c0 to %c32 step %c1 iter_args(%acc = %zero) -> f32 {
    %v = memref.load %x[%i] : memref<64xf32>
    %s = arith.addf %acc, %v : f32
    scf.yield %s : f32
  }
  %sum = arith.addf %a, %b : f32
  return %sum : f32
}
func.func private @sums_loop_0() {
  return
}
