// RUN: onebit-opt %s --onebit-gpu-attention | FileCheck %s

// Two launches: the split kernel over (splits) x (batch x kv heads x new
// positions) blocks of `warps` warps, which reads the position on the GPU,
// takes ceil(P / splits) cache rows, loads 2 rows per lane (rows_in_flight)
// before it scores them, reduces each row's 8 lanes with XOR shuffles
// (4, 2, 1); the last split then takes the new rows. The warp's 4 row
// groups merge (8, 16) and write one partial per warp (splits x warps =
// 16) of 64 sums, max and sum; split 0 appends the new row. Then the
// combine kernel, a warp per (batch, query head, position): the partials'
// maxima and sums reduced by shuffles, then all 16 partials' values loaded
// at once, 2 dimensions per lane (64 / 32), each weight from its lane.

// CHECK-LABEL: func @decode
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<1x4x1x64xf16>, %[[K:[a-z0-9]+]]: memref<1x2x1x64xf16>, %[[V:[a-z0-9]+]]: memref<1x2x1x64xf16>, %[[POS:[a-z0-9]+]]: memref<1xi64>, %[[OUT:[a-z0-9]+]]: memref<1x4x1x64xf16>, %[[KC:[a-z0-9]+]]: memref<1x2x?x64xf16>, %[[VC:[a-z0-9]+]]: memref<1x2x?x64xf16>
// CHECK: %[[ROWS:.*]] = memref.dim %[[KC]], %c2
// CHECK: %[[SCRATCH:.*]] = memref.alloc() : memref<16x4x68xf32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c8{{.*}}, {{.*}} = %c2{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c64{{.*}}, {{.*}}) function(@onebit_attention_split)
// CHECK: memref.load %[[POS]]
// CHECK: arith.minsi %{{.*}}, %[[ROWS]]
// CHECK: arith.ceildivui
// CHECK-COUNT-2: vector.load %[[Q]]
// CHECK: scf.for
// CHECK-NOT: scf.if
// CHECK: vector.load %[[KC]]{{.*}} {alignment = 16 : i64}
// CHECK-NEXT: vector.load %[[VC]]
// CHECK-NOT: gpu.shuffle
// CHECK: vector.load %[[KC]]
// CHECK-NEXT: vector.load %[[VC]]
// CHECK: gpu.shuffle  xor %{{.*}}, %c4_i32
// CHECK: gpu.shuffle  xor %{{.*}}, %c2_i32
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32
// CHECK: math.exp
// CHECK: scf.yield
// CHECK: scf.for
// CHECK: vector.load %[[K]]
// CHECK-NEXT: vector.load %[[V]]
// CHECK: scf.yield
// CHECK: gpu.shuffle  xor %{{.*}}, %c8_i32
// CHECK: gpu.shuffle  xor %{{.*}}, %c16_i32
// CHECK: vector.store %{{.*}}, %[[SCRATCH]]
// CHECK: vector.store %{{.*}}, %[[KC]]
// CHECK: vector.store %{{.*}}, %[[VC]]
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4{{.*}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c32{{.*}}, {{.*}}) function(@onebit_attention_combine)
// CHECK: memref.load %[[SCRATCH]]{{.*}}%c64
// CHECK: memref.load %[[SCRATCH]]{{.*}}%c65
// CHECK: gpu.shuffle  xor %{{.*}}, %c16_i32
// CHECK: math.exp
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c16{{.*}} step %c16{{.*}} -> (vector<2xf32>)
// CHECK-COUNT-16: vector.load %[[SCRATCH]]{{.*}} {alignment = 8 : i64} : memref<16x4x68xf32>, vector<2xf32>
// CHECK: scf.yield
// CHECK: arith.divf
// CHECK: arith.truncf %{{.*}} : vector<2xf32> to vector<2xf16>
// CHECK: vector.store %{{.*}}, %[[OUT]]{{.*}} {alignment = 4 : i64}
// CHECK-NOT: onebit.cached_attention
func.func @decode(%q: memref<1x4x1x64xf16>, %k: memref<1x2x1x64xf16>, %v: memref<1x2x1x64xf16>, %pos: memref<1xi64>, %out: memref<1x4x1x64xf16>, %kc: memref<1x2x?x64xf16>, %vc: memref<1x2x?x64xf16>) {
  onebit.cached_attention ins(%q, %k, %v, %pos : memref<1x4x1x64xf16>, memref<1x2x1x64xf16>, memref<1x2x1x64xf16>, memref<1xi64>) outs(%out, %kc, %vc : memref<1x4x1x64xf16>, memref<1x2x?x64xf16>, memref<1x2x?x64xf16>) scale(0.125) schedule(#onebit.gpu_attention_schedule<splits = 8, warps = 2, lanes_per_row = 8, rows_in_flight = 2>)
  return
}
