// RUN: onebit-opt %s --split-input-file --verify-diagnostics --onebit-copy-repeated-results | FileCheck %s

// A buffer returned twice: the second result gets its own copy.
// CHECK-LABEL: func.func @twice(
// CHECK-SAME: %[[A:.*]]: memref<2xf32>)
// CHECK: %[[COPY:.*]] = memref.alloc() : memref<2xf32>
// CHECK: memref.copy %[[A]], %[[COPY]] : memref<2xf32> to memref<2xf32>
// CHECK: return %[[A]], %[[COPY]], %{{.*}} : memref<2xf32>, memref<2xf32>, memref<4xf32>
func.func @twice(%a: memref<2xf32>) -> (memref<2xf32>, memref<2xf32>, memref<4xf32>) {
  %b = memref.alloc() : memref<4xf32>
  return %a, %a, %b : memref<2xf32>, memref<2xf32>, memref<4xf32>
}

// -----

// Distinct results and tensors stay as they are.
// CHECK-LABEL: func.func @distinct(
// CHECK-NOT: memref.copy
// CHECK: return %arg0, %arg1, %arg2, %arg2 : memref<2xf32>, memref<2xf32>, tensor<2xf32>, tensor<2xf32>
func.func @distinct(%a: memref<2xf32>, %b: memref<2xf32>, %t: tensor<2xf32>) -> (memref<2xf32>, memref<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  return %a, %b, %t, %t : memref<2xf32>, memref<2xf32>, tensor<2xf32>, tensor<2xf32>
}

// -----

func.func @dynamic(%a: memref<?xf32>) -> (memref<?xf32>, memref<?xf32>) {
  // expected-error @below {{returns 'memref<?xf32>' twice; only buffers of static shape and identity layout can be copied for the second result}}
  return %a, %a : memref<?xf32>, memref<?xf32>
}
