// RUN: onebit-opt %s -split-input-file --onebit-cpu-select-schedules -verify-diagnostics -o /dev/null

// A schedule for another target is an error, never replaced.

func.func @gpu_schedule(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x8xf32>, %pos: tensor<1xi64>, %init: tensor<1x4x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %vc: tensor<1x2x?x8xf32>) -> tensor<1x4x1x8xf32> {
  // expected-error @+1 {{has schedule #onebit.gpu_attention_schedule<splits = 4, warps = 1, lanes_per_row = 1, rows_in_flight = 1>, which is not a CPU schedule}}
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %pos : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1xi64>) outs(%init, %kc, %vc : tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) scale(0.5) schedule(#onebit.gpu_attention_schedule<splits = 4, warps = 1, lanes_per_row = 1, rows_in_flight = 1>) -> tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
  return %o#0 : tensor<1x4x1x8xf32>
}
