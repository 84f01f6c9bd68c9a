// RUN: onebit-opt %s --split-input-file --onebit-gpu-row-reductions | FileCheck %s
// RUN: onebit-opt %s --split-input-file --onebit-gpu-row-reductions="max-blocks-per-row=2" | FileCheck %s --check-prefix=TWO

// A LayerNorm with a weight over one row of 4096 (batch 1): 1024 threads
// hold 4 elements each, so the row's tail (the normalization, whose result
// no later step reads) splits over 4 blocks, each owning one slot of every
// thread. The inputs from outside the chain (x, the weight) are loaded
// before the first step; every block reduces the whole row from registers
// (x is loaded once), stores the centred slot it owns, block 0 alone
// stores the mean and the variance, and the tail picks its slot's centred
// value from registers. Nothing is read back from memory, so the steps
// need no barrier between them: the only barriers are the two sums' own,
// which take turns with two buffers of partials.
// CHECK-LABEL: func.func @layer_norm
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C1024:.*]] = arith.constant 1024 : index
// CHECK: gpu.launch blocks(%[[BLOCK:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C4]], {{.*}} threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C1024]],
// CHECK-SAME: workgroup(%[[P0:.*]] : memref<32xf32, #gpu.address_space<workgroup>>, %[[P1:.*]] : memref<32xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[OWNER:.*]] = arith.remui %[[BLOCK]], %{{.*}} : index
// CHECK-COUNT-4: memref.load %{{.*}} : memref<1x1x4096xf32>
// CHECK: %[[W:.*]] = memref.load %arg1[{{.*}}] : memref<1x4096xf16>
// CHECK-NOT: memref.load %{{.*}} : memref<1x1x4096xf32>
// CHECK: gpu.shuffle xor
// CHECK: memref.store %{{.*}}, %[[P0]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[P0]]
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[T]], %{{.*}} : index
// CHECK: %[[BLOCK0:.*]] = arith.cmpi eq, %[[OWNER]], %{{.*}} : index
// CHECK: arith.andi %[[FIRST]], %[[BLOCK0]] : i1
// CHECK: memref.store %{{.*}} : memref<1x1xf32>
// CHECK-NOT: gpu.barrier
// CHECK-COUNT-4: arith.subf
// CHECK: %[[OWNS:.*]] = arith.cmpi eq, %[[OWNER]], %{{.*}} : index
// CHECK: arith.andi %{{.*}}, %[[OWNS]] : i1
// CHECK: memref.store %{{.*}} : memref<1x4096xf32>
// CHECK-NOT: gpu.barrier
// CHECK-NOT: memref.load %{{.*}} : memref<1x4096xf32>
// CHECK: gpu.shuffle xor
// CHECK: memref.store %{{.*}}, %[[P1]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[P1]]
// CHECK-NOT: gpu.barrier
// CHECK-NOT: memref.load %{{.*}} : memref<1x
// CHECK-COUNT-3: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: math.rsqrt
// CHECK: arith.extf %[[W]]
// CHECK: memref.store %{{.*}}, %arg2[{{.*}}] : memref<1x4096xf16>
// CHECK-NOT: memref.store
// CHECK-NOT: gpu.barrier
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
// The option caps the blocks of a row.
// TWO-LABEL: func.func @layer_norm
// TWO: %[[C2:.*]] = arith.constant 2 : index
// TWO: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[C2]],
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0, 0)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#out3 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @layer_norm(%x: memref<1x4096xf32>, %w: memref<1x4096xf16>, %y: memref<1x4096xf16>) {
  %zero = arith.constant 0.0 : f32
  %inv = arith.constant 2.44140625E-4 : f32
  %eps = arith.constant 1.0E-5 : f32
  %mean = gpu.alloc () : memref<1x1xf32>
  linalg.fill ins(%zero : f32) outs(%mean : memref<1x1xf32>)
  %x3 = memref.expand_shape %x [[0, 1], [2]] output_shape [1, 1, 4096] : memref<1x4096xf32> into memref<1x1x4096xf32>
  linalg.generic {indexing_maps = [#id3, #out3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x3 : memref<1x1x4096xf32>) outs(%mean : memref<1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  %centred = gpu.alloc () : memref<1x4096xf32>
  linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x, %mean : memref<1x4096xf32>, memref<1x1xf32>) outs(%centred : memref<1x4096xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %a = arith.mulf %m, %inv : f32
    %d = arith.subf %in, %a : f32
    linalg.yield %d : f32
  }
  %c3 = memref.expand_shape %centred [[0, 1], [2]] output_shape [1, 1, 4096] : memref<1x4096xf32> into memref<1x1x4096xf32>
  %var = gpu.alloc () : memref<1x1xf32>
  linalg.fill ins(%zero : f32) outs(%var : memref<1x1xf32>)
  linalg.generic {indexing_maps = [#id3, #out3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%c3 : memref<1x1x4096xf32>) outs(%var : memref<1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sq = arith.mulf %in, %in : f32
    %s = arith.addf %sq, %out : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id2, #row2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%centred, %var, %w : memref<1x4096xf32>, memref<1x1xf32>, memref<1x4096xf16>) outs(%y : memref<1x4096xf16>) {
  ^bb0(%in: f32, %v: f32, %wi: f16, %out: f16):
    %a = arith.mulf %v, %inv : f32
    %b = arith.addf %a, %eps : f32
    %r = math.rsqrt %b : f32
    %n = arith.mulf %in, %r : f32
    %we = arith.extf %wi : f16 to f32
    %p = arith.mulf %n, %we : f32
    %t = arith.truncf %p : f32 to f16
    linalg.yield %t : f16
  }
  return
}

// -----

// A sum without a fill before it adds to what its output held: block 0
// alone loads and stores it, so a later step that reads the sum would read
// it back from memory, which the other blocks of a split row cannot. The
// row keeps one block.
// CHECK-LABEL: func.func @read_back
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[C1]],
// CHECK-NOT: arith.andi
// CHECK: gpu.terminator
// CHECK-NOT: gpu.launch
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0, 0)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#out3 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @read_back(%x: memref<1x4096xf32>, %sum: memref<1x1xf32>, %y: memref<1x4096xf32>) {
  %x3 = memref.expand_shape %x [[0, 1], [2]] output_shape [1, 1, 4096] : memref<1x4096xf32> into memref<1x1x4096xf32>
  linalg.generic {indexing_maps = [#id3, #out3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x3 : memref<1x1x4096xf32>) outs(%sum : memref<1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x, %sum : memref<1x4096xf32>, memref<1x1xf32>) outs(%y : memref<1x4096xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %d = arith.subf %in, %s : f32
    linalg.yield %d : f32
  }
  return
}

// -----

// With many rows the GPU is full: a block per row.
// CHECK-LABEL: func.func @many_rows
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[C128]],
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0, 0)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#out3 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @many_rows(%x: memref<128x4096xf32>, %y: memref<128x4096xf32>) {
  %zero = arith.constant 0.0 : f32
  %sum = gpu.alloc () : memref<128x1xf32>
  linalg.fill ins(%zero : f32) outs(%sum : memref<128x1xf32>)
  %x3 = memref.expand_shape %x [[0, 1], [2]] output_shape [128, 1, 4096] : memref<128x4096xf32> into memref<128x1x4096xf32>
  linalg.generic {indexing_maps = [#id3, #out3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x3 : memref<128x1x4096xf32>) outs(%sum : memref<128x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x, %sum : memref<128x4096xf32>, memref<128x1xf32>) outs(%y : memref<128x4096xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %d = arith.subf %in, %s : f32
    linalg.yield %d : f32
  }
  return
}

// -----

// Two rows and two independent chains (each an RMSNorm whose input is a
// residual sum, x + r): 512 threads hold 4 elements of a 2048 row, so 4
// blocks per row; block id = (chain * rows + row) * 4 + owner. The
// residual sum is no tail (the sum of squares reads it) and is stored by
// its owner slot; its inputs, x and r, are loaded before the first step
// with the tail's weight.
// CHECK-LABEL: func.func @chains_and_rows
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[C512:.*]] = arith.constant 512 : index
// CHECK: gpu.launch blocks(%[[BLOCK:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C16]], {{.*}} threads({{.*}}) in (%{{.*}} = %[[C512]],
// CHECK: %[[OWNER:.*]] = arith.remui %[[BLOCK]], %c4{{.*}} : index
// CHECK: %[[ROW_AND_CHAIN:.*]] = arith.divui %[[BLOCK]], %c4{{.*}} : index
// CHECK: arith.remui %[[ROW_AND_CHAIN]], %c2{{.*}} : index
// CHECK: %[[CHAIN:.*]] = arith.divui %[[ROW_AND_CHAIN]], %c2{{.*}} : index
// CHECK: scf.index_switch %[[CHAIN]]
// CHECK: case 0 {
// CHECK-COUNT-8: memref.load %arg{{[01]}}[
// CHECK: memref.load %arg4
// CHECK-NOT: memref.load %arg
// CHECK: arith.addf
// CHECK: arith.cmpi eq, %[[OWNER]]
// CHECK: memref.store %{{.*}}, %arg6
// CHECK: gpu.shuffle xor
// CHECK: math.rsqrt
// CHECK: memref.store %{{.*}}, %arg8
// CHECK: case 1 {
// CHECK-COUNT-8: memref.load %arg{{[23]}}[
// CHECK: memref.load %arg5
// CHECK: memref.store %{{.*}}, %arg7
// CHECK: memref.store %{{.*}}, %arg9
// CHECK: default {
// CHECK-NOT: linalg.
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0, 0)>
#w2 = affine_map<(d0, d1) -> (d1)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#out3 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @chains_and_rows(%x0: memref<2x2048xf32>, %r0: memref<2x2048xf32>,
                           %x1: memref<2x2048xf32>, %r1: memref<2x2048xf32>,
                           %w0: memref<2048xf32>, %w1: memref<2048xf32>,
                           %h0: memref<2x2048xf32>, %h1: memref<2x2048xf32>,
                           %y0: memref<2x2048xf32>, %y1: memref<2x2048xf32>) {
  %zero = arith.constant 0.0 : f32
  %inv = arith.constant 4.8828125E-4 : f32
  %eps = arith.constant 1.0E-5 : f32
  linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x0, %r0 : memref<2x2048xf32>, memref<2x2048xf32>) outs(%h0 : memref<2x2048xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  %ss0 = gpu.alloc () : memref<2x1xf32>
  linalg.fill ins(%zero : f32) outs(%ss0 : memref<2x1xf32>)
  %h03 = memref.expand_shape %h0 [[0, 1], [2]] output_shape [2, 1, 2048] : memref<2x2048xf32> into memref<2x1x2048xf32>
  linalg.generic {indexing_maps = [#id3, #out3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%h03 : memref<2x1x2048xf32>) outs(%ss0 : memref<2x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sq = arith.mulf %in, %in : f32
    %s = arith.addf %sq, %out : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id2, #row2, #w2, #id2], iterator_types = ["parallel", "parallel"]} ins(%h0, %ss0, %w0 : memref<2x2048xf32>, memref<2x1xf32>, memref<2048xf32>) outs(%y0 : memref<2x2048xf32>) {
  ^bb0(%in: f32, %v: f32, %w: f32, %out: f32):
    %a = arith.mulf %v, %inv : f32
    %b = arith.addf %a, %eps : f32
    %r = math.rsqrt %b : f32
    %n = arith.mulf %in, %r : f32
    %p = arith.mulf %n, %w : f32
    linalg.yield %p : f32
  }
  linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x1, %r1 : memref<2x2048xf32>, memref<2x2048xf32>) outs(%h1 : memref<2x2048xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  }
  %ss1 = gpu.alloc () : memref<2x1xf32>
  linalg.fill ins(%zero : f32) outs(%ss1 : memref<2x1xf32>)
  %h13 = memref.expand_shape %h1 [[0, 1], [2]] output_shape [2, 1, 2048] : memref<2x2048xf32> into memref<2x1x2048xf32>
  linalg.generic {indexing_maps = [#id3, #out3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%h13 : memref<2x1x2048xf32>) outs(%ss1 : memref<2x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sq = arith.mulf %in, %in : f32
    %s = arith.addf %sq, %out : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id2, #row2, #w2, #id2], iterator_types = ["parallel", "parallel"]} ins(%h1, %ss1, %w1 : memref<2x2048xf32>, memref<2x1xf32>, memref<2048xf32>) outs(%y1 : memref<2x2048xf32>) {
  ^bb0(%in: f32, %v: f32, %w: f32, %out: f32):
    %a = arith.mulf %v, %inv : f32
    %b = arith.addf %a, %eps : f32
    %r = math.rsqrt %b : f32
    %n = arith.mulf %in, %r : f32
    %p = arith.mulf %n, %w : f32
    linalg.yield %p : f32
  }
  return
}

// -----

// The last step reads the centred row through a view (memref.cast): no
// step after the centring is a tail of it, and its read of the view comes
// from memory, which only the block that stored it can read back. The
// row keeps one block, its steps barriers apart.
// CHECK-LABEL: func.func @through_a_view
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %[[C1]],
// CHECK-NOT: arith.andi
// CHECK: gpu.barrier
// CHECK: memref.load %{{.*}} : memref<1x4096xf32, strided<[4096, 1]>>
// CHECK: gpu.terminator
// CHECK-NOT: linalg.
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row2 = affine_map<(d0, d1) -> (d0, 0)>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#out3 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @through_a_view(%x: memref<1x4096xf32>, %y: memref<1x4096xf32>) {
  %zero = arith.constant 0.0 : f32
  %sum = gpu.alloc () : memref<1x1xf32>
  linalg.fill ins(%zero : f32) outs(%sum : memref<1x1xf32>)
  %x3 = memref.expand_shape %x [[0, 1], [2]] output_shape [1, 1, 4096] : memref<1x4096xf32> into memref<1x1x4096xf32>
  linalg.generic {indexing_maps = [#id3, #out3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x3 : memref<1x1x4096xf32>) outs(%sum : memref<1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  %centred = gpu.alloc () : memref<1x4096xf32>
  linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%x, %sum : memref<1x4096xf32>, memref<1x1xf32>) outs(%centred : memref<1x4096xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %d = arith.subf %in, %s : f32
    linalg.yield %d : f32
  }
  %view = memref.cast %centred : memref<1x4096xf32> to memref<1x4096xf32, strided<[4096, 1]>>
  %sq = gpu.alloc () : memref<1x1xf32>
  linalg.fill ins(%zero : f32) outs(%sq : memref<1x1xf32>)
  %v3 = memref.expand_shape %centred [[0, 1], [2]] output_shape [1, 1, 4096] : memref<1x4096xf32> into memref<1x1x4096xf32>
  linalg.generic {indexing_maps = [#id3, #out3], iterator_types = ["parallel", "parallel", "reduction"]} ins(%v3 : memref<1x1x4096xf32>) outs(%sq : memref<1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %in, %in : f32
    %s = arith.addf %m, %out : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#id2, #row2, #id2], iterator_types = ["parallel", "parallel"]} ins(%view, %sq : memref<1x4096xf32, strided<[4096, 1]>>, memref<1x1xf32>) outs(%y : memref<1x4096xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %d = arith.mulf %in, %s : f32
    linalg.yield %d : f32
  }
  return
}
