// RUN: onebit-opt %s -split-input-file -verify-diagnostics -onebit-gpu-sign-mma -onebit-gpu-sign-gemv

// A schedule the product cannot take is an error on the product, never a
// silent fallback to one thread per output.

func.func @strided_mma(%x: memref<2x128xf16, strided<[256, 1]>>, %s: memref<8x16xi8>, %y: memref<2x8xf32>) {
  // expected-error @+1 {{whose kernel reads buffers with the identity layout only, not 'memref<2x128xf16, strided<[256, 1]>>'}}
  onebit.packed_sign_product ins(%x, %s : memref<2x128xf16, strided<[256, 1]>>, memref<8x16xi8>) outs(%y : memref<2x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 1, k_split = 1, words = 1, chunk = 128, loads_ahead = 2>)
  return
}

// -----

func.func @strided_gemv(%x: memref<1x64xf32, strided<[128, 1]>>, %s: memref<8x8xi8>, %y: memref<1x8xf32>) {
  // expected-error @+1 {{whose kernel reads buffers with the identity layout only}}
  onebit.packed_sign_product ins(%x, %s : memref<1x64xf32, strided<[128, 1]>>, memref<8x8xi8>) outs(%y : memref<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_gemv_schedule<words = 2, rows_per_step = 4, grid_size = 1, staged = true>)
  return
}

// -----

func.func @msb_first(%x: memref<1x256xf16>, %s: memref<8x32xi8>, %y: memref<1x8xf32>) {
  // expected-error @+1 {{whose kernel reads signs packed in bytes, lowest input first, not #onebit.sign_packing<word = 8, order = msb_first, negative = 1>}}
  onebit.packed_sign_product ins(%x, %s : memref<1x256xf16>, memref<8x32xi8>) outs(%y : memref<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = msb_first, negative = 1>) schedule(#onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 1, k_split = 1, words = 1, chunk = 256, loads_ahead = 2>)
  return
}

// -----

func.func @words(%x: memref<1x256xf16>, %s: memref<8x32xi8>, %y: memref<1x8xf32>) {
  // expected-error @+1 {{K = 256 is not a multiple of 512 (128 x words)}}
  onebit.packed_sign_product ins(%x, %s : memref<1x256xf16>, memref<8x32xi8>) outs(%y : memref<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 1, k_split = 1, words = 4, chunk = 256, loads_ahead = 2>)
  return
}

// -----

func.func @digit_rows(%x: memref<3x256xf16>, %s: memref<8x32xi8>, %y: memref<3x8xf32>) {
  // expected-error @+1 {{the byte_classes decoding takes at most 2 input rows, not 3}}
  onebit.packed_sign_product ins(%x, %s : memref<3x256xf16>, memref<8x32xi8>) outs(%y : memref<3x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_mma_schedule<decoding = byte_classes, row_tiles = 1, k_split = 1, words = 2, chunk = 256, loads_ahead = 2>)
  return
}

// -----

func.func @chunk(%x: memref<1x1024xf16>, %s: memref<8x128xi8>, %y: memref<1x8xf32>) {
  // expected-error @+1 {{the chunk must be K = 1024 or a multiple of 512 below it (whole rounds of the K split)}}
  onebit.packed_sign_product ins(%x, %s : memref<1x1024xf16>, memref<8x128xi8>) outs(%y : memref<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 1, k_split = 2, words = 2, chunk = 256, loads_ahead = 2>)
  return
}

// -----

func.func @workgroup_memory(%x: memref<32x16384xf16>, %s: memref<16x2048xi8>, %y: memref<32x16xf32>) {
  // expected-error @+1 {{bytes of workgroup memory, more than 49152}}
  onebit.packed_sign_product ins(%x, %s : memref<32x16384xf16>, memref<16x2048xi8>) outs(%y : memref<32x16xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 1, k_split = 1, words = 1, chunk = 16384, loads_ahead = 2>)
  return
}

// -----

func.func @gemv_rows(%x: memref<5x64xf32>, %s: memref<8x8xi8>, %y: memref<5x8xf32>) {
  // expected-error @+1 {{the decode kernel takes 1 to 4 input rows, not 5}}
  onebit.packed_sign_product ins(%x, %s : memref<5x64xf32>, memref<8x8xi8>) outs(%y : memref<5x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_gemv_schedule<words = 1, rows_per_step = 4, grid_size = 1, staged = true>)
  return
}

// -----

func.func @gemv_staged(%x: memref<4x8192xf32>, %s: memref<8x1024xi8>, %y: memref<4x8xf32>) {
  // expected-error @+1 {{the staged activations take 131072 bytes of workgroup memory, more than 49152}}
  onebit.packed_sign_product ins(%x, %s : memref<4x8192xf32>, memref<8x1024xi8>) outs(%y : memref<4x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_gemv_schedule<words = 1, rows_per_step = 4, grid_size = 1, staged = true>)
  return
}

// -----

// The kernels are built after bufferization: a scheduled product still on
// tensors there is an error, not a product left behind.
func.func @on_tensors(%x: tensor<1x256xf16>, %s: tensor<8x32xi8>, %y: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{whose kernel takes buffers of static shapes}}
  %r = onebit.packed_sign_product ins(%x, %s : tensor<1x256xf16>, tensor<8x32xi8>) outs(%y : tensor<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_gemv_schedule<words = 2, rows_per_step = 4, grid_size = 1, staged = true>) -> tensor<1x8xf32>
  return %r : tensor<1x8xf32>
}
