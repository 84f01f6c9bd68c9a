// RUN: onebit-opt %s --split-input-file --verify-diagnostics \
// RUN:   --pass-pipeline='builtin.module(func.func(onebit-gpu-tile-loops))' | FileCheck %s

// A load, the arithmetic on its value and the store of the result (what a
// one-element op becomes once its loop is folded away) run together as one
// one-thread kernel, after the ops they need; a loop nest after them stays
// its own kernel.
// CHECK-LABEL: func.func @sequential_run
// CHECK: %[[ONE:.*]] = arith.constant 1 : i32
// CHECK: scf.parallel
// CHECK: %[[V:.*]] = memref.load %arg0[%{{.*}}]
// CHECK-NEXT: %[[S:.*]] = arith.addi %[[V]], %[[ONE]]
// CHECK-NEXT: memref.store %[[S]], %arg1[%{{.*}}]
// CHECK: %[[C8:.*]] = arith.constant 8 : index
// CHECK: scf.parallel
// CHECK: memref.store %arg3, %arg2
func.func @sequential_run(%a: memref<1xi32>, %b: memref<1xi32>, %c: memref<8xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %v = memref.load %a[%c0] : memref<1xi32>
  %one = arith.constant 1 : i32
  %s = arith.addi %v, %one : i32
  memref.store %s, %b[%c0] : memref<1xi32>
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %x, %c[%i] : memref<8xf32>
    scf.reduce
  }
  return
}

// -----

// A value read from device memory that a later loop nest needs on the host
// cannot be computed: the error names the op.
func.func @needed_on_host(%a: memref<1xindex>, %c: memref<8xf32>, %x: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{'memref.load' cannot run on the GPU: it reads device memory and its results are needed on the host}}
  %n = memref.load %a[%c0] : memref<1xindex>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %x, %c[%i] : memref<8xf32>
    scf.reduce
  }
  return
}

// -----

// A buffer freed between the load and the store is freed after the kernel
// that now holds them both.
// CHECK-LABEL: func.func @free_in_between
// CHECK: scf.parallel
// CHECK: memref.load %arg0
// CHECK: memref.store %{{.*}}, %arg1
// CHECK: scf.reduce
// CHECK: memref.dealloc %arg2
// CHECK-NEXT: return
func.func @free_in_between(%a: memref<1xf32>, %b: memref<1xf32>, %t: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %v = memref.load %a[%c0] : memref<1xf32>
  memref.dealloc %t : memref<4xf32>
  %w = arith.addf %v, %v : f32
  memref.store %w, %b[%c0] : memref<1xf32>
  return
}
