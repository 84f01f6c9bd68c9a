// RUN: onebit-opt %s -onebit-cuda-pipeline | FileCheck %s

// Prefill in f16 (4 input rows, K = 128): the 1-bit layer runs in
// onebit-gpu-sign-mma's kernel on the tensor cores. Its PTX (the assembly
// of its gpu.binary): each lane loads its sign words while the block
// stages the activations in shared memory, then makes f16 pairs of +-1 of pairs of sign bits
// (shift, and 0x80008000 = -2147450880, xor 0x3C003C00 = 1006648320) after
// reading its B fragment with one 8-byte shared load, and multiplies with
// mma.sync m16n8k16 (f16 in, f32 sums).
// CHECK: gpu.binary
// CHECK-SAME: .visible .entry onebit_sign_mma(
// CHECK-SAME: ld.global
// CHECK-SAME: st.shared
// CHECK-SAME: bar.sync
// CHECK-SAME: ld.shared.v2.b32
// CHECK-SAME: and.b32{{[^;]*}}-2147450880;
// CHECK-SAME: 1006648320;
// CHECK-SAME: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
func.func @main_graph(%x: tensor<4x128xf16>) -> tensor<4x16xf16> {
  %s = arith.constant dense<[[-7, -62, 61, 114, -95, -122, 112, 4, -9, -30, 112, 115, 75, -51, -10, -51],
    [71, -121, -96, -47, -107, 26, -113, 9, 114, 70, 90, 74, 99, -60, 59, -79],
    [-110, -59, 125, -17, 4, 95, 26, 87, 69, 51, 80, -10, 44, -114, 15, -45],
    [39, -75, -20, 8, 17, -65, -96, 118, 119, -83, 48, -94, 82, -51, -118, 22],
    [90, 84, -68, -106, -105, 65, 41, 14, -8, -110, 30, -125, -89, -73, -112, -27],
    [80, 21, 6, -49, -107, 45, 32, 56, -58, 65, 64, 107, 69, -76, 10, 92],
    [-7, 26, 95, 4, 27, 45, -123, 84, 33, -118, 64, -60, -98, 42, 110, 52],
    [52, 14, 122, -117, -97, -118, 61, 0, 105, 24, 35, -38, 58, -34, 32, 61],
    [7, 25, 65, -75, -115, -61, 30, -15, 9, -6, 39, -33, 94, -79, -76, 36],
    [42, -14, 96, -42, -88, 44, -17, 102, 10, -13, -67, -111, -31, 33, -35, 14],
    [46, -85, 48, -62, 87, 21, 10, 109, 49, 85, 20, 86, 81, -110, 83, -49],
    [-26, -126, 116, 94, -15, -112, 105, 19, 46, -12, -94, 18, -67, -3, -105, -111],
    [-27, 92, -103, -122, 118, -67, -41, 25, -6, -118, 83, -101, -70, 46, -64, 1],
    [116, -97, 52, -15, -27, -66, -67, -41, -6, 12, -63, -125, 121, 76, -103, 10],
    [-1, 9, 88, -102, 114, 37, -128, -100, -64, -105, -65, -103, -93, 119, -112, -84],
    [122, 33, -48, 33, -92, 51, 69, 71, 27, 56, 7, -31, 40, 91, -65, -63]]> : tensor<16x16xi8>
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<4x128xf16>, tensor<16x16xi8> -> tensor<4x16xf16>
  return %y : tensor<4x16xf16>
}
