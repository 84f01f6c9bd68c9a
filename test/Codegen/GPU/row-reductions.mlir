// RUN: onebit-opt %s --split-input-file --onebit-gpu-row-reductions | FileCheck %s

// RMSNorm's sum of squares over 6 rows of 384: a block of 96 threads per
// row (4 elements each), strided loads, all 4 of a thread at once without
// a loop (indices clamped to the row, the values past it replaced by the
// identity), the square evaluated per element, warp shuffles and
// workgroup memory, thread 0 adding the result to the output. The launch
// names its outlined kernel (what profilers show).
// CHECK-LABEL: func.func @sum_of_squares
// CHECK-DAG: %[[C6:.*]] = arith.constant 6 : index
// CHECK-DAG: %[[C96:.*]] = arith.constant 96 : index
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C6]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C96]],
// CHECK-SAME: function(@onebit_row_reduction)
// CHECK-SAME: workgroup(%[[PARTIALS:.*]] : memref<3xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT: scf.for
// CHECK-COUNT-4: arith.minui %{{.*}}, %c383
// CHECK: %[[X:.*]] = memref.load %arg0[%{{.*}}, %{{.*}}]
// CHECK: %[[SQ:.*]] = arith.mulf %[[X]], %[[X]]
// CHECK: %[[FIRST:.*]] = arith.select %{{.*}}, %[[SQ]], %{{.*}} : f32
// CHECK-COUNT-3: memref.load %arg0
// CHECK: arith.addf %cst{{.*}}, %[[FIRST]]
// CHECK-COUNT-2: arith.addf
// CHECK: %[[SUM:.*]] = arith.addf
// CHECK-NOT: scf.yield
// CHECK: gpu.shuffle xor %[[SUM]], %{{.*}}, %{{.*}} : f32
// CHECK: memref.store %{{.*}}, %[[PARTIALS]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[PARTIALS]]
// CHECK: gpu.shuffle xor
// CHECK: %[[OLD:.*]] = memref.load %arg1[%{{.*}}]
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %{{.*}} : f32
// CHECK: memref.store %[[NEW]], %arg1[%{{.*}}]
// CHECK-NOT: linalg.generic
#rows = affine_map<(d0, d1) -> (d0, d1)>
#out = affine_map<(d0, d1) -> (d0)>
func.func @sum_of_squares(%x: memref<6x384xf32>, %sum: memref<6xf32>) {
  linalg.generic {indexing_maps = [#rows, #out], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<6x384xf32>) outs(%sum : memref<6xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %sq = arith.mulf %in, %in : f32
    %s = arith.addf %acc, %sq : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Softmax's max over a broadcast-free f16 row of 40 in a [2, 3, 40]
// tensor: 32 threads (one warp), -inf as the identity, f16 extended to
// f32 and the result truncated back.
// CHECK-LABEL: func.func @row_max_f16
// CHECK-DAG: %[[C6:.*]] = arith.constant 6 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK: gpu.launch blocks({{.*}} = %[[C6]], {{.*}} threads({{.*}} = %[[C32]],
// CHECK: arith.constant 0xFF800000 : f32
// CHECK-NOT: scf.for
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.select %{{.*}}, %{{.*}}, %cst{{.*}} : f32
// CHECK: arith.maximumf
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: arith.maximumf %{{.*}}, %{{.*}} : f16
#x3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#o3 = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @row_max_f16(%x: memref<2x3x40xf16>, %m: memref<2x3xf16>) {
  linalg.generic {indexing_maps = [#x3, #o3], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<2x3x40xf16>) outs(%m : memref<2x3xf16>) {
  ^bb0(%in: f16, %acc: f16):
    %r = arith.maximumf %acc, %in : f16
    linalg.yield %r : f16
  }
  return
}

// -----

// Not row reductions, or too short: left for the generic schedule.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: gpu.launch
// CHECK-COUNT-3: linalg.generic
#t = affine_map<(d0, d1) -> (d1, d0)>
#o = affine_map<(d0, d1) -> (d0)>
#c = affine_map<(d0, d1) -> (d1)>
func.func @left_alone(%x: memref<64x64xf32>, %short: memref<4x8xf32>, %o: memref<64xf32>, %o4: memref<4xf32>) {
  // the output is indexed by the reduced loop
  linalg.generic {indexing_maps = [#t, #c], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<64x64xf32>) outs(%o : memref<64xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %acc, %in : f32
    linalg.yield %s : f32
  }
  // a product, not a fold of the output (mulf)
  linalg.generic {indexing_maps = [#t, #o], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<64x64xf32>) outs(%o : memref<64xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.mulf %acc, %in : f32
    linalg.yield %s : f32
  }
  // rows of 8: shorter than min-row-size
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, #o], iterator_types = ["parallel", "reduction"]}
      ins(%short : memref<4x8xf32>) outs(%o4 : memref<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %acc, %in : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Many rows (128 of 1024, an lm_head at decode): 256 threads a block, not
// the 1024 that one or a few rows get, since the rows fill the GPU.
// CHECK-LABEL: func.func @many_rows
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK: gpu.launch blocks({{.*}} = %[[C128]], {{.*}} threads({{.*}} = %[[C256]],
func.func @many_rows(%x: memref<128x1024xf32>, %sum: memref<128xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<128x1024xf32>) outs(%sum : memref<128xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %acc, %in : f32
    linalg.yield %s : f32
  }
  return
}
