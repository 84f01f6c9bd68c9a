// RUN: onebit-opt %s -split-input-file --onebit-cpu-select-schedules -verify-diagnostics -o /dev/null

// A product with another target's schedule is an error, never replaced.

func.func @gpu_schedule(%x: tensor<1x128xf16>, %s: tensor<16x16xi8>, %z: tensor<1x16xf32>) -> tensor<1x16xf32> {
  // expected-error @+1 {{has schedule #onebit.gpu_sign_gemv_schedule<words = 1, rows_per_step = 1, grid_size = 1, staged = false>, which is not a CPU schedule}}
  %y = onebit.packed_sign_product ins(%x, %s : tensor<1x128xf16>, tensor<16x16xi8>) outs(%z : tensor<1x16xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         schedule(#onebit.gpu_sign_gemv_schedule<words = 1, rows_per_step = 1, grid_size = 1, staged = false>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}
