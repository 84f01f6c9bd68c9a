// RUN: onebit-opt %s -split-input-file --onebit-gpu-select-schedules -verify-diagnostics -o /dev/null

// A schedule for another target, or a head dimension the kernel cannot
// read in rows of 8 x 2^k elements, is an error naming the op.

func.func @cpu_schedule(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x8xf32>, %pos: tensor<1xi64>, %init: tensor<1x4x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %vc: tensor<1x2x?x8xf32>) -> tensor<1x4x1x8xf32> {
  // expected-error @+1 {{has schedule #onebit.cpu_attention_schedule<row_block = 16, query_tile = 1>, which is not a GPU schedule}}
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %pos : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1xi64>) outs(%init, %kc, %vc : tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) scale(0.5) schedule(#onebit.cpu_attention_schedule<row_block = 16, query_tile = 1>) -> tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
  return %o#0 : tensor<1x4x1x8xf32>
}

// -----

func.func @head_dim(%q: tensor<1x4x1x96xf16>, %k: tensor<1x2x1x96xf16>, %v: tensor<1x2x1x96xf16>, %pos: tensor<1xi64>, %init: tensor<1x4x1x96xf16>, %kc: tensor<1x2x?x96xf16>, %vc: tensor<1x2x?x96xf16>) -> tensor<1x4x1x96xf16> {
  // expected-error @+1 {{has head dimension 96; the GPU attention kernel reads rows of 8 x 2^k elements, up to 256}}
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %pos : tensor<1x4x1x96xf16>, tensor<1x2x1x96xf16>, tensor<1x2x1x96xf16>, tensor<1xi64>) outs(%init, %kc, %vc : tensor<1x4x1x96xf16>, tensor<1x2x?x96xf16>, tensor<1x2x?x96xf16>) scale(0.5) -> tensor<1x4x1x96xf16>, tensor<1x2x?x96xf16>, tensor<1x2x?x96xf16>
  return %o#0 : tensor<1x4x1x96xf16>
}

// -----

func.func @cpu_product_schedule(%x: tensor<1x16xf32>, %s: tensor<4x2xi8>, %z: tensor<1x4xf32>) -> tensor<1x4xf32> {
  // expected-error @+1 {{has schedule #onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 4, chunk_bytes = 2, masked_adds = true>, which is not a GPU schedule}}
  %y = onebit.packed_sign_product ins(%x, %s : tensor<1x16xf32>, tensor<4x2xi8>) outs(%z : tensor<1x4xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 4, chunk_bytes = 2, masked_adds = true>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}
