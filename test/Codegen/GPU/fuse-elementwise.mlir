// RUN: onebit-opt %s -onebit-fuse-elementwise | FileCheck %s

// The scaling of the activations stays its own generic in front of the
// scheduled product (upstream fusion would fold it in and drop the
// schedule); the two elementwise generics after it fuse as upstream does.
// CHECK-LABEL: func @keep_scheduled
// CHECK: %[[SCALED:.*]] = linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<1x64xf32>, tensor<1x64xf32>)
// CHECK: %[[PRODUCT:.*]] = linalg.generic {{.*}} ins(%[[SCALED]], %arg2 : tensor<1x64xf32>, tensor<4x8xi8>)
// CHECK-SAME: onebit.schedule = #onebit.gpu_sign_gemv_schedule
// CHECK: linalg.generic {{.*}} ins(%[[PRODUCT]] : tensor<1x4xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: linalg.generic
#id = affine_map<(d0, d1) -> (d0, d1)>
#x = affine_map<(d0, d1, d2) -> (d0, d2)>
#s = affine_map<(d0, d1, d2) -> (d1, d2 floordiv 8)>
#y = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @keep_scheduled(%x: tensor<1x64xf32>, %g: tensor<1x64xf32>, %s: tensor<4x8xi8>) -> tensor<1x4xf32> {
  %e0 = tensor.empty() : tensor<1x64xf32>
  %scaled = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %g : tensor<1x64xf32>, tensor<1x64xf32>) outs(%e0 : tensor<1x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<1x64xf32>
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<1x4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x4xf32>) -> tensor<1x4xf32>
  %product = linalg.generic {indexing_maps = [#x, #s, #y], iterator_types = ["parallel", "parallel", "reduction"], onebit.schedule = #onebit.gpu_sign_gemv_schedule<words = 2, rows_per_step = 4, grid_size = 1, staged = true>, onebit.sign_packing = #onebit.sign_packing<word = 8, order = lsb_first, negative = 1>} ins(%scaled, %s : tensor<1x64xf32>, tensor<4x8xi8>) outs(%init : tensor<1x4xf32>) {
  ^bb0(%a: f32, %b: i8, %acc: f32):
    %bit = arith.sitofp %b : i8 to f32
    %term = arith.mulf %a, %bit : f32
    %sum = arith.addf %acc, %term : f32
    linalg.yield %sum : f32
  } -> tensor<1x4xf32>
  %two = arith.constant 2.0 : f32
  %e2 = tensor.empty() : tensor<1x4xf32>
  %doubled = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%product : tensor<1x4xf32>) outs(%e2 : tensor<1x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.mulf %a, %two : f32
    linalg.yield %m : f32
  } -> tensor<1x4xf32>
  %e3 = tensor.empty() : tensor<1x4xf32>
  %shifted = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%doubled : tensor<1x4xf32>) outs(%e3 : tensor<1x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.addf %a, %two : f32
    linalg.yield %m : f32
  } -> tensor<1x4xf32>
  return %shifted : tensor<1x4xf32>
}
