// RUN: onebit-opt %s --split-input-file --onebit-gpu-row-reductions="max-blocks-per-row=1" | FileCheck %s

// A LayerNorm over 2 rows of 512 as bufferization leaves it: the mean's
// fill and sum, x minus the mean, the variance's fill and sum of squares,
// the normalization. Every step reads and writes only its row, so one
// kernel with a block per row runs them in order, a barrier between
// steps: one launch instead of six. Each fill is absorbed by the sum after
// it: the sum adds its result to the fill's value (0) instead of loading
// the output, and the fill is no step of its own. A thread's 4 elements of
// the row fit in registers, so the steps run without loops and pass their
// values on: x is loaded once, the mean, the centred row and the variance
// are stored but never loaded again.
// CHECK-LABEL: func.func @layer_norm
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[C2]], {{.*}} threads({{.*}}) in (%{{.*}} = %[[C128]],
// CHECK-SAME: function(@onebit_row_reduction)
// CHECK-NOT: scf.for
// CHECK-COUNT-4: memref.load %{{.*}} : memref<2x1x512xf32>
// CHECK-NOT: memref.load %{{.*}} : memref<2x1x512xf32>
// CHECK: gpu.shuffle xor
// CHECK: gpu.barrier
// CHECK-NOT: memref.load %{{.*}} : memref<2x1xf32>
// CHECK: %[[MEAN:.*]] = arith.addf %cst{{.*}}, %{{.*}} : f32
// CHECK: memref.store %[[MEAN]], %{{.*}} : memref<2x1xf32>
// CHECK: gpu.barrier
// CHECK-NOT: memref.load
// CHECK: arith.mulf %[[MEAN]]
// CHECK: arith.subf
// CHECK: memref.store %{{.*}}, %[[CENTRED:.*]][%{{.*}}, %{{.*}}] : memref<2x512xf32>
// CHECK: gpu.barrier
// CHECK-NOT: memref.load %{{.*}} : memref<2x
// CHECK: arith.mulf
// CHECK: gpu.shuffle xor
// CHECK: gpu.barrier
// CHECK: %[[VAR:.*]] = arith.addf %cst{{.*}}, %{{.*}} : f32
// CHECK: gpu.barrier
// CHECK-NOT: memref.load
// CHECK: arith.mulf %[[VAR]]
// CHECK: math.rsqrt
// CHECK: memref.store %{{.*}}, %arg1[%{{.*}}, %{{.*}}] : memref<2x512xf16>
// CHECK-NOT: scf.for
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
// CHECK-NOT: linalg.
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0, 0)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#out3 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @layer_norm(%x: memref<2x512xf32>, %y: memref<2x512xf16>) {
  %zero = arith.constant 0.0 : f32
  %inv = arith.constant 1.953125E-3 : f32
  %eps = arith.constant 1.0E-5 : f32
  %mean_buffer = gpu.alloc () : memref<2xf32>
  %mean = memref.expand_shape %mean_buffer [[0, 1]] output_shape [2, 1] : memref<2xf32> into memref<2x1xf32>
  linalg.fill ins(%zero : f32) outs(%mean : memref<2x1xf32>)
  %x3 = memref.expand_shape %x [[0, 1], [2]] output_shape [2, 1, 512] : memref<2x512xf32> into memref<2x1x512xf32>
  linalg.generic {indexing_maps = [#id3, #out3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x3 : memref<2x1x512xf32>) outs(%mean : memref<2x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  %centred = gpu.alloc () : memref<2x512xf32>
  linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x, %mean : memref<2x512xf32>, memref<2x1xf32>) outs(%centred : memref<2x512xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %a = arith.mulf %m, %inv : f32
    %d = arith.subf %in, %a : f32
    linalg.yield %d : f32
  }
  %c3 = memref.expand_shape %centred [[0, 1], [2]] output_shape [2, 1, 512] : memref<2x512xf32> into memref<2x1x512xf32>
  %var_buffer = gpu.alloc () : memref<2xf32>
  %var = memref.expand_shape %var_buffer [[0, 1]] output_shape [2, 1] : memref<2xf32> into memref<2x1xf32>
  linalg.fill ins(%zero : f32) outs(%var : memref<2x1xf32>)
  linalg.generic {indexing_maps = [#id3, #out3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%c3 : memref<2x1x512xf32>) outs(%var : memref<2x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sq = arith.mulf %in, %in : f32
    %s = arith.addf %sq, %out : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%centred, %var : memref<2x512xf32>, memref<2x1xf32>) outs(%y : memref<2x512xf16>) {
  ^bb0(%in: f32, %v: f32, %out: f16):
    %a = arith.mulf %v, %inv : f32
    %b = arith.addf %a, %eps : f32
    %r = math.rsqrt %b : f32
    %n = arith.mulf %in, %r : f32
    %t = arith.truncf %n : f32 to f16
    linalg.yield %t : f16
  }
  return
}

// -----

// A step that reads another row of a buffer the group writes (here the
// sums, transposed) is not row-local: the reduction gets its own kernel
// and the elementwise ops stay for the generic schedule.
// CHECK-LABEL: func.func @other_rows
// CHECK: linalg.fill
// CHECK: gpu.launch
// CHECK: gpu.terminator
// CHECK: linalg.generic
#t2 = affine_map<(d0, d1) -> (d1, d0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#out2 = affine_map<(d0, d1) -> (d0)>
func.func @other_rows(%x: memref<4x256xf32>, %sum: memref<4xf32>, %y: memref<4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%sum : memref<4xf32>)
  linalg.generic {indexing_maps = [#id2, #out2], iterator_types = ["parallel", "reduction"]} ins(%x : memref<4x256xf32>) outs(%sum : memref<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  %sum2 = memref.expand_shape %sum [[0, 1]] output_shape [4, 1] : memref<4xf32> into memref<4x1xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, 0)>, #id2], iterator_types = ["parallel", "parallel"]} ins(%sum2 : memref<4x1xf32>) outs(%y : memref<4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  return
}

// -----

// Different row counts make different kernels (3 rows of 128, then 6 of
// 64); an elementwise step whose loops do not split into the rows (5 x 7
// against 3 rows) stays outside.
// CHECK-LABEL: func.func @row_counts
// CHECK: linalg.generic
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c3
// CHECK: gpu.terminator
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c6
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#out2 = affine_map<(d0, d1) -> (d0)>
func.func @row_counts(%odd: memref<5x7xf32>, %a: memref<3x128xf32>, %sa: memref<3xf32>, %b: memref<6x64xf32>, %sb: memref<6xf32>) {
  linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]} outs(%odd : memref<5x7xf32>) {
  ^bb0(%out: f32):
    %one = arith.constant 1.0 : f32
    linalg.yield %one : f32
  }
  linalg.generic {indexing_maps = [#id2, #out2], iterator_types = ["parallel", "reduction"]} ins(%a : memref<3x128xf32>) outs(%sa : memref<3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id2, #out2], iterator_types = ["parallel", "reduction"]} ins(%b : memref<6x64xf32>) outs(%sb : memref<6xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.maximumf %in, %out : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Two sums over one row each, a kernel between them that touches neither:
// the first sum (and its fill) moves down past the kernel, and the two
// chains, which share no buffer they write, run in one launch of 2 blocks,
// one per chain (an index switch on the block), each chain's steps in
// order (each fill absorbed by its sum). A kernel that writes what a step
// reads stops the step above it.
// CHECK-LABEL: func.func @independent_chains
// CHECK: gpu.launch {{.*}} function(@other)
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2,
// CHECK-SAME: function(@onebit_row_reduction)
// CHECK: scf.index_switch
// CHECK: case 0 {
// CHECK: memref.load %arg0
// CHECK: memref.store %{{.*}}, %arg2
// CHECK: case 1 {
// CHECK: memref.load %arg1
// CHECK: memref.store %{{.*}}, %arg3
// CHECK: default {
// CHECK-NOT: linalg.
// CHECK-LABEL: func.func @dependent_kernel
// CHECK: gpu.launch {{.*}} function(@onebit_row_reduction)
// CHECK: gpu.launch {{.*}} function(@writes_input)
// CHECK: gpu.launch {{.*}} function(@onebit_row_reduction)
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#out2 = affine_map<(d0, d1) -> (d0)>
func.func @independent_chains(%a: memref<1x256xf32>, %b: memref<1x256xf32>, %sa: memref<1xf32>, %sb: memref<1xf32>, %w: memref<8xf32>) {
  %zero = arith.constant 0.0 : f32
  %c1 = arith.constant 1 : index
  linalg.fill ins(%zero : f32) outs(%sa : memref<1xf32>)
  linalg.generic {indexing_maps = [#id2, #out2], iterator_types = ["parallel", "reduction"]} ins(%a : memref<1x256xf32>) outs(%sa : memref<1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) function(@other) {
    memref.store %zero, %w[%tx] : memref<8xf32>
    gpu.terminator
  }
  linalg.fill ins(%zero : f32) outs(%sb : memref<1xf32>)
  linalg.generic {indexing_maps = [#id2, #out2], iterator_types = ["parallel", "reduction"]} ins(%b : memref<1x256xf32>) outs(%sb : memref<1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  return
}
func.func @dependent_kernel(%a: memref<1x256xf32>, %b: memref<1x256xf32>, %sa: memref<1xf32>, %sb: memref<1xf32>) {
  %zero = arith.constant 0.0 : f32
  %c1 = arith.constant 1 : index
  linalg.generic {indexing_maps = [#id2, #out2], iterator_types = ["parallel", "reduction"]} ins(%a : memref<1x256xf32>) outs(%sa : memref<1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) function(@writes_input) {
    memref.store %zero, %a[%tx, %tx] : memref<1x256xf32>
    gpu.terminator
  }
  linalg.generic {indexing_maps = [#id2, #out2], iterator_types = ["parallel", "reduction"]} ins(%b : memref<1x256xf32>) outs(%sb : memref<1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A fill whose buffer a step reads before the sum into it stays a step:
// the step after it takes the fill's value from registers, and the sum
// adds to what the fill stored.
// CHECK-LABEL: func.func @fill_read_first
// CHECK: gpu.launch
// CHECK: memref.store %[[ZERO:.*]], %arg1[
// CHECK: gpu.barrier
// CHECK-NOT: memref.load %arg1[
// CHECK: arith.addf %[[ZERO]], %{{.*}} : f32
// CHECK: memref.store %{{.*}}, %arg2[
// CHECK: gpu.barrier
// CHECK: gpu.shuffle xor
// CHECK: %[[BEFORE:.*]] = memref.load %arg1[
// CHECK: arith.addf %[[BEFORE]]
#id1 = affine_map<(d0) -> (d0)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#out2 = affine_map<(d0, d1) -> (d0)>
func.func @fill_read_first(%x: memref<1x256xf32>, %s: memref<1xf32>, %t: memref<1xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%s : memref<1xf32>)
  linalg.generic {indexing_maps = [#id1, #id1], iterator_types = ["parallel"]} ins(%s : memref<1xf32>) outs(%t : memref<1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %one = arith.constant 1.0 : f32
    %r = arith.addf %in, %one : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id2, #out2], iterator_types = ["parallel", "reduction"]} ins(%x : memref<1x256xf32>) outs(%s : memref<1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// An elementwise generic that reads its own output (an accumulation in
// place) is no row step: it stays for the generic schedule, after the
// sum's kernel.
// CHECK-LABEL: func.func @reads_own_output
// CHECK: gpu.launch
// CHECK: gpu.terminator
// CHECK: linalg.generic
// CHECK: arith.addf %{{.*}}, %{{.*}} : f32
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#out2 = affine_map<(d0, d1) -> (d0)>
func.func @reads_own_output(%x: memref<1x256xf32>, %s: memref<1xf32>, %acc: memref<1x256xf32>) {
  linalg.generic {indexing_maps = [#id2, #out2], iterator_types = ["parallel", "reduction"]} ins(%x : memref<1x256xf32>) outs(%s : memref<1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x : memref<1x256xf32>) outs(%acc : memref<1x256xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Rows too long for registers (32768 elements, 32 a thread): each step
// walks the row in a loop, 4 elements at a time, and loads what it reads.
// CHECK-LABEL: func.func @long_rows
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, {{.*}} threads({{.*}}) in (%{{.*}} = %c1024,
// CHECK: scf.for {{.*}} iter_args
// CHECK-COUNT-4: memref.load %arg0
// CHECK: scf.yield
// CHECK: gpu.shuffle xor
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK-COUNT-4: memref.load %arg0
// CHECK: memref.load %{{.*}} : memref<1xf32>
// CHECK: arith.divf
// CHECK: memref.store %{{.*}}, %arg1
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#out2 = affine_map<(d0, d1) -> (d0)>
#row2 = affine_map<(d0, d1) -> (d0)>
func.func @long_rows(%x: memref<1x32768xf32>, %y: memref<1x32768xf32>) {
  %zero = arith.constant 0.0 : f32
  %sum = gpu.alloc () : memref<1xf32>
  linalg.fill ins(%zero : f32) outs(%sum : memref<1xf32>)
  linalg.generic {indexing_maps = [#id2, #out2], iterator_types = ["parallel", "reduction"]} ins(%x : memref<1x32768xf32>) outs(%sum : memref<1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %in, %out : f32
    linalg.yield %r : f32
  }
  linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x, %sum : memref<1x32768xf32>, memref<1xf32>) outs(%y : memref<1x32768xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %r = arith.divf %in, %s : f32
    linalg.yield %r : f32
  }
  return
}
