// RUN: onebit-opt %s -split-input-file --onebit-fuse-pointwise-concat --canonicalize | FileCheck %s

// rotate_half(x) = concat(-x[..., 64:], x[..., :64]): one generic that
// reads x in place, no slices, inserts or negation of its own.

// CHECK-LABEL: func @rotate_half
// CHECK-SAME: %[[X:.*]]: tensor<1x4x1x128xf16>
// CHECK-NOT: tensor.insert_slice
// CHECK-NOT: tensor.extract_slice
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x4x1x128xf16>)
// CHECK: %[[J:.*]] = linalg.index 3
// CHECK: tensor.extract %[[X]]
// CHECK: arith.negf
// CHECK: arith.cmpi sge, %[[J]], %c64
// CHECK: tensor.extract %[[X]]
// CHECK: arith.select
func.func @rotate_half(%x: tensor<1x4x1x128xf16>) -> tensor<1x4x1x128xf16> {
  %a = tensor.extract_slice %x[0, 0, 0, 0] [1, 4, 1, 64] [1, 1, 1, 1] : tensor<1x4x1x128xf16> to tensor<1x4x1x64xf16>
  %b = tensor.extract_slice %x[0, 0, 0, 64] [1, 4, 1, 64] [1, 1, 1, 1] : tensor<1x4x1x128xf16> to tensor<1x4x1x64xf16>
  %e0 = tensor.empty() : tensor<1x4x1x64xf16>
  %n = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%b : tensor<1x4x1x64xf16>) outs(%e0 : tensor<1x4x1x64xf16>) {
  ^bb0(%in: f16, %out: f16):
    %0 = arith.negf %in : f16
    linalg.yield %0 : f16
  } -> tensor<1x4x1x64xf16>
  %e = tensor.empty() : tensor<1x4x1x128xf16>
  %i0 = tensor.insert_slice %n into %e[0, 0, 0, 0] [1, 4, 1, 64] [1, 1, 1, 1] : tensor<1x4x1x64xf16> into tensor<1x4x1x128xf16>
  %i1 = tensor.insert_slice %a into %i0[0, 0, 0, 64] [1, 4, 1, 64] [1, 1, 1, 1] : tensor<1x4x1x64xf16> into tensor<1x4x1x128xf16>
  return %i1 : tensor<1x4x1x128xf16>
}

// -----

// Three pieces along dimension 0, one of them a plain tensor.

// CHECK-LABEL: func @three_pieces
// CHECK-NOT: tensor.insert_slice
// CHECK: linalg.generic
// CHECK-COUNT-3: tensor.extract
func.func @three_pieces(%x: tensor<2x8xf32>, %y: tensor<3x8xf32>) -> tensor<6x8xf32> {
  %a = tensor.extract_slice %x[1, 0] [1, 8] [1, 1] : tensor<2x8xf32> to tensor<1x8xf32>
  %e = tensor.empty() : tensor<6x8xf32>
  %0 = tensor.insert_slice %x into %e[0, 0] [2, 8] [1, 1] : tensor<2x8xf32> into tensor<6x8xf32>
  %1 = tensor.insert_slice %y into %0[2, 0] [3, 8] [1, 1] : tensor<3x8xf32> into tensor<6x8xf32>
  %2 = tensor.insert_slice %a into %1[5, 0] [1, 8] [1, 1] : tensor<1x8xf32> into tensor<6x8xf32>
  return %2 : tensor<6x8xf32>
}

// -----

// Not a tiling of one dimension: left alone.

// CHECK-LABEL: func @gap
// CHECK-COUNT-2: tensor.insert_slice
// CHECK-NOT: linalg.generic
func.func @gap(%x: tensor<2x8xf32>) -> tensor<5x8xf32> {
  %e = tensor.empty() : tensor<5x8xf32>
  %0 = tensor.insert_slice %x into %e[0, 0] [2, 8] [1, 1] : tensor<2x8xf32> into tensor<5x8xf32>
  %1 = tensor.insert_slice %x into %0[3, 0] [2, 8] [1, 1] : tensor<2x8xf32> into tensor<5x8xf32>
  return %1 : tensor<5x8xf32>
}

// CHECK-LABEL: func @two_dimensions
// CHECK-COUNT-2: tensor.insert_slice
// CHECK-NOT: linalg.generic
func.func @two_dimensions(%x: tensor<2x4xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %0 = tensor.insert_slice %x into %e[0, 0] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<4x8xf32>
  %1 = tensor.insert_slice %x into %0[2, 4] [2, 4] [1, 1] : tensor<2x4xf32> into tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}

// CHECK-LABEL: func @partial_read
// CHECK-COUNT-2: tensor.insert_slice
// CHECK-NOT: linalg.generic
func.func @partial_read(%x: tensor<2x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %0 = tensor.insert_slice %x into %e[0, 0] [2, 8] [1, 1] : tensor<2x8xf32> into tensor<4x8xf32>
  %1 = tensor.insert_slice %x into %0[2, 0] [2, 8] [1, 1] : tensor<2x8xf32> into tensor<4x8xf32>
  return %0, %1 : tensor<4x8xf32>, tensor<4x8xf32>
}
