// RUN: onebit-opt %s -split-input-file --onebit-gpu-select-schedules -verify-diagnostics -o /dev/null

// A schedule for another target or kernel, or a head dimension the kernel
// cannot read in rows of 8 x 2^k elements, is an error naming the op.

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

#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#s = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 8)>
#y = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @product_with_attention_schedule(%x: tensor<1x256xf16>, %s: tensor<8x32xi8>, %y: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{has schedule #onebit.gpu_attention_schedule<splits = 1, warps = 1, lanes_per_row = 1, rows_in_flight = 1>, which is not a GPU schedule of a packed-sign product}}
  %r = linalg.generic {indexing_maps = [#x, #s, #y], iterator_types = ["parallel", "parallel", "reduction"], onebit.schedule = #onebit.gpu_attention_schedule<splits = 1, warps = 1, lanes_per_row = 1, rows_in_flight = 1>, onebit.sign_packing = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>} ins(%x, %s : tensor<1x256xf16>, tensor<8x32xi8>) outs(%y : tensor<1x8xf32>) {
  ^bb0(%a: f16, %b: i8, %acc: f32):
    linalg.yield %acc : f32
  } -> tensor<1x8xf32>
  return %r : tensor<1x8xf32>
}
