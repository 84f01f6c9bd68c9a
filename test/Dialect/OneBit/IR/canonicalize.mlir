// RUN: onebit-opt %s -canonicalize -split-input-file | FileCheck %s

#onebit = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>

// CHECK-LABEL: func @drop_identity_scales
// CHECK: onebit.linear %arg0, %arg1 packing
func.func @drop_identity_scales(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>) -> tensor<2x4xf32> {
  %g = arith.constant dense<1.0> : tensor<8xf32>
  %h = arith.constant dense<1.0> : tensor<4xf16>
  %b = arith.constant dense<0.0> : tensor<4xf32>
  %y = onebit.linear %x, %s input_scale(%g : tensor<8xf32>) output_scale(%h : tensor<4xf16>)
         bias(%b : tensor<4xf32>) packing(#onebit) : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

#onebit = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>

// CHECK-LABEL: func @keep_non_identity_scales
// CHECK: onebit.linear %arg0, %arg1 input_scale(%{{.*}} : tensor<8xf32>) output_scale(%arg2 : tensor<4xf32>) bias(%{{.*}} : tensor<4xf32>) packing
func.func @keep_non_identity_scales(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>, %h: tensor<4xf32>) -> tensor<2x4xf32> {
  %g = arith.constant dense<2.0> : tensor<8xf32>
  %b = arith.constant dense<0.5> : tensor<4xf32>
  %y = onebit.linear %x, %s input_scale(%g : tensor<8xf32>) output_scale(%h : tensor<4xf32>)
         bias(%b : tensor<4xf32>) packing(#onebit) : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

#onebit = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>

// The per-channel factor joins the input scale, multiplied elementwise.
// CHECK-LABEL: func @fold_input_multiply
// CHECK-DAG: %[[G:.*]] = arith.constant dense<[2.000000e+00, 6.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00, 2.000000e+00, -4.000000e+00]> : tensor<8xf32>
// CHECK-NOT: tosa.mul
// CHECK: onebit.linear %arg0, %arg1 input_scale(%[[G]] : tensor<8xf32>) packing
func.func @fold_input_multiply(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>) -> tensor<2x4xf32> {
  %c = "tosa.const"() <{values = dense<[[1.0, 3.0, 1.0, 1.0, 1.0, 1.0, 1.0, -2.0]]> : tensor<1x8xf32>}> : () -> tensor<1x8xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %m = tosa.mul %c, %x, %shift : (tensor<1x8xf32>, tensor<2x8xf32>, tensor<1xi8>) -> tensor<2x8xf32>
  %g = arith.constant dense<2.0> : tensor<8xf32>
  %y = onebit.linear %m, %s input_scale(%g : tensor<8xf32>) packing(#onebit)
         : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

#onebit = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>

// Without an input scale, the factor becomes it (a splat is broadcast).
// CHECK-LABEL: func @fold_input_splat_multiply
// CHECK: %[[G:.*]] = arith.constant dense<5.000000e-01> : tensor<8xf16>
// CHECK: onebit.linear %arg0, %arg1 input_scale(%[[G]] : tensor<8xf16>) packing
func.func @fold_input_splat_multiply(%x: tensor<2x8xf16>, %s: tensor<4x1xi8>) -> tensor<2x4xf16> {
  %c = "tosa.const"() <{values = dense<0.5> : tensor<1x1xf16>}> : () -> tensor<1x1xf16>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %m = tosa.mul %x, %c, %shift : (tensor<2x8xf16>, tensor<1x1xf16>, tensor<1xi8>) -> tensor<2x8xf16>
  %y = onebit.linear %m, %s packing(#onebit) : tensor<2x8xf16>, tensor<4x1xi8> -> tensor<2x4xf16>
  return %y : tensor<2x4xf16>
}

// -----

#onebit = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>

// A factor that varies across rows is not per-channel: it stays.
// CHECK-LABEL: func @keep_row_varying_multiply
// CHECK: tosa.mul
// CHECK: onebit.linear
func.func @keep_row_varying_multiply(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>) -> tensor<2x4xf32> {
  %c = "tosa.const"() <{values = dense<[[1.0], [2.0]]> : tensor<2x1xf32>}> : () -> tensor<2x1xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %m = tosa.mul %x, %c, %shift : (tensor<2x8xf32>, tensor<2x1xf32>, tensor<1xi8>) -> tensor<2x8xf32>
  %y = onebit.linear %m, %s packing(#onebit) : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

#onebit = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>

// A multiply by a non-constant stays.
// CHECK-LABEL: func @keep_dynamic_multiply
// CHECK: tosa.mul
// CHECK: onebit.linear
func.func @keep_dynamic_multiply(%x: tensor<2x8xf32>, %c: tensor<1x8xf32>, %s: tensor<4x1xi8>) -> tensor<2x4xf32> {
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %m = tosa.mul %x, %c, %shift : (tensor<2x8xf32>, tensor<1x8xf32>, tensor<1xi8>) -> tensor<2x8xf32>
  %y = onebit.linear %m, %s packing(#onebit) : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

#onebit = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>

// After the layer (no LayerNorm), the factor scales h and the bias.
// CHECK-LABEL: func @fold_output_multiply
// CHECK-DAG: %[[H:.*]] = arith.constant dense<[2.000000e+00, 4.000000e+00, 6.000000e+00, 8.000000e+00]> : tensor<4xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]> : tensor<4xf32>
// CHECK: %[[Y:.*]] = onebit.linear %arg0, %arg1 output_scale(%[[H]] : tensor<4xf32>) bias(%[[B]] : tensor<4xf32>) packing
// CHECK-NOT: tosa.mul
// CHECK: return %[[Y]]
func.func @fold_output_multiply(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>) -> tensor<2x4xf32> {
  %h = arith.constant dense<2.0> : tensor<4xf32>
  %b = arith.constant dense<1.0> : tensor<4xf32>
  %y = onebit.linear %x, %s output_scale(%h : tensor<4xf32>) bias(%b : tensor<4xf32>) packing(#onebit)
         : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  %c = "tosa.const"() <{values = dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf32>}> : () -> tensor<1x4xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %m = tosa.mul %y, %c, %shift : (tensor<2x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<2x4xf32>
  return %m : tensor<2x4xf32>
}

// -----

#onebit = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>

// LayerNorm sits between h and the multiply: nothing folds.
// CHECK-LABEL: func @keep_output_multiply_after_norm
// CHECK: onebit.linear %arg0, %arg1 norm
// CHECK: tosa.mul
func.func @keep_output_multiply_after_norm(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>) -> tensor<2x4xf32> {
  %y = onebit.linear %x, %s norm(epsilon = 1.0e-05) packing(#onebit)
         : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  %c = "tosa.const"() <{values = dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf32>}> : () -> tensor<1x4xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %m = tosa.mul %y, %c, %shift : (tensor<2x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<2x4xf32>
  return %m : tensor<2x4xf32>
}

// -----

#onebit = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>

// The layer's result has another use: folding would change it.
// CHECK-LABEL: func @keep_output_multiply_shared
// CHECK: onebit.linear %arg0, %arg1 packing
// CHECK: tosa.mul
func.func @keep_output_multiply_shared(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %y = onebit.linear %x, %s packing(#onebit) : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  %c = "tosa.const"() <{values = dense<[[1.0, 2.0, 3.0, 4.0]]> : tensor<1x4xf32>}> : () -> tensor<1x4xf32>
  %shift = "tosa.const"() <{values = dense<0> : tensor<1xi8>}> : () -> tensor<1xi8>
  %m = tosa.mul %y, %c, %shift : (tensor<2x4xf32>, tensor<1x4xf32>, tensor<1xi8>) -> tensor<2x4xf32>
  return %m, %y : tensor<2x4xf32>, tensor<2x4xf32>
}
