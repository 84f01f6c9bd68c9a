// RUN: onebit-opt %s -split-input-file --onebit-gpu-attention -verify-diagnostics -o /dev/null

// The kernel only reads a schedule: none is an error, as are operands it
// cannot read with vector loads.

func.func @no_schedule(%q: memref<1x4x1x8xf32>, %k: memref<1x2x1x8xf32>, %v: memref<1x2x1x8xf32>, %pos: memref<1xi64>, %out: memref<1x4x1x8xf32>, %kc: memref<1x2x?x8xf32>, %vc: memref<1x2x?x8xf32>) {
  // expected-error @+1 {{has no #onebit.gpu_attention_schedule (onebit-gpu-select-schedules chooses one)}}
  onebit.cached_attention ins(%q, %k, %v, %pos : memref<1x4x1x8xf32>, memref<1x2x1x8xf32>, memref<1x2x1x8xf32>, memref<1xi64>) outs(%out, %kc, %vc : memref<1x4x1x8xf32>, memref<1x2x?x8xf32>, memref<1x2x?x8xf32>) scale(0.5)
  return
}

// -----

func.func @strided(%q: memref<1x4x1x8xf32, strided<[64, 16, 8, 1]>>, %k: memref<1x2x1x8xf32>, %v: memref<1x2x1x8xf32>, %pos: memref<1xi64>, %out: memref<1x4x1x8xf32>, %kc: memref<1x2x?x8xf32>, %vc: memref<1x2x?x8xf32>) {
  // expected-error @+1 {{does not have an identity layout}}
  onebit.cached_attention ins(%q, %k, %v, %pos : memref<1x4x1x8xf32, strided<[64, 16, 8, 1]>>, memref<1x2x1x8xf32>, memref<1x2x1x8xf32>, memref<1xi64>) outs(%out, %kc, %vc : memref<1x4x1x8xf32>, memref<1x2x?x8xf32>, memref<1x2x?x8xf32>) scale(0.5) schedule(#onebit.gpu_attention_schedule<splits = 2, warps = 1, lanes_per_row = 1, rows_in_flight = 1>)
  return
}

// -----

func.func @masked(%q: memref<1x4x2x8xf32>, %k: memref<1x2x2x8xf32>, %v: memref<1x2x2x8xf32>, %pos: memref<1xi64>, %mask: memref<2x2xf32>, %out: memref<1x4x2x8xf32>, %kc: memref<1x2x?x8xf32>, %vc: memref<1x2x?x8xf32>) {
  // expected-error @+1 {{the kernel is causal, and the op has a mask among its new positions}}
  onebit.cached_attention ins(%q, %k, %v, %pos mask %mask : memref<1x4x2x8xf32>, memref<1x2x2x8xf32>, memref<1x2x2x8xf32>, memref<1xi64>, memref<2x2xf32>) outs(%out, %kc, %vc : memref<1x4x2x8xf32>, memref<1x2x?x8xf32>, memref<1x2x?x8xf32>) scale(0.5) schedule(#onebit.gpu_attention_schedule<splits = 2, warps = 1, lanes_per_row = 1, rows_in_flight = 1>)
  return
}
