// RUN: onebit-opt %s -split-input-file -onebit-gpu-select-schedules -onebit-gpu-sign-mma | FileCheck %s
// RUN: onebit-opt %s -split-input-file -onebit-gpu-select-schedules=mma-direct-fragments=false -onebit-gpu-sign-mma | FileCheck %s --check-prefix=STAGED

// M = 12 (two input-row tiles), K = 256, N = 64: each lane loads its B
// fragments from x with its sign words, one word per row and step (W = 1):
// the 32 inputs of its word of input rows g and 8 + g (clamped to row 11;
// the rows past M are never stored) as 4 vectors of 8, two steps ahead. No
// activations are staged and no barrier separates chunks: the only
// workgroup memory is the K split's (two steps, two warps per row range).
// The fragment of pair (p, p + 1) is inputs (p, p + 16) and (p + 1,
// p + 17) of the word; one A operand serves both input-row tiles.
// CHECK-LABEL: func @direct
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c1, {{.*}}) threads({{.*}}) in (%{{.*}} = %c128, {{.*}}) workgroup(%[[PARTIALS:.*]] : memref<64x16xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT: gpu.barrier
// CHECK: scf.for
// CHECK-COUNT-4: vector.load %{{.*}} {alignment = 4 : i64} : memref<512xi32>, vector<1xi32>
// CHECK: arith.minui %{{.*}}, %c11
// CHECK-COUNT-4: vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<12x256xf16>, vector<8xf16>
// CHECK: arith.minui %{{.*}}, %c11
// CHECK-COUNT-4: vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<12x256xf16>, vector<8xf16>
// CHECK: scf.for {{.*}} -> (vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<1xi32>, vector<1xi32>, vector<1xi32>, vector<1xi32>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<8xf16>, vector<1xi32>,
// CHECK-NOT: gpu.barrier
// CHECK: vector.shuffle %[[X0:.*]], %[[X16:.*]] [0, 8] : vector<8xf16>, vector<8xf16>
// CHECK: vector.shuffle %[[X0]], %[[X16]] [1, 9] : vector<8xf16>, vector<8xf16>
// CHECK-COUNT-2: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK: scf.yield
// CHECK: memref.store %{{.*}}, %[[PARTIALS]]
// CHECK: gpu.barrier
// CHECK: memref.store %{{.*}} : memref<12x64xf32>

// Staged instead (mma-direct-fragments=false): x in workgroup memory, four
// words per lane and step.
// STAGED-LABEL: func @direct
// STAGED: workgroup(%[[BUFFER:.*]] : memref<{{.*}}xf16, #gpu.address_space<workgroup>>
// STAGED: gpu.barrier
// STAGED: vector.store %{{.*}}, %[[BUFFER]]
// STAGED: gpu.barrier
// STAGED: vector.load %{{.*}} : memref<512xi32>, vector<2xi32>
// STAGED-NOT: vector.shuffle
// STAGED: nvgpu.mma.sync
func.func @direct(%x: memref<12x256xf16>, %s: memref<64x32xi8>, %y: memref<12x64xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<12x256xf16>, memref<64x32xi8>) outs(%y : memref<12x64xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}

// -----

// 17 input rows need three tiles: staged, as for prefill.
// CHECK-LABEL: func @three_tiles
// CHECK: workgroup(%[[BUFFER:.*]] : memref<{{.*}}xf16, #gpu.address_space<workgroup>>
// CHECK: vector.store %{{.*}}, %[[BUFFER]]
// CHECK-NOT: vector.shuffle
// CHECK: return
func.func @three_tiles(%x: memref<17x256xf16>, %s: memref<64x32xi8>, %y: memref<17x64xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<17x256xf16>, memref<64x32xi8>) outs(%y : memref<17x64xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}
