// RUN: onebit-opt %s --pass-pipeline='builtin.module(onebit-cuda-pipeline)' --mlir-print-ir-after=onebit-gpu-select-schedules -o /dev/null 2>&1 | FileCheck %s --check-prefix=DEFAULT
// RUN: onebit-opt %s --pass-pipeline='builtin.module(onebit-cuda-pipeline{attention-blocks=64 attention-warps=4 attention-rows-in-flight=1})' --mlir-print-ir-after=onebit-gpu-select-schedules -o /dev/null 2>&1 | FileCheck %s --check-prefix=OPTIONS

// onebit-cuda-pipeline hands its attention options (onebit-compile's
// --attention-blocks, --attention-warps, --attention-rows-in-flight) to
// onebit-gpu-select-schedules: 2 key/value heads, so splits = blocks / 2.
// DEFAULT: schedule(#onebit.gpu_attention_schedule<splits = 512, warps = 2, lanes_per_row = 8, rows_in_flight = 4>)
// OPTIONS: schedule(#onebit.gpu_attention_schedule<splits = 32, warps = 4, lanes_per_row = 8, rows_in_flight = 1>)
func.func @main_graph(%q: tensor<1x4x1x64xf16>, %k: tensor<1x2x1x64xf16>, %v: tensor<1x2x1x64xf16>, %pos: tensor<1xi64>, %init: tensor<1x4x1x64xf16>, %kc: tensor<1x2x16x64xf16>, %vc: tensor<1x2x16x64xf16>) -> tensor<1x4x1x64xf16> {
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %pos : tensor<1x4x1x64xf16>, tensor<1x2x1x64xf16>, tensor<1x2x1x64xf16>, tensor<1xi64>) outs(%init, %kc, %vc : tensor<1x4x1x64xf16>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>) scale(0.125) -> tensor<1x4x1x64xf16>, tensor<1x2x16x64xf16>, tensor<1x2x16x64xf16>
  return %o#0 : tensor<1x4x1x64xf16>
}
