// RUN: onebit-opt %s -canonicalize -split-input-file | FileCheck %s

// The worked example of #onebit.sign_packing: one row, K = 10.
// CHECK-LABEL: func @pack_onebit_bytes
// CHECK: arith.constant dense<{{\[\[}}-122, 1]]> : tensor<1x2xi8>
func.func @pack_onebit_bytes() -> tensor<1x2xi8> {
  %w = arith.constant dense<[[1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0, -1.0, -1.0, 1.0]]> : tensor<1x10xf32>
  %s = onebit.pack_signs %w packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<1x10xf32> -> tensor<1x2xi8>
  return %s : tensor<1x2xi8>
}

// -----

// MSB first, 0 meaning -1: zero is +1, and padding bits stay 0 all the same
// (0b01111111, 0b01000000).
// CHECK-LABEL: func @pack_msb_first_negative_zero
// CHECK: arith.constant dense<{{\[\[}}127, 64]]> : tensor<1x2xi8>
func.func @pack_msb_first_negative_zero() -> tensor<1x2xi8> {
  %w = arith.constant dense<[[-1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, -3.0, 2.0]]> : tensor<1x10xf32>
  %s = onebit.pack_signs %w packing(#onebit.sign_packing<word = 8, order = msb_first, negative = 0>)
         : tensor<1x10xf32> -> tensor<1x2xi8>
  return %s : tensor<1x2xi8>
}

// -----

// Integer signs pack too; rows interleave in pairs of 16-bit words.
// CHECK-LABEL: func @pack_interleaved_ints
// CHECK: arith.constant dense<{{\[\[\[}}1, 2]]]> : tensor<1x1x2xi16>
func.func @pack_interleaved_ints() -> tensor<1x1x2xi16> {
  %w = arith.constant dense<[[-1, 1, 1], [1, -1, 1]]> : tensor<2x3xi32>
  %s = onebit.pack_signs %w packing(#onebit.sign_packing<word = 16, order = lsb_first, negative = 1, interleave = 2>)
         : tensor<2x3xi32> -> tensor<1x1x2xi16>
  return %s : tensor<1x1x2xi16>
}

// -----

// Repacking a constant to 32-bit MSB-first words keeps every sign: inputs
// 1, 2, 7 and 8 are negative, so bits 30, 29, 24 and 23 are set.
// CHECK-LABEL: func @repack_constant
// CHECK: arith.constant dense<1635778560> : tensor<1x1xi32>
func.func @repack_constant() -> tensor<1x1xi32> {
  %s = arith.constant dense<[[-122, 1]]> : tensor<1x2xi8>
  %r = onebit.repack %s in_features(10)
         from(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         to(#onebit.sign_packing<word = 32, order = msb_first, negative = 1>)
         : tensor<1x2xi8> -> tensor<1x1xi32>
  return %r : tensor<1x1xi32>
}

// -----

// CHECK-LABEL: func @repack_identity
// CHECK-NOT: onebit.repack
// CHECK: return %arg0
func.func @repack_identity(%s: tensor<4x2xi8>) -> tensor<4x2xi8> {
  %r = onebit.repack %s in_features(10)
         from(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         to(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<4x2xi8> -> tensor<4x2xi8>
  return %r : tensor<4x2xi8>
}

// -----

// CHECK-LABEL: func @pack_of_unpack
// CHECK-NOT: onebit.
// CHECK: return %arg0
func.func @pack_of_unpack(%s: tensor<4x2xi8>) -> tensor<4x2xi8> {
  %w = onebit.unpack_signs %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<4x2xi8> -> tensor<4x10xf32>
  %r = onebit.pack_signs %w packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<4x10xf32> -> tensor<4x2xi8>
  return %r : tensor<4x2xi8>
}
