// RUN: onebit-opt %s -split-input-file -onebit-decompose-linear -onebit-gpu-select-schedules | FileCheck %s
// RUN: onebit-opt %s -split-input-file -onebit-decompose-linear -onebit-gpu-select-schedules="mma-min-rows=2 gemv-rows-per-step=2" | FileCheck %s --check-prefix=MIN
// RUN: onebit-opt %s -split-input-file -onebit-decompose-linear -onebit-gpu-select-schedules="mma-int8-activations=false mma-min-grid-size=1 mma-loads-ahead=4" | FileCheck %s --check-prefix=OPTIONS
// RUN: onebit-opt %s -split-input-file -onebit-decompose-linear -onebit-gpu-select-schedules=report=true -o /dev/null 2>&1 | FileCheck %s --check-prefix=REPORT

// Each packed-sign product gets its kernel, once, as its schedule: the
// LLaMA-7B decode products on the tensor cores. q/k/v (4096 -> 12288): 768
// tiles of 16 rows give 192 blocks of 4 warps, fewer than 264, so 2 warps
// share each row tile, splitting K. gate/up (4096 -> 22016): 344 blocks,
// no split, so the s8 digits. down (11008 -> 4096): K is 86 x 128, two
// words per step, 4 warps split it.
#packing = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>
// CHECK-LABEL: func @decode_7b
// CHECK: onebit.packed_sign_product
// CHECK-SAME: tensor<12288x512xi8>
// CHECK-SAME: packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
// CHECK-SAME: schedule(#onebit.gpu_sign_mma_schedule<decoding = bit_classes, row_tiles = 1, k_split = 2, words = 4, chunk = 4096, loads_ahead = 2, bit_classes = 16>)
// CHECK: onebit.packed_sign_product
// CHECK-SAME: tensor<22016x512xi8>
// CHECK-SAME: schedule(#onebit.gpu_sign_mma_schedule<decoding = byte_classes, row_tiles = 1, k_split = 1, words = 4, chunk = 4096, loads_ahead = 2>
// CHECK: onebit.packed_sign_product
// CHECK-SAME: tensor<4096x1376xi8>
// CHECK-SAME: schedule(#onebit.gpu_sign_mma_schedule<decoding = bit_classes, row_tiles = 1, k_split = 4, words = 2, chunk = 11008, loads_ahead = 2, bit_classes = 16>
// One input row below mma-min-rows: the decode kernel, 2 rows per step.
// MIN-LABEL: func @decode_7b
// MIN-COUNT-3: schedule(#onebit.gpu_sign_gemv_schedule<words = 4, rows_per_step = 2
// Without the s8 digits and with a grid of at least one block: bit
// classes, no K split; 4 steps ahead.
// OPTIONS-LABEL: func @decode_7b
// OPTIONS-COUNT-2: schedule(#onebit.gpu_sign_mma_schedule<decoding = bit_classes, row_tiles = 1, k_split = 1, words = 4, chunk = 4096, loads_ahead = 4, bit_classes = 16>
// OPTIONS: schedule(#onebit.gpu_sign_mma_schedule<decoding = bit_classes, row_tiles = 1, k_split = 1, words = 2, chunk = 11008, loads_ahead = 4, bit_classes = 16>
func.func @decode_7b(%x: tensor<1x4096xf16>, %qkv: tensor<12288x512xi8>, %up: tensor<22016x512xi8>, %x2: tensor<1x11008xf16>, %down: tensor<4096x1376xi8>) -> (tensor<1x12288xf16>, tensor<1x22016xf16>, tensor<1x4096xf16>) {
  %a = onebit.linear %x, %qkv packing(#packing) : tensor<1x4096xf16>, tensor<12288x512xi8> -> tensor<1x12288xf16>
  %b = onebit.linear %x, %up packing(#packing) : tensor<1x4096xf16>, tensor<22016x512xi8> -> tensor<1x22016xf16>
  %c = onebit.linear %x2, %down packing(#packing) : tensor<1x11008xf16>, tensor<4096x1376xi8> -> tensor<1x4096xf16>
  return %a, %b, %c : tensor<1x12288xf16>, tensor<1x22016xf16>, tensor<1x4096xf16>
}

// -----

// More input rows: 16 (two input-row tiles) load their fragments directly,
// two output tiles per warp; 40 stage them in workgroup memory. f32
// activations with up to 4 rows take the decode kernel; with 5 rows, or K
// not a multiple of 32, no kernel: one thread per output.
#packing = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>
// CHECK-LABEL: func @rows
// CHECK: schedule(#onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 2, k_split = 4, words = 1, chunk = 4096, loads_ahead = 2, direct_fragments = true>
// CHECK: schedule(#onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 2, k_split = 1, words = 2, chunk = 256, loads_ahead = 2>
// CHECK: schedule(#onebit.gpu_sign_gemv_schedule<words = 2, rows_per_step = 4, grid_size = 1, staged = true>
// CHECK-NOT: schedule(
// CHECK: return
// OPTIONS-LABEL: func @rows
// OPTIONS: schedule(#onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 2, k_split = 1, words = 1, chunk = 4096, loads_ahead = 4, direct_fragments = true>
// With report, a remark per product: its sizes and schedule, or that no
// kernel takes it.
// REPORT: remark: 1-bit product 2x256 -> 8: #onebit.gpu_sign_gemv_schedule<words = 2, rows_per_step = 4, grid_size = 1, staged = true>
// REPORT: remark: 1-bit product 5x64 -> 4: no kernel takes it (one thread per output)
func.func @rows(%x16: tensor<16x4096xf16>, %x40: tensor<40x256xf16>, %x2: tensor<2x256xf32>, %x5: tensor<5x64xf32>, %x1: tensor<1x40xf32>, %s: tensor<4096x512xi8>, %s8: tensor<8x32xi8>, %s4: tensor<4x8xi8>, %s5: tensor<4x5xi8>) -> (tensor<16x4096xf16>, tensor<40x8xf16>, tensor<2x8xf32>, tensor<5x4xf32>, tensor<1x4xf32>) {
  %a = onebit.linear %x16, %s packing(#packing) : tensor<16x4096xf16>, tensor<4096x512xi8> -> tensor<16x4096xf16>
  %b = onebit.linear %x40, %s8 packing(#packing) : tensor<40x256xf16>, tensor<8x32xi8> -> tensor<40x8xf16>
  %c = onebit.linear %x2, %s8 packing(#packing) : tensor<2x256xf32>, tensor<8x32xi8> -> tensor<2x8xf32>
  %d = onebit.linear %x5, %s4 packing(#packing) : tensor<5x64xf32>, tensor<4x8xi8> -> tensor<5x4xf32>
  %e = onebit.linear %x1, %s5 packing(#packing) : tensor<1x40xf32>, tensor<4x5xi8> -> tensor<1x4xf32>
  return %a, %b, %c, %d, %e : tensor<16x4096xf16>, tensor<40x8xf16>, tensor<2x8xf32>, tensor<5x4xf32>, tensor<1x4xf32>
}

// -----

// A schedule set by hand (in a test) stays as it is.
// CHECK-LABEL: func @by_hand
// CHECK: schedule(#onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 1, k_split = 1, words = 4, chunk = 4096, loads_ahead = 8>
func.func @by_hand(%x: tensor<1x4096xf16>, %s: tensor<64x512xi8>, %y: tensor<1x64xf32>) -> tensor<1x64xf32> {
  %r = onebit.packed_sign_product ins(%x, %s : tensor<1x4096xf16>, tensor<64x512xi8>) outs(%y : tensor<1x64xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 1, k_split = 1, words = 4, chunk = 4096, loads_ahead = 8>) -> tensor<1x64xf32>
  return %r : tensor<1x64xf32>
}

// -----

// The kernels read their inputs with the identity layout: activations that
// are a slice (here through a reshape) are copied before the product.
// CHECK-LABEL: func @slice
// CHECK: %[[SLICE:.*]] = tensor.extract_slice
// CHECK: %[[ROWS:.*]] = tensor.expand_shape %[[SLICE]]
// CHECK: %[[COPY:.*]] = bufferization.alloc_tensor() copy(%[[ROWS]]) : tensor<1x256xf16>
// CHECK: onebit.packed_sign_product ins(%[[COPY]], %{{.*}} : tensor<1x256xf16>, tensor<8x32xi8>)
func.func @slice(%all: tensor<512xf16>, %s: tensor<8x32xi8>, %y: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %half = tensor.extract_slice %all[256] [256] [1] : tensor<512xf16> to tensor<256xf16>
  %x = tensor.expand_shape %half [[0, 1]] output_shape [1, 256] : tensor<256xf16> into tensor<1x256xf16>
  %r = onebit.packed_sign_product ins(%x, %s : tensor<1x256xf16>, tensor<8x32xi8>) outs(%y : tensor<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) -> tensor<1x8xf32>
  return %r : tensor<1x8xf32>
}
