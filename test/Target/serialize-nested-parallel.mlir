// RUN: onebit-opt %s --onebit-serialize-nested-parallel --split-input-file | FileCheck %s

// The outer loop stays parallel; the inner one, under a reduction loop,
// becomes a sequential loop with the same bounds and body.
// CHECK-LABEL: func.func @contraction_nest
// CHECK: scf.parallel (%[[I:.*]]) =
// CHECK-NEXT: scf.for %[[K:.*]] = %c0 to %c8 step %c1
// CHECK-NEXT: scf.for %[[J:.*]] = %c0 to %c16 step %c1
// CHECK: memref.load %arg0[%[[I]], %[[K]]]
// CHECK: memref.load %arg1[%[[K]], %[[J]]]
// CHECK: memref.store %{{.*}}, %arg2[%[[I]], %[[J]]]
// CHECK-NOT: scf.parallel
func.func @contraction_nest(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.for %k = %c0 to %c8 step %c1 {
      scf.parallel (%j) = (%c0) to (%c16) step (%c1) {
        %x = memref.load %a[%i, %k] : memref<4x8xf32>
        %y = memref.load %b[%k, %j] : memref<8x16xf32>
        %acc = memref.load %c[%i, %j] : memref<4x16xf32>
        %p = arith.mulf %x, %y : f32
        %s = arith.addf %acc, %p : f32
        memref.store %s, %c[%i, %j] : memref<4x16xf32>
        scf.reduce
      }
    }
    scf.reduce
  }
  return
}

// -----

// A multi-dimensional inner loop becomes a nest, outermost variable first;
// two levels of nesting are both serialized.
// CHECK-LABEL: func.func @deep
// CHECK: scf.parallel (%{{.*}}) =
// CHECK-NEXT: scf.for %[[A:.*]] = %c0 to %c2 step %c1
// CHECK-NEXT: scf.for %[[B:.*]] = %c0 to %c3 step %c1
// CHECK-NEXT: scf.for %[[C:.*]] = %c0 to %c4 step %c1
// CHECK-NEXT: memref.store %{{.*}}, %arg0[%[[A]], %[[B]], %[[C]]]
// CHECK-NOT: scf.parallel
func.func @deep(%m: memref<2x3x4xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  scf.parallel (%t) = (%c0) to (%c2) step (%c1) {
    scf.parallel (%a, %b) = (%c0, %c0) to (%c2, %c3) step (%c1, %c1) {
      scf.parallel (%c) = (%c0) to (%c4) step (%c1) {
        memref.store %v, %m[%a, %b, %c] : memref<2x3x4xf32>
        scf.reduce
      }
      scf.reduce
    }
    scf.reduce
  }
  return
}

// -----

// Top-level loops are untouched.
// CHECK-LABEL: func.func @top_level
// CHECK: scf.parallel
// CHECK: scf.parallel
func.func @top_level(%m: memref<8xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %v, %m[%i] : memref<8xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %v, %m[%i] : memref<8xf32>
    scf.reduce
  }
  return
}
