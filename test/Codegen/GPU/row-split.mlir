// RUN: onebit-opt %s --split-input-file --onebit-gpu-row-reductions | FileCheck %s
// RUN: onebit-opt %s --split-input-file --onebit-gpu-row-reductions="max-blocks-per-row=2" | FileCheck %s --check-prefix=TWO

// A LayerNorm with a weight over one row of 4096 (batch 1): 1024 threads
// hold 4 elements each, so the row's tail (the normalization, whose result
// no later step reads) splits over 4 blocks, each owning one slot of every
// thread. The tail's weight is loaded before the first step; every block
// reduces the whole row from registers (x is loaded once), stores the
// centred slot it owns, block 0 alone stores the mean and the variance,
// and the tail picks its slot's centred value from registers. The inputs
// from outside the chain (x, the weight) are all loaded before the first
// step.
// CHECK-LABEL: func.func @layer_norm
// CHECK-DAG: %[[C4:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C1024:.*]] = arith.constant 1024 : index
// CHECK: gpu.launch blocks(%[[BLOCK:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C4]], {{.*}} threads(%[[T:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C1024]],
// CHECK: %[[OWNER:.*]] = arith.remui %[[BLOCK]], %{{.*}} : index
// CHECK-COUNT-4: memref.load %{{.*}} : memref<1x1x4096xf32>
// CHECK: %[[W:.*]] = memref.load %arg1[{{.*}}] : memref<1x4096xf16>
// CHECK-NOT: memref.load %{{.*}} : memref<1x1x4096xf32>
// CHECK: gpu.shuffle xor
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[T]], %{{.*}} : index
// CHECK: %[[BLOCK0:.*]] = arith.cmpi eq, %[[OWNER]], %{{.*}} : index
// CHECK: arith.andi %[[FIRST]], %[[BLOCK0]] : i1
// CHECK: memref.store %{{.*}} : memref<1x1xf32>
// CHECK: gpu.barrier
// CHECK-COUNT-4: arith.subf
// CHECK: %[[OWNS:.*]] = arith.cmpi eq, %[[OWNER]], %{{.*}} : index
// CHECK: arith.andi %{{.*}}, %[[OWNS]] : i1
// CHECK: memref.store %{{.*}} : memref<1x4096xf32>
// CHECK: gpu.barrier
// CHECK-NOT: memref.load %{{.*}} : memref<1x4096xf32>
// CHECK: gpu.shuffle xor
// CHECK: gpu.barrier
// CHECK-NOT: memref.load %{{.*}} : memref<1x
// CHECK-COUNT-3: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// CHECK: math.rsqrt
// CHECK: arith.extf %[[W]]
// CHECK: memref.store %{{.*}}, %arg2[{{.*}}] : memref<1x4096xf16>
// CHECK-NOT: memref.store
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
