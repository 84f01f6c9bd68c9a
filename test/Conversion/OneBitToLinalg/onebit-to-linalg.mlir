// RUN: onebit-opt %s -convert-onebit-to-linalg -split-input-file -verify-diagnostics --mlir-print-local-scope | FileCheck %s

// OneBit's bytes (word 8, LSB first): the vector kernel. Output rows go in
// blocks of 4 through an scf.forall; two bytes bitcast to 16 lanes of i1
// select -x or x. With 3 input rows x 4 output rows, all 12 accumulators
// live in one loop, so each byte is read once.
// CHECK-LABEL: func @linear_f16
// CHECK: %[[X:.*]] = tosa.cast %arg0 : (tensor<3x16xf16>) -> tensor<3x16xf32>
// CHECK: scf.forall (%[[BLOCK:.*]]) in (1) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<3x4xf32>)
// CHECK:   %[[ROW0:.*]] = arith.muli %[[BLOCK]], %c4
// CHECK:   scf.for %[[M:.*]] = %c0 to %c3 step %c3
// CHECK:     scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:       %[[BYTES:.*]] = vector.transfer_read %arg1[%[[ROW0]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<4x2xi8>, vector<2xi8>
// CHECK:       %[[MASK:.*]] = vector.bitcast %[[BYTES]] : vector<2xi8> to vector<16xi1>
// CHECK-COUNT-3: vector.bitcast
// CHECK:       %[[XS:.*]] = vector.transfer_read %[[X]][%{{.*}}, %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<3x16xf32>, vector<16xf32>
// CHECK:       %[[NEG:.*]] = arith.negf %[[XS]] : vector<16xf32>
// CHECK:       %[[TERM:.*]] = arith.select %[[MASK]], %[[NEG]], %[[XS]] : vector<16xi1>, vector<16xf32>
// CHECK:       arith.addf %{{.*}}, %[[TERM]] fastmath<reassoc> : vector<16xf32>
// CHECK:     vector.reduction <add>, %{{.*}} fastmath<reassoc> : vector<16xf32> into f32
// CHECK:   scf.forall.in_parallel
// CHECK:     tensor.parallel_insert_slice %{{.*}} into %{{.*}}[0, %[[ROW0]]] [3, 4] [1, 1]
// CHECK: tosa.cast %{{.*}} : (tensor<3x4xf32>) -> tensor<3x4xf16>
// CHECK-NOT: onebit.
func.func @linear_f16(%x: tensor<3x16xf16>, %s: tensor<4x2xi8>) -> tensor<3x4xf16> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<3x16xf16>, tensor<4x2xi8> -> tensor<3x4xf16>
  return %y : tensor<3x4xf16>
}

// -----

// K = 12 is not whole bytes: the activations are padded with zeros (the pad
// bits are ignored), one byte per chunk, and 0 meaning -1 swaps the select.
// CHECK-LABEL: func @linear_padded
// CHECK: tensor.pad %{{.*}} low[0, 0] high[0, 4]
// CHECK: vector.bitcast %{{.*}} : vector<2xi8> to vector<16xi1>
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi1>, vector<16xf32>
func.func @linear_padded(%x: tensor<1x12xf32>, %s: tensor<2x2xi8>) -> tensor<1x2xf32> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 0>)
         : tensor<1x12xf32>, tensor<2x2xi8> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Any other layout: a linalg.generic reading word (n, k floordiv 8), bit k
// mod 8 selecting -x.
// CHECK-LABEL: func @linear_msb_first
// CHECK: %[[ZERO:.*]] = linalg.fill
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2 floordiv 8)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%{{.*}}, %arg1 : tensor<3x16xf16>, tensor<4x2xi8>) outs(%[[ZERO]] : tensor<3x4xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f16, %[[WORD:.*]]: i8, %[[ACC:.*]]: f32):
// CHECK:   %[[XF:.*]] = arith.extf %[[IN]] : f16 to f32
// CHECK:   %[[K:.*]] = linalg.index 2 : index
// CHECK:   %[[POS:.*]] = arith.remui %[[K]], %{{.*}} : index
// CHECK:   %[[REV:.*]] = arith.subi %{{.*}}, %[[POS]] : index
// CHECK:   %[[POS8:.*]] = arith.index_castui %[[REV]] : index to i8
// CHECK:   %[[SHIFTED:.*]] = arith.shrui %[[WORD]], %[[POS8]] : i8
// CHECK:   %[[BIT:.*]] = arith.andi %[[SHIFTED]], %{{.*}} : i8
// CHECK:   %[[NEG:.*]] = arith.cmpi eq, %[[BIT]], %{{.*}} : i8
// CHECK:   %[[MINUS:.*]] = arith.negf %[[XF]] : f32
// CHECK:   %[[TERM:.*]] = arith.select %[[NEG]], %[[MINUS]], %[[XF]] : f32
// CHECK:   %[[SUM:.*]] = arith.addf %[[ACC]], %[[TERM]] : f32
// CHECK:   linalg.yield %[[SUM]] : f32
// CHECK-NOT: onebit.
func.func @linear_msb_first(%x: tensor<3x16xf16>, %s: tensor<4x2xi8>) -> tensor<3x4xf16> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = msb_first, negative = 1>)
         : tensor<3x16xf16>, tensor<4x2xi8> -> tensor<3x4xf16>
  return %y : tensor<3x4xf16>
}

// -----

// Interleaved 32-bit MSB-first words with 0 meaning -1.
// CHECK-LABEL: func @linear_interleaved
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1 floordiv 2, d2 floordiv 32, d1 mod 2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
// CHECK: arith.subi %{{.*}}, %{{.*}} : index
// CHECK: arith.cmpi eq, %{{.*}}, %{{.*}} : i32
// CHECK: tosa.rsqrt
func.func @linear_interleaved(%x: tensor<1x40xf32>, %s: tensor<2x2x2xi32>) -> tensor<1x4xf32> {
  %y = onebit.linear %x, %s norm(epsilon = 1.0e-05)
         packing(#onebit.sign_packing<word = 32, order = msb_first, negative = 0, interleave = 2>)
         : tensor<1x40xf32>, tensor<2x2x2xi32> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// CHECK-LABEL: func @unpack
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1 floordiv 8)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
func.func @unpack(%s: tensor<4x2xi8>) -> tensor<4x10xf32> {
  %w = onebit.unpack_signs %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<4x2xi8> -> tensor<4x10xf32>
  return %w : tensor<4x10xf32>
}

// -----

func.func @dynamic(%x: tensor<?x16xf32>, %s: tensor<4x2xi8>) -> tensor<?x4xf32> {
  // expected-error @+1 {{cannot lower to linalg: the input shape must be static}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<?x16xf32>, tensor<4x2xi8> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
