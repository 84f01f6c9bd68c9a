// RUN: onebit-opt %s | onebit-opt | FileCheck %s
// RUN: onebit-opt %s --mlir-print-op-generic | onebit-opt | FileCheck %s

// CHECK-LABEL: func @linear_full
// CHECK: onebit.linear %{{.*}}, %{{.*}} input_scale(%{{.*}} : tensor<16xf16>) output_scale(%{{.*}} : tensor<4xf32>) bias(%{{.*}} : tensor<4xf16>) norm(epsilon = 9.99999974E-6) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) : tensor<2x16xf16>, tensor<4x2xi8> -> tensor<2x4xf16>
func.func @linear_full(%x: tensor<2x16xf16>, %s: tensor<4x2xi8>, %g: tensor<16xf16>,
                       %h: tensor<4xf32>, %b: tensor<4xf16>) -> tensor<2x4xf16> {
  %y = onebit.linear %x, %s input_scale(%g : tensor<16xf16>)
         output_scale(%h : tensor<4xf32>) bias(%b : tensor<4xf16>)
         norm(epsilon = 1.0e-05)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x16xf16>, tensor<4x2xi8> -> tensor<2x4xf16>
  return %y : tensor<2x4xf16>
}

// CHECK-LABEL: func @linear_bare
// CHECK: onebit.linear %{{.*}}, %{{.*}} packing(#onebit.sign_packing<word = 32, order = msb_first, negative = 0>) : tensor<1x3x40xf32>, tensor<6x2xi32> -> tensor<1x3x6xf32>
func.func @linear_bare(%x: tensor<1x3x40xf32>, %s: tensor<6x2xi32>) -> tensor<1x3x6xf32> {
  %y = onebit.linear %x, %s
         packing(#onebit.sign_packing<word = 32, order = msb_first, negative = 0>)
         : tensor<1x3x40xf32>, tensor<6x2xi32> -> tensor<1x3x6xf32>
  return %y : tensor<1x3x6xf32>
}

// CHECK-LABEL: func @linear_dynamic_rows_interleaved
// CHECK: onebit.linear %{{.*}}, %{{.*}} output_scale(%{{.*}} : tensor<8xbf16>) packing(#onebit.sign_packing<word = 16, order = lsb_first, negative = 1, interleave = 4>) : tensor<?x16xbf16>, tensor<2x1x4xi16> -> tensor<?x8xbf16>
func.func @linear_dynamic_rows_interleaved(%x: tensor<?x16xbf16>, %s: tensor<2x1x4xi16>,
                                          %h: tensor<8xbf16>) -> tensor<?x8xbf16> {
  %y = onebit.linear %x, %s output_scale(%h : tensor<8xbf16>)
         packing(#onebit.sign_packing<word = 16, order = lsb_first, negative = 1, interleave = 4>)
         : tensor<?x16xbf16>, tensor<2x1x4xi16> -> tensor<?x8xbf16>
  return %y : tensor<?x8xbf16>
}

// CHECK-LABEL: func @pack_unpack_repack
// CHECK: onebit.pack_signs %{{.*}} packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) : tensor<4x10xf32> -> tensor<4x2xi8>
// CHECK: onebit.unpack_signs %{{.*}} packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) : tensor<4x2xi8> -> tensor<4x10xf16>
// CHECK: onebit.repack %{{.*}} in_features(10) from(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) to(#onebit.sign_packing<word = 16, order = msb_first, negative = 0, interleave = 2>) : tensor<4x2xi8> -> tensor<2x1x2xi16>
func.func @pack_unpack_repack(%w: tensor<4x10xf32>) -> (tensor<4x10xf16>, tensor<2x1x2xi16>) {
  %s = onebit.pack_signs %w
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<4x10xf32> -> tensor<4x2xi8>
  %u = onebit.unpack_signs %s
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<4x2xi8> -> tensor<4x10xf16>
  %r = onebit.repack %s in_features(10)
         from(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         to(#onebit.sign_packing<word = 16, order = msb_first, negative = 0, interleave = 2>)
         : tensor<4x2xi8> -> tensor<2x1x2xi16>
  return %u, %r : tensor<4x10xf16>, tensor<2x1x2xi16>
}

// CHECK-LABEL: func @cached_attention
// CHECK: onebit.cached_attention ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} mask %{{.*}} : tensor<1x4x2x8xf32>, tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>, tensor<1xi64>, tensor<2x2xf32>) outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x2x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) scale(1.250000e-01) schedule(#onebit.cpu_attention_schedule<row_block = 16, query_tile = 2>) -> tensor<1x4x2x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
func.func @cached_attention(%q: tensor<1x4x2x8xf32>, %k: tensor<1x2x2x8xf32>, %v: tensor<1x2x2x8xf32>, %pos: tensor<1xi64>, %mask: tensor<2x2xf32>, %init: tensor<1x4x2x8xf32>, %kc: tensor<1x2x?x8xf32>, %vc: tensor<1x2x?x8xf32>) -> tensor<1x4x2x8xf32> {
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %pos mask %mask : tensor<1x4x2x8xf32>, tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>, tensor<1xi64>, tensor<2x2xf32>) outs(%init, %kc, %vc : tensor<1x4x2x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) scale(0.125) schedule(#onebit.cpu_attention_schedule<row_block = 16, query_tile = 2>) -> tensor<1x4x2x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
  return %o#0 : tensor<1x4x2x8xf32>
}

// CHECK-LABEL: func @cached_attention_buffers
// CHECK: onebit.cached_attention ins({{.*}} : memref<1x4x1x8xf16>, memref<1x2x1x8xf16>, memref<1x2x1x8xf16>, memref<1xi32>) outs({{.*}}) scale(5.000000e-01) schedule(#onebit.gpu_attention_schedule<splits = 4, warps = 2, lanes_per_row = 1, rows_in_flight = 4>){{$}}
func.func @cached_attention_buffers(%q: memref<1x4x1x8xf16>, %k: memref<1x2x1x8xf16>, %v: memref<1x2x1x8xf16>, %pos: memref<1xi32>, %init: memref<1x4x1x8xf16>, %kc: memref<1x2x?x8xf16>, %vc: memref<1x2x?x8xf16>) {
  onebit.cached_attention ins(%q, %k, %v, %pos : memref<1x4x1x8xf16>, memref<1x2x1x8xf16>, memref<1x2x1x8xf16>, memref<1xi32>) outs(%init, %kc, %vc : memref<1x4x1x8xf16>, memref<1x2x?x8xf16>, memref<1x2x?x8xf16>) scale(0.5) schedule(#onebit.gpu_attention_schedule<splits = 4, warps = 2, lanes_per_row = 1, rows_in_flight = 4>)
  return
}

// The GPU schedules of packed-sign products print as they parse; defaulted
// fields (bit_classes, direct_fragments) only where set.
// CHECK-LABEL: func private @product_schedules
// CHECK-SAME: a = #onebit.gpu_sign_mma_schedule<decoding = bit_classes, row_tiles = 1, k_split = 4, words = 4, chunk = 4096, loads_ahead = 2, bit_classes = 16>
// CHECK-SAME: b = #onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 2, k_split = 1, words = 1, chunk = 4096, loads_ahead = 2, direct_fragments = true>
// CHECK-SAME: c = #onebit.gpu_sign_gemv_schedule<words = 4, rows_per_step = 4, grid_size = 264, staged = true>
// CHECK-SAME: d = #onebit.cpu_sign_vector_schedule<tile_rows = 6, block_rows = 4, chunk_bytes = 2, masked_adds = false>
// CHECK-SAME: e = #onebit.cpu_sign_lookup_schedule<tile_rows = 1, index_vectors = 4>
func.func private @product_schedules() attributes {a = #onebit.gpu_sign_mma_schedule<decoding = bit_classes, row_tiles = 1, k_split = 4, words = 4, chunk = 4096, loads_ahead = 2, bit_classes = 16>, b = #onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 2, k_split = 1, words = 1, chunk = 4096, loads_ahead = 2, direct_fragments = true>, c = #onebit.gpu_sign_gemv_schedule<words = 4, rows_per_step = 4, grid_size = 264, staged = true>, d = #onebit.cpu_sign_vector_schedule<tile_rows = 6, block_rows = 4, chunk_bytes = 2, masked_adds = false>, e = #onebit.cpu_sign_lookup_schedule<tile_rows = 1, index_vectors = 4>}

// A packed-sign product on tensors (with a schedule) and on buffers.
// CHECK-LABEL: func @packed_sign_product
// CHECK: onebit.packed_sign_product ins(%{{.*}}, %{{.*}} : tensor<1x256xf16>, tensor<8x32xi8>) outs(%{{.*}} : tensor<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_gemv_schedule<words = 2, rows_per_step = 4, grid_size = 1, staged = true>) -> tensor<1x8xf32>
// CHECK: onebit.packed_sign_product ins(%{{.*}}, %{{.*}} : memref<1x256xf16>, memref<8x32xi8>) outs(%{{.*}} : memref<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>){{$}}
func.func @packed_sign_product(%x: tensor<1x256xf16>, %s: tensor<8x32xi8>, %y: tensor<1x8xf32>, %xb: memref<1x256xf16>, %sb: memref<8x32xi8>, %yb: memref<1x8xf32>) -> tensor<1x8xf32> {
  %r = onebit.packed_sign_product ins(%x, %s : tensor<1x256xf16>, tensor<8x32xi8>) outs(%y : tensor<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_sign_gemv_schedule<words = 2, rows_per_step = 4, grid_size = 1, staged = true>) -> tensor<1x8xf32>
  onebit.packed_sign_product ins(%xb, %sb : memref<1x256xf16>, memref<8x32xi8>) outs(%yb : memref<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return %r : tensor<1x8xf32>
}
