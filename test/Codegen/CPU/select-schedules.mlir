// RUN: onebit-opt %s --onebit-cpu-select-schedules='attention-row-block=8' | FileCheck %s --check-prefix=SELECT

// One schedule per op, chosen once; the kernel reads it.

// SELECT-LABEL: func @select
// SELECT: onebit.cached_attention {{.*}} schedule(#onebit.cpu_attention_schedule<row_block = 8, query_tile = 1>)
func.func @select(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x8xf32>, %pos: tensor<1xi64>, %init: tensor<1x4x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %vc: tensor<1x2x?x8xf32>) -> tensor<1x4x1x8xf32> {
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %pos : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1xi64>) outs(%init, %kc, %vc : tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) scale(0.5) -> tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
  return %o#0 : tensor<1x4x1x8xf32>
}

