// RUN: onebit-opt %s -split-input-file -one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" | FileCheck %s

// A packed-sign product bufferizes in place: the same op on the buffers,
// the sum in its init's buffer (here the zeros it adds to), with its
// packing and schedule.
// CHECK-LABEL: func @product
// CHECK-SAME: (%[[X:.*]]: memref<1x256xf16>, %[[S:.*]]: memref<8x32xi8>) -> memref<1x8xf32>
// CHECK: %[[Y:.*]] = memref.alloc() {{.*}} : memref<1x8xf32>
// CHECK: linalg.fill {{.*}} outs(%[[Y]] : memref<1x8xf32>)
// CHECK: onebit.packed_sign_product ins(%[[X]], %[[S]] : memref<1x256xf16>, memref<8x32xi8>) outs(%[[Y]] : memref<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_gemv_schedule<words = 2, rows_per_step = 4, grid_size = 1, staged = true>){{$}}
// CHECK: return %[[Y]]
func.func @product(%x: tensor<1x256xf16>, %s: tensor<8x32xi8>) -> tensor<1x8xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<1x8xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<1x8xf32>) -> tensor<1x8xf32>
  %y = onebit.packed_sign_product ins(%x, %s : tensor<1x256xf16>, tensor<8x32xi8>) outs(%init : tensor<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_gemv_schedule<words = 2, rows_per_step = 4, grid_size = 1, staged = true>) -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// An init that is read afterwards is copied first: the product adds to the
// copy, not to the caller's tensor.
// CHECK-LABEL: func @init_read_later
// CHECK-SAME: %[[INIT:[a-z0-9]+]]: memref<1x8xf32>
// CHECK: %[[COPY:.*]] = memref.alloc
// CHECK: memref.copy %[[INIT]], %[[COPY]]
// CHECK: onebit.packed_sign_product {{.*}} outs(%[[COPY]] : memref<1x8xf32>)
func.func @init_read_later(%x: tensor<1x256xf16>, %s: tensor<8x32xi8>, %init: tensor<1x8xf32>) -> (tensor<1x8xf32>, tensor<1x8xf32>) {
  %y = onebit.packed_sign_product ins(%x, %s : tensor<1x256xf16>, tensor<8x32xi8>) outs(%init : tensor<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) -> tensor<1x8xf32>
  return %y, %init : tensor<1x8xf32>, tensor<1x8xf32>
}
