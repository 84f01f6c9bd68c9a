// RUN: onebit-opt %s --onebit-gpu-select-schedules | FileCheck %s --check-prefix=SELECT
// RUN: onebit-opt %s --onebit-gpu-select-schedules='attention-blocks=64 attention-warps=4 attention-rows-in-flight=1' | FileCheck %s --check-prefix=FEWER

// One schedule per op, chosen once: lanes_per_row = head_dim / 8, splits =
// attention-blocks / (batch x kv heads x new positions), warps and rows in
// flight from the options.

// SELECT-LABEL: func @select
// SELECT: schedule(#onebit.gpu_attention_schedule<splits = 512, warps = 2, lanes_per_row = 8, rows_in_flight = 4>)
// FEWER-LABEL: func @select
// FEWER: schedule(#onebit.gpu_attention_schedule<splits = 32, warps = 4, lanes_per_row = 8, rows_in_flight = 1>)
func.func @select(%q: tensor<1x4x1x64xf16>, %k: tensor<1x2x1x64xf16>, %v: tensor<1x2x1x64xf16>, %pos: tensor<1xi64>, %init: tensor<1x4x1x64xf16>, %kc: tensor<1x2x?x64xf16>, %vc: tensor<1x2x?x64xf16>) -> tensor<1x4x1x64xf16> {
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %pos : tensor<1x4x1x64xf16>, tensor<1x2x1x64xf16>, tensor<1x2x1x64xf16>, tensor<1xi64>) outs(%init, %kc, %vc : tensor<1x4x1x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16>) scale(0.125) -> tensor<1x4x1x64xf16>, tensor<1x2x?x64xf16>, tensor<1x2x?x64xf16>
  return %o#0 : tensor<1x4x1x64xf16>
}
