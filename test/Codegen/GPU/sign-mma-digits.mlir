// RUN: onebit-opt %s -split-input-file -onebit-gpu-select-schedules=mma-min-grid-size=1 -onebit-gpu-sign-mma | FileCheck %s
// RUN: onebit-opt %s -split-input-file -onebit-gpu-select-schedules -onebit-gpu-sign-mma | FileCheck %s --check-prefix=DEFAULT

// The s8 schedule (ByteClasses) of up to 2 input rows (mma-int8-activations,
// the default), taken where the warps of a block do not split K: with
// mma-min-grid-size=1 every layer here. By default a layer needs 264 blocks of
// 64 rows for that; fewer, and the warps split K with f16 bit classes.
//
// DEFAULT-LABEL: func @decode_digits
// DEFAULT: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]}
// DEFAULT-LABEL: func @wide_layer
// DEFAULT: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 32]}
//
// M = 1, K = 4096, N = 64, one block. While the sign
// words of two steps load, the block stages x as int8 digits: each thread
// loads pairs of activations (inputs 8i + 2p, 8i + 2p + 1 of a word), the
// block finds the row's largest magnitude (NaN-propagating maximum, per
// warp in workgroup memory) and scales the row to 2^22 - 64 at most (an
// infinite maximum gives a NaN scale, so that the row's sums are NaN); one fma with 1.5 * 2^23
// (0x4B400000) rounds, and the bits plus 0x808080 minus 0x4B400000
// (-1254064000) hold the three base-256 digits, biased by 128, in bytes 2,
// 1, 0. Seven byte permutations pack the digits of 4 inputs of a class:
// bytes 0 and 1 of two values (0x5140 = 20800), byte 2 (0x62 = 98), then
// merged (0x5410 = 21520 for the most significant digit and the least,
// 0x7632 = 30258 for the middle one), each xor 0x80808080; the block
// stores them (32 blocks of 52 units of 8 bytes: 3 digit columns and 4
// units of padding) and sums them (dp4a) per column.
// Each mma masks bit q of every byte of two words of rows g and g + 8
// (0x01010101 = 16843009 for q = 0, 0x80808080 = -2139062144 for q = 7)
// into the i32 accumulator of class q, with the B fragment's 8 bytes from
// one load. After the steps, the classes combine by exact shifts (class 7
// is worth -128), the digit columns through shuffles across the lanes
// (256 per digit), times the row's scale.
// CHECK-LABEL: func @decode_digits
// CHECK-NOT: linalg.fill
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads({{.*}}) in (%{{.*}} = %c128, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) {{.*}} workgroup(%[[STAGED:.*]] : memref<6656xf16, #gpu.address_space<workgroup>>, %[[SUMS:.*]] : memref<4x3xi32, #gpu.address_space<workgroup>>, %[[MAXIMA:.*]] : memref<4x1xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for {{.*}} -> (f32, f32, f32, f32)
// CHECK-COUNT-4: vector.load %{{.*}} {alignment = 16 : i64} : memref<8192xi32>, vector<4xi32>
// CHECK: gpu.barrier
// CHECK: vector.load %arg0[{{.*}}] {alignment = 4 : i64} : memref<1x4096xf16>, vector<2xf16>
// CHECK: math.absf %{{.*}} : vector<2xf16>
// CHECK: arith.maximumf %{{.*}} : vector<2xf16>
// CHECK: gpu.shuffle  xor
// CHECK: memref.store %{{.*}}, %[[MAXIMA]]
// CHECK: gpu.barrier
// CHECK: arith.constant 4.194240e+06 : f32
// CHECK: %[[INF:.*]] = arith.constant 0x7F800000 : f32
// CHECK: %[[NAN:.*]] = arith.constant 0x7FC00000 : f32
// CHECK: memref.load %[[MAXIMA]]
// CHECK: arith.divf
// CHECK: %[[INFINITE:.*]] = arith.cmpf oeq, %{{.*}}, %[[INF]] : f32
// CHECK: arith.select %[[INFINITE]], %[[NAN]], %{{.*}} : f32
// CHECK: %[[ROUNDER:.*]] = arith.constant dense<0x4B400000> : vector<2xf32>
// CHECK: math.fma %{{.*}}, %{{.*}}, %[[ROUNDER]] : vector<2xf32>
// CHECK: arith.bitcast %{{.*}} : vector<2xf32> to vector<2xi32>
// CHECK: arith.constant dense<-1254064000> : vector<2xi32>
// CHECK: nvvm.prmt <default> %c20800_i32
// CHECK: nvvm.prmt <default> %c20800_i32
// CHECK: nvvm.prmt <default> %c98_i32
// CHECK: nvvm.prmt <default> %c98_i32
// CHECK: nvvm.prmt <default> %c21520_i32
// CHECK: arith.xori %{{.*}}, %c-2139062144_i32
// CHECK: nvvm.prmt <default> %c30258_i32
// CHECK: nvvm.prmt <default> %c21520_i32
// CHECK: vector.store %{{.*}}, %[[STAGED]][%{{.*}}] {alignment = 4 : i64}
// CHECK: nvvm.dot.accumulate.4way %{{.*}} <signed>, %{{.*}} <signed>
// CHECK: memref.store %{{.*}}, %[[SUMS]]
// CHECK: gpu.barrier
// CHECK: scf.for {{.*}} -> (vector<2x2xi32>, vector<2x2xi32>, vector<2x2xi32>, vector<2x2xi32>, vector<2x2xi32>, vector<2x2xi32>, vector<2x2xi32>, vector<2x2xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>)
// CHECK: vector.load %[[STAGED]][%{{.*}}] {alignment = 8 : i64} : {{.*}}, vector<4xf16>
// CHECK-COUNT-4: arith.andi %{{.*}}, %c16843009_i32
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 32]} : (vector<4x4xi8>, vector<2x4xi8>, vector<2x2xi32>) -> vector<2x2xi32>
// CHECK-COUNT-6: nvgpu.mma.sync
// CHECK-COUNT-4: arith.andi %{{.*}}, %c-2139062144_i32
// CHECK: nvgpu.mma.sync
// CHECK: scf.yield
// CHECK: memref.load %[[SUMS]]
// CHECK: arith.shrsi %{{.*}}, %c7_i32
// CHECK: arith.subi
// CHECK: arith.sitofp
// CHECK: %[[BASE:.*]] = arith.constant 2.560000e+02 : f32
// CHECK: gpu.shuffle  idx
// CHECK: arith.mulf %{{.*}}, %[[BASE]] : f32
// CHECK: scf.yield
// CHECK-NOT: gpu.barrier
// CHECK: memref.store %{{.*}} : memref<1x64xf32>
// CHECK-NOT: linalg.generic
func.func @decode_digits(%x: memref<1x4096xf16>, %s: memref<64x512xi8>, %y: memref<1x64xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<1x64xf32>)
  onebit.packed_sign_product ins(%x, %s : memref<1x4096xf16>, memref<64x512xi8>) outs(%y : memref<1x64xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}

// -----

// N = 16896: 264 blocks of 64 output rows without a K split.
// CHECK-LABEL: func @wide_layer
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c264
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 32]}
func.func @wide_layer(%x: memref<1x256xf16>, %s: memref<16896x32xi8>, %y: memref<1x16896xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<1x256xf16>, memref<16896x32xi8>) outs(%y : memref<1x16896xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}

// -----

// M = 2 fills 6 of the 8 columns of B (3 digits per row), each row with its
// own largest magnitude and scale. With bit 1 meaning +1 the signed sum is
// 2 ones - S. Row 1 of y is stored by the lanes whose elements are input
// row 1 (t = 0, odd elements).
// CHECK-LABEL: func @two_rows_positive_ones
// CHECK: gpu.launch {{.*}} workgroup(%{{.*}} : memref<832xf16, #gpu.address_space<workgroup>>, %[[SUMS:.*]] : memref<4x6xi32, #gpu.address_space<workgroup>>, %[[MAXIMA:.*]] : memref<4x2xf32, #gpu.address_space<workgroup>>
// CHECK: memref.store %{{.*}}, %[[MAXIMA]][%{{.*}}, %c0{{.*}}]
// CHECK: memref.store %{{.*}}, %[[MAXIMA]][%{{.*}}, %c1{{.*}}]
// CHECK: memref.store %{{.*}}, %[[SUMS]][%{{.*}}, %c5{{.*}}]
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 32]}
// CHECK: %[[ONES:.*]] = arith.shli %{{.*}}, %c1_i32
// CHECK: arith.subi %[[ONES]], %{{.*}} : i32
// CHECK: memref.store %{{.*}} : memref<2x16xf32>
func.func @two_rows_positive_ones(%x: memref<2x256xf16>, %s: memref<16x32xi8>, %y: memref<2x16xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<2x256xf16>, memref<16x32xi8>) outs(%y : memref<2x16xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 0>)
  return
}

// -----

// Three input rows would need 9 digit columns: the f16 bit classes.
// CHECK-LABEL: func @three_rows
// CHECK-NOT: mmaShape = [16, 8, 32]
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]}
func.func @three_rows(%x: memref<3x256xf16>, %s: memref<16x32xi8>, %y: memref<3x16xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<3x256xf16>, memref<16x32xi8>) outs(%y : memref<3x16xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}

// -----

// K = 16384: a thread holds at most 96 activations while the block finds
// the largest magnitude, so K is staged in two equal chunks of 8192 (64
// blocks of 52 units), each with its own scale: the chunk loop carries f32
// sums, and each chunk's i32 accumulators start at zero (after the
// staging: with several chunks the sign words load after it).
// CHECK-LABEL: func @long_rows
// CHECK: gpu.launch {{.*}} workgroup(%{{.*}} : memref<13312xf16, #gpu.address_space<workgroup>>
// CHECK: scf.for %{{.*}} = %{{.*}} to %c2 step %{{.*}} iter_args({{.*}}) -> (f32, f32, f32, f32)
// CHECK: math.fma
// CHECK: arith.constant dense<0> : vector<2x2xi32>
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 32]}
// CHECK: gpu.shuffle  idx
// CHECK: arith.addf
// CHECK: scf.yield
func.func @long_rows(%x: memref<1x16384xf16>, %s: memref<4096x2048xi8>, %y: memref<1x4096xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<1x16384xf16>, memref<4096x2048xi8>) outs(%y : memref<1x4096xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}

// -----

// The prologue (x * g, g along K) is evaluated on the pairs the block
// stages; one read across K (transposed) goes one activation at a time.
// CHECK-LABEL: func @fold_input_scale
// CHECK: gpu.launch
// CHECK: vector.load %arg0[{{.*}}] {alignment = 4 : i64} : memref<1x256xf16>, vector<2xf16>
// CHECK: vector.load %arg1[{{.*}}] {alignment = 4 : i64} : memref<256xf16>, vector<2xf16>
// CHECK: arith.mulf %{{.*}}, %{{.*}} : vector<2xf16>
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 32]}
// CHECK-LABEL: func @fold_transposed_input
// CHECK: gpu.launch
// CHECK-NOT: vector.load %arg1
// CHECK: memref.load %arg0
// CHECK: memref.load %arg1
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f16
// CHECK: vector.from_elements %{{.*}}, %{{.*}} : vector<2xf16>
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 32]}
#id = affine_map<(d0, d1) -> (d0, d1)>
#k = affine_map<(d0, d1) -> (d1)>
#transposed = affine_map<(d0, d1) -> (d1, d0)>
func.func @fold_input_scale(%in: memref<1x256xf16>, %g: memref<256xf16>, %s: memref<16x32xi8>,
                            %y: memref<1x16xf32>) {
  %x = gpu.alloc () : memref<1x256xf16>
  linalg.generic {indexing_maps = [#id, #k, #id], iterator_types = ["parallel", "parallel"]} ins(%in, %g : memref<1x256xf16>, memref<256xf16>) outs(%x : memref<1x256xf16>) {
  ^bb0(%a: f16, %b: f16, %o: f16):
    %m = arith.mulf %a, %b : f16
    linalg.yield %m : f16
  }
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<1x16xf32>)
  onebit.packed_sign_product ins(%x, %s : memref<1x256xf16>, memref<16x32xi8>) outs(%y : memref<1x16xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}
func.func @fold_transposed_input(%in: memref<1x256xf16>, %t: memref<256x1xf16>, %s: memref<16x32xi8>,
                                 %y: memref<1x16xf32>) {
  %x = gpu.alloc () : memref<1x256xf16>
  linalg.generic {indexing_maps = [#id, #transposed, #id], iterator_types = ["parallel", "parallel"]} ins(%in, %t : memref<1x256xf16>, memref<256x1xf16>) outs(%x : memref<1x256xf16>) {
  ^bb0(%a: f16, %b: f16, %o: f16):
    %m = arith.mulf %a, %b : f16
    linalg.yield %m : f16
  }
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<1x16xf32>)
  onebit.packed_sign_product ins(%x, %s : memref<1x256xf16>, memref<16x32xi8>) outs(%y : memref<1x16xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}
