// RUN: onebit-opt %s --onebit-interchange-contractions --split-input-file | FileCheck %s

// A matmul's reduction moves outside its contiguous output dimension.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @matmul
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "reduction", "parallel"]}
// CHECK-SAME: ins(%arg0, %arg1 : memref<4x8xf32>, memref<8x16xf32>) outs(%arg2 : memref<4x16xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @matmul(%a: memref<4x8xf32>, %b: memref<8x16xf32>, %c: memref<4x16xf32>) {
  linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>) outs(%c : memref<4x16xf32>)
  return
}

// -----

// Attention's batched products on tensors: batch and row loops stay outside.
// CHECK-DAG: #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[B:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG: #[[C:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @batch_matmul
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[C]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
func.func @batch_matmul(%a: tensor<2x4x8xf32>, %b: tensor<2x8x16xf32>, %c: tensor<2x4x16xf32>) -> tensor<2x4x16xf32> {
  %0 = linalg.batch_matmul ins(%a, %b : tensor<2x4x8xf32>, tensor<2x8x16xf32>) outs(%c : tensor<2x4x16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// -----

// B read transposed: the output's column is B's strided index, so the
// loops keep their order (and the named op stays).
// CHECK-LABEL: func.func @transposed_operand
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel", "reduction"]
#map_a = affine_map<(i, j, k) -> (i, k)>
#map_bt = affine_map<(i, j, k) -> (j, k)>
#map_c = affine_map<(i, j, k) -> (i, j)>
func.func @transposed_operand(%a: memref<4x8xf32>, %bt: memref<16x8xf32>, %c: memref<4x16xf32>) {
  linalg.generic {indexing_maps = [#map_a, #map_bt, #map_c],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %bt : memref<4x8xf32>, memref<16x8xf32>) outs(%c : memref<4x16xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A row reduction has no parallel loop after its reduction to move.
// CHECK-LABEL: func.func @row_sum
// CHECK: linalg.reduce
func.func @row_sum(%x: memref<4x8xf32>, %out: memref<4xf32>) {
  linalg.reduce ins(%x : memref<4x8xf32>) outs(%out : memref<4xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return
}

// -----

// Elementwise ops have no reduction and are left alone.
// CHECK-LABEL: func.func @elementwise
// CHECK: linalg.add
func.func @elementwise(%x: memref<4x8xf32>, %y: memref<4x8xf32>, %out: memref<4x8xf32>) {
  linalg.add ins(%x, %y : memref<4x8xf32>, memref<4x8xf32>) outs(%out : memref<4x8xf32>)
  return
}
