// RUN: onebit-opt %s -onebit-gpu-select-schedules="mma-bit-classes=8 mma-int8-activations=false" -onebit-gpu-sign-mma | FileCheck %s
// RUN: onebit-opt %s -onebit-gpu-select-schedules="mma-loads-ahead=3 mma-int8-activations=false" -onebit-gpu-sign-mma | FileCheck %s --check-prefix=AHEAD

// M = 1, K = 4096 with 8 bit classes (bits 8 to 15 of each half-word):
// 8 accumulators instead of 16. Each of the 4 words of a word pair (rows g
// and g + 8, even and odd word) is also shifted left by 8, so that bits 0
// to 7 pass through the classes: bit 0 is bit 8 of the shifted word
// (0x01000100), bit 7 its sign bit (0x80008000, xor 1.0). The sums of the
// masked classes leave out bits 7 and 15 of every half-word (j % 8 != 7),
// and the combination scales class 8 (c = 2^-16) by 65536.
// With mma-loads-ahead=3 (the schedule's loads_ahead) the sign words of 3
// steps (rows g and g + 8 each) are in flight before the block stages x,
// and the step loop carries them.
// AHEAD-LABEL: func @decode_eight_classes
// AHEAD-COUNT-6: vector.load %{{.*}} {alignment = 16 : i64} : memref<8192xi32>, vector<4xi32>
// AHEAD-NOT: vector.load %{{.*}} : memref<8192xi32>
// AHEAD: gpu.barrier
// AHEAD: scf.for {{.*}} -> ({{.*}}vector<2x2xf32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>)
// CHECK-LABEL: func @decode_eight_classes
// CHECK: gpu.launch
// CHECK: arith.remui %{{.*}}, %c8{{.*}} : index
// CHECK: arith.cmpi ne, %{{.*}}, %c7{{.*}} : index
// CHECK: scf.for {{.*}} -> (vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<4xi32>, vector<4xi32>, vector<4xi32>, vector<4xi32>)
// CHECK-COUNT-4: arith.shli %{{.*}}, %c8_i32{{.*}} : i32
// CHECK: vector.load {{.*}} vector<8xf16>
// CHECK-COUNT-4: arith.andi %{{.*}}, %c16777472_i32{{.*}} : i32
// CHECK: %[[FIRST:.*]] = nvgpu.mma.sync(%{{.*}}, %{{.*}}, %[[ACC0:[^)]*]])
// CHECK-COUNT-6: nvgpu.mma.sync
// CHECK: arith.constant -2147450880 : i32
// CHECK: nvgpu.mma.sync
// Bit 8 of the unshifted words goes to the first class again.
// CHECK-COUNT-4: arith.andi %{{.*}}, %c16777472_i32{{.*}} : i32
// CHECK: nvgpu.mma.sync(%{{.*}}, %{{.*}}, %[[FIRST]])
// CHECK: scf.yield
// CHECK: arith.constant 6.553600e+04 : f32
// CHECK-NOT: linalg.generic
func.func @decode_eight_classes(%x: memref<1x4096xf16>, %s: memref<64x512xi8>, %y: memref<1x64xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<1x4096xf16>, memref<64x512xi8>) outs(%y : memref<1x64xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}
