// RUN: onebit-opt %s -onebit-decompose-linear | FileCheck %s
// RUN: onebit-opt %s -onebit-decompose-linear -convert-onebit-to-linalg | FileCheck %s --check-prefix=GENERIC
// RUN: onebit-opt %s -convert-onebit-to-linalg | FileCheck %s --check-prefix=GENERIC

// The product: an onebit.packed_sign_product onto f32 zeros, without a
// schedule, for the kernel a target's selection chooses; g, h and the bias
// stay TOSA around it.
// CHECK-LABEL: func @linear
// CHECK: tosa.mul
// CHECK: %[[ZERO:.*]] = linalg.fill
// CHECK: onebit.packed_sign_product ins(%{{.*}}, %{{.*}} : tensor<3x16xf32>, tensor<4x2xi8>) outs(%[[ZERO]] : tensor<3x4xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) -> tensor<3x4xf32>
// CHECK: tosa.mul
// CHECK: tosa.add
// CHECK-NOT: onebit.linear
// One without a schedule (one no kernel takes) becomes, in
// convert-onebit-to-linalg (which also decomposes a layer itself), a
// linalg.generic over (m, n, k) on the packed bytes, whose parallel (m, n)
// become threads on the GPU; bit k mod 8 of byte (n, k floordiv 8) selects
// -x.
// GENERIC-DAG: #[[X:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// GENERIC-DAG: #[[S:.*]] = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 8)>
// GENERIC-DAG: #[[Y:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// GENERIC-LABEL: func @linear
// GENERIC: %[[ZERO:.*]] = linalg.fill
// GENERIC: linalg.generic {indexing_maps = [#[[X]], #[[S]], #[[Y]]], iterator_types = ["parallel", "parallel", "reduction"]}
// GENERIC-SAME: outs(%[[ZERO]] : tensor<3x4xf32>)
// GENERIC: arith.shrui
// GENERIC: arith.select
// GENERIC: arith.addf
// GENERIC-NOT: onebit.packed_sign_product
func.func @linear(%x: tensor<3x16xf32>, %s: tensor<4x2xi8>, %g: tensor<16xf32>,
                  %h: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<3x4xf32> {
  %y = onebit.linear %x, %s input_scale(%g : tensor<16xf32>) output_scale(%h : tensor<4xf32>) bias(%b : tensor<4xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<3x16xf32>, tensor<4x2xi8> -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// Every product becomes the op, whatever its rows, K or activations:
// which kernel runs it is onebit-gpu-select-schedules' choice
// (test/Codegen/GPU/select-product-schedules.mlir), never made here.
// CHECK-LABEL: func @any_product
// CHECK-COUNT-3: onebit.packed_sign_product {{.*}} packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 0>) -> tensor
// CHECK-NOT: schedule(
func.func @any_product(%x: tensor<2x64xf16>, %s: tensor<4x8xi8>, %x5: tensor<5x64xf32>, %x2: tensor<1x40xf32>, %s2: tensor<4x5xi8>) -> (tensor<2x4xf16>, tensor<5x4xf32>, tensor<1x4xf32>) {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 0>)
         : tensor<2x64xf16>, tensor<4x8xi8> -> tensor<2x4xf16>
  %y5 = onebit.linear %x5, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 0>)
         : tensor<5x64xf32>, tensor<4x8xi8> -> tensor<5x4xf32>
  %y2 = onebit.linear %x2, %s2 packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 0>)
         : tensor<1x40xf32>, tensor<4x5xi8> -> tensor<1x4xf32>
  return %y, %y5, %y2 : tensor<2x4xf16>, tensor<5x4xf32>, tensor<1x4xf32>
}
