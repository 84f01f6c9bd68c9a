// RUN: onebit-opt %s --split-input-file --onebit-cpu-select-schedules='attention-row-block=8' | FileCheck %s --check-prefix=SELECT

// One schedule per op, chosen once; the kernel reads it.

// SELECT-LABEL: func @select
// SELECT: onebit.cached_attention {{.*}} schedule(#onebit.cpu_attention_schedule<row_block = 8, query_tile = 1>)
func.func @select(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x8xf32>, %pos: tensor<1xi64>, %init: tensor<1x4x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %vc: tensor<1x2x?x8xf32>) -> tensor<1x4x1x8xf32> {
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %pos : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1xi64>) outs(%init, %kc, %vc : tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) scale(0.5) -> tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
  return %o#0 : tensor<1x4x1x8xf32>
}


// -----

// Products: the vector kernel for OneBit's bytes. One input row: a tile of
// one with masked adds, 8 output rows a block, 2 bytes a step.
// SELECT-LABEL: func @vector_decode
// SELECT: schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 8, chunk_bytes = 2, masked_adds = true>)
func.func @vector_decode(%x: tensor<1x32xf32>, %s: tensor<16x4xi8>, %z: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %y = onebit.packed_sign_product ins(%x, %s : tensor<1x32xf32>, tensor<16x4xi8>) outs(%z : tensor<1x16xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// Three rows: one tile of ±1 vectors, 4 output rows a block; an odd number
// of bytes a row: 1 byte a step.
// SELECT-LABEL: func @vector_three_rows
// SELECT: schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 3, block_rows = 4, chunk_bytes = 1, masked_adds = false>)
func.func @vector_three_rows(%x: tensor<3x24xf32>, %s: tensor<8x3xi8>, %z: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %y = onebit.packed_sign_product ins(%x, %s : tensor<3x24xf32>, tensor<8x3xi8>) outs(%z : tensor<3x8xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// A prefill batch: tiles of at most 6 rows; N odd: one output row a block.
// SELECT-LABEL: func @vector_prefill
// SELECT: schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 6, block_rows = 1, chunk_bytes = 2, masked_adds = false>)
func.func @vector_prefill(%x: tensor<13x16xf16>, %s: tensor<5x2xi8>, %z: tensor<13x5xf32>) -> tensor<13x5xf32> {
  %y = onebit.packed_sign_product ins(%x, %s : tensor<13x16xf16>, tensor<5x2xi8>) outs(%z : tensor<13x5xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 0>) -> tensor<13x5xf32>
  return %y : tensor<13x5xf32>
}

// -----

// The lookup-table kernel for signs interleaved by 16 rows: one input row
// loads 4 index vectors a step, or fewer where N/16 has no such factor.
// SELECT-LABEL: func @lookup
// SELECT: schedule(#onebit.cpu_sign_lookup_schedule<tile_rows = 1, index_vectors = 2>)
// SELECT: schedule(#onebit.cpu_sign_lookup_schedule<tile_rows = 6, index_vectors = 1>)
func.func @lookup(%x: tensor<1x24xf32>, %s: tensor<2x3x16xi8>, %z: tensor<1x32xf32>,
                  %x7: tensor<7x24xf32>, %s3: tensor<3x3x16xi8>, %z7: tensor<7x48xf32>) -> (tensor<1x32xf32>, tensor<7x48xf32>) {
  %y = onebit.packed_sign_product ins(%x, %s : tensor<1x24xf32>, tensor<2x3x16xi8>) outs(%z : tensor<1x32xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1, interleave = 16>) -> tensor<1x32xf32>
  %y7 = onebit.packed_sign_product ins(%x7, %s3 : tensor<7x24xf32>, tensor<3x3x16xi8>) outs(%z7 : tensor<7x48xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1, interleave = 16>) -> tensor<7x48xf32>
  return %y, %y7 : tensor<1x32xf32>, tensor<7x48xf32>
}

// -----

// No CPU kernel reads MSB-first bytes: no schedule (the linalg.generic);
// a schedule set by hand stays.
// SELECT-LABEL: func @unscheduled_and_kept
// SELECT: packing(#onebit.sign_packing<word = 8, order = msb_first, negative = 1>) -> tensor<1x4xf32>
// SELECT: schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 2, chunk_bytes = 1, masked_adds = false>)
func.func @unscheduled_and_kept(%x: tensor<1x16xf32>, %s: tensor<4x2xi8>, %z: tensor<1x4xf32>) -> (tensor<1x4xf32>, tensor<1x4xf32>) {
  %a = onebit.packed_sign_product ins(%x, %s : tensor<1x16xf32>, tensor<4x2xi8>) outs(%z : tensor<1x4xf32>)
         packing(#onebit.sign_packing<word = 8, order = msb_first, negative = 1>) -> tensor<1x4xf32>
  %b = onebit.packed_sign_product ins(%x, %s : tensor<1x16xf32>, tensor<4x2xi8>) outs(%z : tensor<1x4xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 2, chunk_bytes = 1, masked_adds = false>) -> tensor<1x4xf32>
  return %a, %b : tensor<1x4xf32>, tensor<1x4xf32>
}

// -----

// No input rows: a schedule all the same (the kernel builds nothing).
// SELECT-LABEL: func @vector_no_rows
// SELECT: schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 8, chunk_bytes = 2, masked_adds = true>)
func.func @vector_no_rows(%x: tensor<0x32xf32>, %s: tensor<16x4xi8>, %z: tensor<0x16xf32>) -> tensor<0x16xf32> {
  %y = onebit.packed_sign_product ins(%x, %s : tensor<0x32xf32>, tensor<16x4xi8>) outs(%z : tensor<0x16xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) -> tensor<0x16xf32>
  return %y : tensor<0x16xf32>
}
