// RUN: onebit-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(onebit-serialize-nested-parallel{min-parallel-work=0}))' \
// RUN:   | FileCheck %s
// RUN: onebit-opt %s --split-input-file --onebit-serialize-nested-parallel \
// RUN:   | FileCheck %s --check-prefix=WORK

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

// Top-level loops stay parallel when they have the work (here: the option
// is 0); with the default of 16384 iterations, 8 stores run on one thread.
// CHECK-LABEL: func.func @top_level
// CHECK: scf.parallel
// CHECK: scf.parallel
// WORK-LABEL: func.func @top_level
// WORK-NOT: scf.parallel
// WORK: scf.for
// WORK: scf.for
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

// -----

// The work counts the loops inside: 128 x 256 iterations stay parallel by
// default, and so does a loop with dynamic bounds (its work is unknown).
// An scf.forall is never touched, nor a parallel loop nested in it.
// WORK-LABEL: func.func @work
// WORK: scf.parallel (%{{.*}}) = (%c0) to (%c128)
// WORK: scf.for %{{.*}} = %c0 to %c256
// WORK: scf.parallel (%{{.*}}) = (%c0) to (%[[N:.*]]) step
// WORK: scf.forall
// WORK-NOT: scf.parallel
// WORK: return
func.func @work(%m: memref<128x256xf32>, %d: memref<?xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %c256 = arith.constant 256 : index
  scf.parallel (%i) = (%c0) to (%c128) step (%c1) {
    scf.for %j = %c0 to %c256 step %c1 {
      memref.store %v, %m[%i, %j] : memref<128x256xf32>
    }
    scf.reduce
  }
  %n = memref.dim %d, %c0 : memref<?xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    memref.store %v, %d[%i] : memref<?xf32>
    scf.reduce
  }
  scf.forall (%i) in (4) {
    scf.parallel (%j) = (%c0) to (%c128) step (%c1) {
      memref.store %v, %m[%i, %j] : memref<128x256xf32>
      scf.reduce
    }
  }
  return
}
