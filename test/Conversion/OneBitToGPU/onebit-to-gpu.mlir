// RUN: onebit-opt %s -convert-onebit-to-gpu | FileCheck %s
// RUN: onebit-opt %s -convert-onebit-to-gpu=mma-min-rows=2 | FileCheck %s --check-prefix=MIN
// RUN: not onebit-opt %s -convert-onebit-to-gpu=mma-min-rows=0 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: error: convert-onebit-to-gpu: mma-min-rows must be at least 1

// The GPU product: a linalg.generic over (m, n, k) on the packed bytes,
// whose parallel (m, n) become threads; bit k mod 8 of byte (n, k floordiv 8)
// selects -x; g, h and the bias stay TOSA around it.
// CHECK-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[S:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 8)>
// CHECK-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @linear
// CHECK: tosa.mul
// CHECK: %[[ZERO:.*]] = linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[X]], #[[S]], #[[Y]]], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%[[ZERO]] : tensor<3x4xf32>)
// CHECK: arith.shrui
// CHECK: arith.select
// CHECK: arith.addf
// CHECK: tosa.mul
// CHECK: tosa.add
// CHECK-NOT: onebit.linear
func.func @linear(%x: tensor<3x16xf32>, %s: tensor<4x2xi8>, %g: tensor<16xf32>,
                  %h: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<3x4xf32> {
  %y = onebit.linear %x, %s input_scale(%g : tensor<16xf32>) output_scale(%h : tensor<4xf32>) bias(%b : tensor<4xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<3x16xf32>, tensor<4x2xi8> -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// Decode (at most 4 input rows, K a multiple of 32, word-8 LSB-first):
// the product is marked for onebit-gpu-sign-gemv's kernel.
// CHECK-LABEL: func @decode
// CHECK: linalg.generic
// CHECK-SAME: onebit.sign_gemv = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>
func.func @decode(%x: tensor<2x64xf16>, %s: tensor<4x8xi8>) -> tensor<2x4xf16> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x64xf16>, tensor<4x8xi8> -> tensor<2x4xf16>
  return %y : tensor<2x4xf16>
}

// Five input rows, or K not a multiple of 32: no mark.
// CHECK-LABEL: func @not_decode
// CHECK-NOT: onebit.sign_gemv
// CHECK: return
func.func @not_decode(%x: tensor<5x64xf32>, %s: tensor<4x8xi8>, %x2: tensor<1x40xf32>, %s2: tensor<4x5xi8>) -> (tensor<5x4xf32>, tensor<1x4xf32>) {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<5x64xf32>, tensor<4x8xi8> -> tensor<5x4xf32>
  %y2 = onebit.linear %x2, %s2 packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<1x40xf32>, tensor<4x5xi8> -> tensor<1x4xf32>
  return %y, %y2 : tensor<5x4xf32>, tensor<1x4xf32>
}

// f16 activations with K a multiple of 128: marked for onebit-gpu-sign-mma's
// tensor-core kernel, from one input row (mma-min-rows); f32 activations
// stay with the decode kernel, and so does one row with mma-min-rows=2.
// CHECK-LABEL: func @tensor_cores
// CHECK: linalg.generic
// CHECK-SAME: onebit.sign_mma = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>
// CHECK: linalg.generic
// CHECK-SAME: onebit.sign_mma
// CHECK: linalg.generic
// CHECK-SAME: onebit.sign_gemv
// MIN-LABEL: func @tensor_cores
// MIN: onebit.sign_mma
// MIN-NOT: onebit.sign_mma
// MIN-COUNT-2: onebit.sign_gemv
func.func @tensor_cores(%x: tensor<40x256xf16>, %s: tensor<8x32xi8>, %x1: tensor<1x256xf16>,
                        %x2: tensor<2x256xf32>) -> (tensor<40x8xf16>, tensor<1x8xf16>, tensor<2x8xf32>) {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<40x256xf16>, tensor<8x32xi8> -> tensor<40x8xf16>
  %y1 = onebit.linear %x1, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<1x256xf16>, tensor<8x32xi8> -> tensor<1x8xf16>
  %y2 = onebit.linear %x2, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x256xf32>, tensor<8x32xi8> -> tensor<2x8xf32>
  return %y, %y1, %y2 : tensor<40x8xf16>, tensor<1x8xf16>, tensor<2x8xf32>
}
