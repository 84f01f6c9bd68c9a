// RUN: onebit-opt %s -onebit-expand-linear -split-input-file -verify-diagnostics | FileCheck %s

#onebit = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>

// CHECK-LABEL: func @expand_full
// CHECK-SAME: (%[[X:.*]]: tensor<2x16xf16>, %[[S:.*]]: tensor<4x2xi8>, %[[G:.*]]: tensor<16xf16>, %[[H:.*]]: tensor<4xf32>, %[[B:.*]]: tensor<4xf16>)
// CHECK: %[[G2:.*]] = tosa.reshape %[[G]], %{{.*}} -> tensor<1x16xf16>
// CHECK: %[[XG:.*]] = tosa.mul %[[X]], %[[G2]], %{{.*}} -> tensor<2x16xf16>
// CHECK: %[[W:.*]] = onebit.unpack_signs %[[S]] packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) : tensor<4x2xi8> -> tensor<4x16xf16>
// CHECK: %[[WT:.*]] = tosa.transpose %[[W]] {perms = array<i32: 1, 0>} : (tensor<4x16xf16>) -> tensor<16x4xf16>
// CHECK: %[[W3:.*]] = tosa.reshape %[[WT]], %{{.*}} -> tensor<1x16x4xf16>
// CHECK: %[[X3:.*]] = tosa.reshape %[[XG]], %{{.*}} -> tensor<1x2x16xf16>
// CHECK: %[[MM:.*]] = tosa.matmul %[[X3]], %[[W3]], %{{.*}}, %{{.*}} : {{.*}} -> tensor<1x2x4xf32>
// CHECK: %[[Y:.*]] = tosa.reshape %[[MM]], %{{.*}} -> tensor<2x4xf32>
// CHECK: %[[H2:.*]] = tosa.reshape %[[H]]
// CHECK: %[[YH:.*]] = tosa.mul %[[Y]], %[[H2]]
// CHECK: %[[SUM:.*]] = tosa.reduce_sum %[[YH]] {axis = 1 : i32}
// CHECK: %[[MEAN:.*]] = tosa.mul %[[SUM]]
// CHECK: %[[D:.*]] = tosa.sub %[[YH]], %[[MEAN]]
// CHECK: %[[D2:.*]] = tosa.mul %[[D]], %[[D]]
// CHECK: %[[VSUM:.*]] = tosa.reduce_sum %[[D2]] {axis = 1 : i32}
// CHECK: %[[VAR:.*]] = tosa.mul %[[VSUM]]
// CHECK: %[[VE:.*]] = tosa.add %[[VAR]]
// CHECK: %[[R:.*]] = tosa.rsqrt %[[VE]]
// CHECK: %[[N:.*]] = tosa.mul %[[D]], %[[R]]
// CHECK: %[[BF:.*]] = tosa.cast %[[B]] : (tensor<4xf16>) -> tensor<4xf32>
// CHECK: %[[B2:.*]] = tosa.reshape %[[BF]]
// CHECK: %[[OUT:.*]] = tosa.add %[[N]], %[[B2]]
// CHECK: %[[CAST:.*]] = tosa.cast %[[OUT]] : (tensor<2x4xf32>) -> tensor<2x4xf16>
// CHECK: return %[[CAST]]
func.func @expand_full(%x: tensor<2x16xf16>, %s: tensor<4x2xi8>, %g: tensor<16xf16>,
                       %h: tensor<4xf32>, %b: tensor<4xf16>) -> tensor<2x4xf16> {
  %y = onebit.linear %x, %s input_scale(%g : tensor<16xf16>) output_scale(%h : tensor<4xf32>)
         bias(%b : tensor<4xf16>) norm(epsilon = 1.0e-05) packing(#onebit)
         : tensor<2x16xf16>, tensor<4x2xi8> -> tensor<2x4xf16>
  return %y : tensor<2x4xf16>
}

// -----

#onebit = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>

// A bare f32 layer over a rank-3 input: just the matmul, no epilogue.
// CHECK-LABEL: func @expand_bare
// CHECK-NOT: tosa.mul
// CHECK-DAG: onebit.unpack_signs
// CHECK-DAG: tosa.reshape %arg0, %{{.*}} -> tensor<1x6x8xf32>
// CHECK: tosa.matmul
// CHECK: tosa.reshape %{{.*}} -> tensor<2x3x4xf32>
// CHECK-NOT: tosa.cast
// CHECK-NOT: tosa.reduce_sum
// CHECK: return
func.func @expand_bare(%x: tensor<2x3x8xf32>, %s: tensor<4x1xi8>) -> tensor<2x3x4xf32> {
  %y = onebit.linear %x, %s packing(#onebit) : tensor<2x3x8xf32>, tensor<4x1xi8> -> tensor<2x3x4xf32>
  return %y : tensor<2x3x4xf32>
}

// -----

#onebit = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>

func.func @expand_dynamic(%x: tensor<?x8xf32>, %s: tensor<4x1xi8>) -> tensor<?x4xf32> {
  // expected-error @+1 {{cannot expand onebit.linear with a dynamic input shape 'tensor<?x8xf32>'}}
  %y = onebit.linear %x, %s packing(#onebit) : tensor<?x8xf32>, tensor<4x1xi8> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
