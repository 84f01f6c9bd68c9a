// RUN: onebit-opt %s --onebit-cpu-attention | FileCheck %s
// RUN: onebit-opt %s --onebit-cpu-attention | FileCheck %s --check-prefix=NOEXP

// A decoding step over a cache of dynamic rows, 4 query heads sharing 2
// key/value heads: one task per (batch, kv head, query tile) handles both
// of its query heads; the loop over cache rows stops at the position
// (clamped to the rows there are), in blocks of row_block, then the rest
// one by one, then the new rows; the new keys and values land at row
// position + t when it is inside the cache.

// CHECK-LABEL: func @decode
// CHECK-SAME: %[[POS:[a-z0-9]+]]: memref<1xi64>
// CHECK-SAME: %[[OUT:[a-z0-9]+]]: memref<1x4x1x8xf32>, %[[KC:[a-z0-9]+]]: memref<1x2x?x8xf32>, %[[VC:[a-z0-9]+]]: memref<1x2x?x8xf32>
// CHECK: %[[P:.*]] = memref.load %[[POS]]
// CHECK: %[[ROWS:.*]] = memref.dim %[[KC]], %c2
// CHECK: %[[VALID:.*]] = arith.minsi %{{.*}}, %[[ROWS]]
// CHECK: scf.forall (%[[B:.*]], %[[H:.*]], %[[T:.*]]) in (1, 2, 1)
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %{{.*}} step %c16
// CHECK-COUNT-2: vector.transfer_read %[[KC]]
// CHECK: scf.for
// CHECK: vector.transfer_write %{{.*}}, %[[OUT]]
// CHECK: vector.transfer_write %{{.*}}, %[[OUT]]
// CHECK: scf.if
// CHECK: vector.transfer_write %{{.*}}, %[[KC]][%[[B]], %[[H]], %{{.*}}, %{{.*}}]
// CHECK: vector.transfer_write %{{.*}}, %[[VC]][%[[B]], %[[H]], %{{.*}}, %{{.*}}]
// CHECK-NOT: onebit.cached_attention
// The exponentials are polynomials in vector code, not libm calls.
// NOEXP-NOT: math.exp
func.func @decode(%q: memref<1x4x1x8xf32>, %k: memref<1x2x1x8xf32>, %v: memref<1x2x1x8xf32>, %pos: memref<1xi64>, %out: memref<1x4x1x8xf32>, %kc: memref<1x2x?x8xf32>, %vc: memref<1x2x?x8xf32>) {
  onebit.cached_attention ins(%q, %k, %v, %pos : memref<1x4x1x8xf32>, memref<1x2x1x8xf32>, memref<1x2x1x8xf32>, memref<1xi64>) outs(%out, %kc, %vc : memref<1x4x1x8xf32>, memref<1x2x?x8xf32>, memref<1x2x?x8xf32>) scale(0.5) schedule(#onebit.cpu_attention_schedule<row_block = 16, query_tile = 1>)
  return
}
