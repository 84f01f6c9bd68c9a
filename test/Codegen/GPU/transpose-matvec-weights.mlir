// RUN: onebit-opt %s -split-input-file -onebit-gpu-transpose-matvec-weights --mlir-print-local-scope | FileCheck %s
// RUN: onebit-opt %s -split-input-file -onebit-gpu-transpose-matvec-weights=max-outputs=2 | FileCheck %s --check-prefix=FEW

// A batch_matmul at one input row whose weight is a constant expanded to
// [1, K, N]: the constant is transposed to [N, K] (column n of the weight
// is row n), expanded again, and read through (b, n, k); the body stays.
// With max-outputs below the result's 3 elements, the product stays.
// CHECK-LABEL: func @lm_head
// CHECK: %[[WT:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf16>
// CHECK: %[[B:.*]] = tensor.expand_shape %[[WT]] {{\[\[}}0, 1], [2]] output_shape [1, 3, 2]
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%arg0, %[[B]] : tensor<1x1x2xf16>, tensor<1x3x2xf16>)
// CHECK: arith.extf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: linalg.batch_matmul
// FEW-LABEL: func @lm_head
// FEW: linalg.batch_matmul
func.func @lm_head(%x: tensor<1x1x2xf16>, %acc: tensor<1x1x3xf32>) -> tensor<1x1x3xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf16>
  %b = tensor.expand_shape %w [[0, 1], [2]] output_shape [1, 2, 3] : tensor<2x3xf16> into tensor<1x2x3xf16>
  %y = linalg.batch_matmul ins(%x, %b : tensor<1x1x2xf16>, tensor<1x2x3xf16>)
                           outs(%acc : tensor<1x1x3xf32>) -> tensor<1x1x3xf32>
  return %y : tensor<1x1x3xf32>
}

// -----

// A plain matmul with a splat weight: the transposed constant is the same
// splat in the new shape.
// CHECK-LABEL: func @matmul_splat
// CHECK: %[[WT:.*]] = arith.constant dense<5.000000e-01> : tensor<16x4xf32>
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
// CHECK-SAME: ins(%arg0, %[[WT]] : tensor<2x4xf32>, tensor<16x4xf32>)
func.func @matmul_splat(%x: tensor<2x4xf32>, %acc: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %w = arith.constant dense<0.5> : tensor<4x16xf32>
  %y = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x16xf32>)
                     outs(%acc : tensor<2x16xf32>) -> tensor<2x16xf32>
  return %y : tensor<2x16xf32>
}

// -----

// What stays: a weight that is not a constant, and a matmul whose maps
// already transpose its weight.
// CHECK-LABEL: func @not_matvec_weights
// CHECK: linalg.matmul ins(%arg0, %arg1
// CHECK: linalg.matmul indexing_maps
// CHECK-NOT: linalg.generic
func.func @not_matvec_weights(%x: tensor<1x4xf32>, %w: tensor<4x16xf32>, %acc: tensor<1x16xf32>)
    -> (tensor<1x16xf32>, tensor<1x16xf32>) {
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x16xf32>)
                     outs(%acc : tensor<1x16xf32>) -> tensor<1x16xf32>
  %wt = arith.constant dense<1.0> : tensor<16x4xf32>
  %z = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
                     ins(%x, %wt : tensor<1x4xf32>, tensor<16x4xf32>)
                     outs(%acc : tensor<1x16xf32>) -> tensor<1x16xf32>
  return %y, %z : tensor<1x16xf32>, tensor<1x16xf32>
}
