// RUN: onebit-opt %s -split-input-file -convert-onebit-to-linalg -verify-diagnostics -o /dev/null

// An op with a dynamic shape is an error naming it, not a leftover.
func.func @dynamic(%x: tensor<?x16xf32>, %s: tensor<4x2xi8>) -> tensor<?x4xf32> {
  // expected-error @+1 {{cannot lower to linalg: the input shape must be static}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<?x16xf32>, tensor<4x2xi8> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

// A CPU schedule that cannot be honoured is an error on the op, never a
// fallback: N is no multiple of block_rows, ...
func.func @block_rows(%x: tensor<1x16xf32>, %s: tensor<6x2xi8>, %z: tensor<1x6xf32>) -> tensor<1x6xf32> {
  // expected-error @+1 {{cannot run its #onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 4, chunk_bytes = 2, masked_adds = true>: N = 6 is not a multiple of block_rows}}
  %y = onebit.packed_sign_product ins(%x, %s : tensor<1x16xf32>, tensor<6x2xi8>) outs(%z : tensor<1x6xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 4, chunk_bytes = 2, masked_adds = true>) -> tensor<1x6xf32>
  return %y : tensor<1x6xf32>
}

// -----

// ... the packed bytes of a row are no multiple of chunk_bytes, ...
func.func @chunk_bytes(%x: tensor<1x24xf32>, %s: tensor<4x3xi8>, %z: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{the 3 packed bytes of a row are not a multiple of chunk_bytes}}
  %y = onebit.packed_sign_product ins(%x, %s : tensor<1x24xf32>, tensor<4x3xi8>) outs(%z : tensor<1x4xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 1, chunk_bytes = 2, masked_adds = true>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// ... the kernel does not read the layout, ...
func.func @vector_layout(%x: tensor<1x16xf32>, %s: tensor<4x2xi8>, %z: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{its kernel reads OneBit's bytes, lowest input first, not #onebit.sign_packing<word = 8, order = msb_first, negative = 1>}}
  %y = onebit.packed_sign_product ins(%x, %s : tensor<1x16xf32>, tensor<4x2xi8>) outs(%z : tensor<1x4xf32>)
         packing(#onebit.sign_packing<word = 8, order = msb_first, negative = 1>)
         schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 1, chunk_bytes = 1, masked_adds = true>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

func.func @lookup_layout(%x: tensor<1x16xf32>, %s: tensor<4x2xi8>, %z: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{its kernel reads bytes, lowest input first, 16 rows interleaved, not #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>}}
  %y = onebit.packed_sign_product ins(%x, %s : tensor<1x16xf32>, tensor<4x2xi8>) outs(%z : tensor<1x4xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         schedule(#onebit.cpu_sign_lookup_schedule<tile_rows = 1, index_vectors = 1>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// ... N / 16 is no multiple of index_vectors, ...
func.func @index_vectors(%x: tensor<1x16xf32>, %s: tensor<3x2x16xi8>, %z: tensor<1x48xf32>) -> tensor<1x48xf32> {
  // expected-error @+1 {{N / 16 = 3 is not a multiple of index_vectors}}
  %y = onebit.packed_sign_product ins(%x, %s : tensor<1x16xf32>, tensor<3x2x16xi8>) outs(%z : tensor<1x48xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1, interleave = 16>)
         schedule(#onebit.cpu_sign_lookup_schedule<tile_rows = 1, index_vectors = 2>) -> tensor<1x48xf32>
  return %y : tensor<1x48xf32>
}

// -----

// ... or the sums would not be f32.
func.func @f16_sums(%x: tensor<1x16xf32>, %s: tensor<4x2xi8>, %z: tensor<1x4xf16>) -> tensor<1x4xf16> {
  // expected-error @+1 {{whose kernel sums in f32, not 'f16'}}
  %y = onebit.packed_sign_product ins(%x, %s : tensor<1x16xf32>, tensor<4x2xi8>) outs(%z : tensor<1x4xf16>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 1, chunk_bytes = 1, masked_adds = true>) -> tensor<1x4xf16>
  return %y : tensor<1x4xf16>
}

// -----

// The CPU kernels are built on tensors: a CPU-scheduled product on buffers
// is an error, not left behind.
func.func @on_buffers(%x: memref<1x16xf32>, %s: memref<4x2xi8>, %z: memref<1x4xf32>) {
  // expected-error @+1 {{whose kernel takes tensors of static shapes}}
  onebit.packed_sign_product ins(%x, %s : memref<1x16xf32>, memref<4x2xi8>) outs(%z : memref<1x4xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 1, chunk_bytes = 1, masked_adds = true>)
  return
}
