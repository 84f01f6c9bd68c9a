// RUN: onebit-opt %s --onebit-cpu-attention -verify-diagnostics -o /dev/null

// A mask among the new positions that is not causal (a causal constant
// one canonicalizes away) cannot be honoured: an error, not a causal
// kernel that ignores it.

func.func @masked(%q: memref<1x4x2x8xf32>, %k: memref<1x2x2x8xf32>, %v: memref<1x2x2x8xf32>, %pos: memref<1xi64>, %mask: memref<2x2xf32>, %out: memref<1x4x2x8xf32>, %kc: memref<1x2x?x8xf32>, %vc: memref<1x2x?x8xf32>) {
  // expected-error @+1 {{the kernel is causal, and the op has a mask among its new positions}}
  onebit.cached_attention ins(%q, %k, %v, %pos mask %mask : memref<1x4x2x8xf32>, memref<1x2x2x8xf32>, memref<1x2x2x8xf32>, memref<1xi64>, memref<2x2xf32>) outs(%out, %kc, %vc : memref<1x4x2x8xf32>, memref<1x2x?x8xf32>, memref<1x2x?x8xf32>) scale(0.5) schedule(#onebit.cpu_attention_schedule<row_block = 4, query_tile = 1>)
  return
}
