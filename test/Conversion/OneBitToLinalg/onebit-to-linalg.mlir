// RUN: onebit-opt %s -onebit-decompose-linear -onebit-cpu-select-schedules -convert-onebit-to-linalg -split-input-file -verify-diagnostics --mlir-print-local-scope | FileCheck %s

// OneBit's bytes (word 8, LSB first): the vector kernel. A decode batch (at
// most 8 input rows) is a single tile: an scf.forall over blocks of 4
// output rows whose chunk loop keeps 3 x 4 accumulators. Each step reads the
// 4 rows' bytes once, bitcasts them to 16 lanes of i1 that select -1 or 1,
// reads the 3 input rows and multiplies-adds every pair; no loop over input
// rows encloses the chunk loop, so each byte is read and decoded once.
// CHECK-LABEL: func @linear_f16
// CHECK-DAG: %[[MINUS:.*]] = arith.constant dense<-1.000000e+00> : vector<16xf32>
// CHECK-DAG: %[[PLUS:.*]] = arith.constant dense<1.000000e+00> : vector<16xf32>
// CHECK: %[[X:.*]] = tosa.cast %arg0 : (tensor<3x16xf16>) -> tensor<3x16xf32>
// CHECK-NOT: scf.for
// CHECK: scf.forall (%[[BLOCK:.*]]) in (1) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<3x4xf32>)
// CHECK:   %[[ROW0:.*]] = arith.muli %[[BLOCK]], %c4
// CHECK:   %[[SLICE:.*]] = tensor.extract_slice %[[OUT]][%c0, %[[ROW0]]] [3, 4] [1, 1]
// CHECK-NOT: scf.for
// CHECK:   %[[SUMS:.*]]:12 = scf.for
// CHECK:     %[[BYTES:.*]] = vector.transfer_read %arg1[%[[ROW0]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<4x2xi8>, vector<2xi8>
// CHECK:     %[[MASK:.*]] = vector.bitcast %[[BYTES]] : vector<2xi8> to vector<16xi1>
// CHECK-COUNT-3: vector.bitcast %{{.*}} : vector<2xi8> to vector<16xi1>
// CHECK:     %[[X0:.*]] = vector.transfer_read %[[X]][%c0, %[[COLUMN:.*]]], %{{.*}} {in_bounds = [true]} : tensor<3x16xf32>, vector<16xf32>
// CHECK:     %[[X1:.*]] = vector.transfer_read %[[X]][%c1, %[[COLUMN]]]
// CHECK:     %[[X2:.*]] = vector.transfer_read %[[X]][%c2, %[[COLUMN]]]
// CHECK:     %[[SIGN:.*]] = arith.select %[[MASK]], %[[MINUS]], %[[PLUS]] : vector<16xi1>, vector<16xf32>
// CHECK-COUNT-3: arith.select %{{.*}}, %[[MINUS]], %[[PLUS]]
// CHECK:     vector.fma %[[X0]], %[[SIGN]], %{{.*}} : vector<16xf32>
// CHECK-COUNT-3: vector.fma %[[X0]],
// CHECK:     vector.fma %[[X1]], %[[SIGN]],
// CHECK-COUNT-3: vector.fma %[[X1]],
// CHECK:     vector.fma %[[X2]], %[[SIGN]],
// CHECK-COUNT-3: vector.fma %[[X2]],
// CHECK-NOT: vector.transfer_read
// CHECK:     scf.yield
// CHECK:   vector.reduction <add>, %[[SUMS]]#0 fastmath<reassoc> : vector<16xf32> into f32
// CHECK:   tensor.insert %{{.*}} into %[[SLICE]][%c0, %c0] : tensor<3x4xf32>
// CHECK:   scf.forall.in_parallel
// CHECK:     tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%c0, %[[ROW0]]] [3, 4] [1, 1]
// CHECK: tosa.cast %{{.*}} : (tensor<3x4xf32>) -> tensor<3x4xf16>
// CHECK-NOT: onebit.
func.func @linear_f16(%x: tensor<3x16xf16>, %s: tensor<4x2xi8>) -> tensor<3x4xf16> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<3x16xf16>, tensor<4x2xi8> -> tensor<3x4xf16>
  return %y : tensor<3x4xf16>
}

// -----

// 8 input rows: still one tile, with blocks of 2 output rows so that the
// 8 x 2 accumulators stay in registers.
// CHECK-LABEL: func @linear_decode8
// CHECK-NOT: scf.for
// CHECK: scf.forall (%{{.*}}) in (2) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<8x4xf32>)
// CHECK-NOT: scf.for
// CHECK:   %{{.*}}:16 = scf.for
// CHECK-COUNT-2: vector.bitcast
// CHECK-COUNT-8: vector.transfer_read %arg0
// CHECK-COUNT-16: vector.fma
// CHECK-NOT: vector.transfer_read
// CHECK:     scf.yield
func.func @linear_decode8(%x: tensor<8x16xf32>, %s: tensor<4x2xi8>) -> tensor<8x4xf32> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<8x16xf32>, tensor<4x2xi8> -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}

// -----

// A prefill batch of 13 rows: tiles as even as possible (one of 5 rows, then
// a loop over two of 4), each an scf.forall that writes its rows of the
// output in place; every tile decodes each chunk once for all its rows. 0
// meaning -1 swaps the select.
// CHECK-LABEL: func @linear_prefill
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<13x8xf32>
// CHECK: %[[FIRST:.*]] = scf.forall (%[[B0:.*]]) in (2) shared_outs(%[[OUT0:.*]] = %[[EMPTY]])
// CHECK:   %[[R0:.*]] = arith.muli %[[B0]], %c4
// CHECK:   tensor.extract_slice %[[OUT0]][%c0, %[[R0]]] [5, 4] [1, 1]
// CHECK:   %{{.*}}:20 = scf.for
// CHECK:   tensor.parallel_insert_slice %{{.*}} into %[[OUT0]][%c0, %[[R0]]] [5, 4] [1, 1]
// CHECK: scf.for %[[M:.*]] = %c5 to %c13 step %c4 iter_args(%[[ACC:.*]] = %[[FIRST]]) -> (tensor<13x8xf32>)
// CHECK:   scf.forall (%[[B:.*]]) in (2) shared_outs(%[[OUT:.*]] = %[[ACC]])
// CHECK:     %[[R:.*]] = arith.muli %[[B]], %c4
// CHECK:     tensor.extract_slice %[[OUT]][%[[M]], %[[R]]] [4, 4] [1, 1]
// CHECK:     %{{.*}}:16 = scf.for
// CHECK:       %[[BYTES:.*]] = vector.transfer_read %arg1[%[[R]], %{{.*}}]
// CHECK:       %[[MASK:.*]] = vector.bitcast %[[BYTES]] : vector<2xi8> to vector<16xi1>
// CHECK:       %[[X0:.*]] = vector.transfer_read %arg0[%[[M]], %{{.*}}]
// CHECK:       %[[SIGN:.*]] = arith.select %[[MASK]], %{{.*}}, %{{.*}} : vector<16xi1>, vector<16xf32>
// CHECK:       vector.fma %[[X0]], %[[SIGN]], %{{.*}} : vector<16xf32>
// CHECK:     tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[M]], %[[R]]] [4, 4] [1, 1]
func.func @linear_prefill(%x: tensor<13x32xf32>, %s: tensor<8x4xi8>) -> tensor<13x8xf32> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 0>)
         : tensor<13x32xf32>, tensor<8x4xi8> -> tensor<13x8xf32>
  return %y : tensor<13x8xf32>
}

// -----

// One input row, K = 20: the activations are padded with zeros to whole
// bytes (the pad bits are ignored) and an odd byte count goes one byte (8
// lanes) per step. A single row adds x only in the lanes of its set bits (a
// select of the sum or the old value: a masked add) and the block keeps the
// plain sum of x; with a set bit meaning +1 (negative = 0), Σ ±x is twice
// the masked sum minus the total.
// CHECK-LABEL: func @linear_padded
// CHECK: %[[TWO:.*]] = arith.constant dense<2.000000e+00> : vector<8xf32>
// CHECK: %[[X:.*]] = tensor.pad %{{.*}} low[0, 0] high[0, 4]
// CHECK: scf.forall (%{{.*}}) in (1)
// CHECK:   %[[SUMS:.*]]:3 = scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(%[[ACC0:.*]] = %{{.*}}, %[[ACC1:.*]] = %{{.*}}, %[[TOTAL:.*]] = %{{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>)
// CHECK:     %[[MASK0:.*]] = vector.bitcast %{{.*}} : vector<1xi8> to vector<8xi1>
// CHECK:     %[[MASK1:.*]] = vector.bitcast
// CHECK:     %[[XS:.*]] = vector.transfer_read %[[X]]
// CHECK:     %[[ADDED0:.*]] = arith.addf %[[ACC0]], %[[XS]] fastmath<reassoc> : vector<8xf32>
// CHECK:     %[[NEXT0:.*]] = arith.select %[[MASK0]], %[[ADDED0]], %[[ACC0]] : vector<8xi1>, vector<8xf32>
// CHECK:     %[[ADDED1:.*]] = arith.addf %[[ACC1]], %[[XS]] fastmath<reassoc>
// CHECK:     %[[NEXT1:.*]] = arith.select %[[MASK1]], %[[ADDED1]], %[[ACC1]]
// CHECK:     %[[NEXTTOTAL:.*]] = arith.addf %[[TOTAL]], %[[XS]] fastmath<reassoc>
// CHECK:     scf.yield %[[NEXT0]], %[[NEXT1]], %[[NEXTTOTAL]]
// CHECK:   %[[TWICE:.*]] = arith.mulf %[[SUMS]]#0, %[[TWO]] : vector<8xf32>
// CHECK:   %[[ROW:.*]] = arith.subf %[[TWICE]], %[[SUMS]]#2 : vector<8xf32>
// CHECK:   vector.reduction <add>, %[[ROW]] fastmath<reassoc>
func.func @linear_padded(%x: tensor<1x20xf32>, %s: tensor<2x3xi8>) -> tensor<1x2xf32> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 0>)
         : tensor<1x20xf32>, tensor<2x3xi8> -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// One input row, N a multiple of 8: blocks of 8 output rows, each with its
// masked sum, and the total last; with a set bit meaning -1 (OneBit's
// packing), Σ ±x is the total minus twice the masked sum.
// CHECK-LABEL: func @linear_decode1
// CHECK: scf.forall (%{{.*}}) in (2)
// CHECK:   %[[SUMS:.*]]:9 = scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-8: arith.select
// CHECK:   %[[TWICE:.*]] = arith.mulf %[[SUMS]]#0, %{{.*}} : vector<16xf32>
// CHECK:   %[[ROW:.*]] = arith.subf %[[SUMS]]#8, %[[TWICE]] : vector<16xf32>
// CHECK:   vector.reduction <add>, %[[ROW]] fastmath<reassoc>
// CHECK-COUNT-7: arith.subf %[[SUMS]]#8,
func.func @linear_decode1(%x: tensor<1x32xf32>, %s: tensor<16x4xi8>) -> tensor<1x16xf32> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<1x32xf32>, tensor<16x4xi8> -> tensor<1x16xf32>
  return %y : tensor<1x16xf32>
}

// -----

// Two input rows also use masked adds: 2 x 8 masked sums, then the sum of
// x of each input row; row 1's outputs take the second total.
// CHECK-LABEL: func @linear_decode2
// CHECK: scf.forall (%{{.*}}) in (1)
// CHECK:   %[[SUMS:.*]]:18 = scf.for
// CHECK-COUNT-16: arith.select
// CHECK:   arith.mulf %[[SUMS]]#0,
// CHECK:   arith.subf %[[SUMS]]#16,
// CHECK:   %[[TWICE:.*]] = arith.mulf %[[SUMS]]#8, %{{.*}} : vector<16xf32>
// CHECK:   arith.subf %[[SUMS]]#17, %[[TWICE]] : vector<16xf32>
func.func @linear_decode2(%x: tensor<2x32xf32>, %s: tensor<8x4xi8>) -> tensor<2x8xf32> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x32xf32>, tensor<8x4xi8> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Any other layout: a linalg.generic reading word (n, k floordiv 8), bit k
// mod 8 selecting -x.
// CHECK-LABEL: func @linear_msb_first
// CHECK: %[[ZERO:.*]] = linalg.fill
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2 floordiv 8)>, affine_map<(d0, d1, d2) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: ins(%{{.*}}, %arg1 : tensor<3x16xf16>, tensor<4x2xi8>) outs(%[[ZERO]] : tensor<3x4xf32>)
// CHECK: ^bb0(%[[IN:.*]]: f16, %[[WORD:.*]]: i8, %[[ACC:.*]]: f32):
// CHECK:   %[[XF:.*]] = arith.extf %[[IN]] : f16 to f32
// CHECK:   %[[K:.*]] = linalg.index 2 : index
// CHECK:   %[[POS:.*]] = arith.remui %[[K]], %{{.*}} : index
// CHECK:   %[[REV:.*]] = arith.subi %{{.*}}, %[[POS]] : index
// CHECK:   %[[POS8:.*]] = arith.index_castui %[[REV]] : index to i8
// CHECK:   %[[SHIFTED:.*]] = arith.shrui %[[WORD]], %[[POS8]] : i8
// CHECK:   %[[BIT:.*]] = arith.andi %[[SHIFTED]], %{{.*}} : i8
// CHECK:   %[[NEG:.*]] = arith.cmpi eq, %[[BIT]], %{{.*}} : i8
// CHECK:   %[[MINUS:.*]] = arith.negf %[[XF]] : f32
// CHECK:   %[[TERM:.*]] = arith.select %[[NEG]], %[[MINUS]], %[[XF]] : f32
// CHECK:   %[[SUM:.*]] = arith.addf %[[ACC]], %[[TERM]] : f32
// CHECK:   linalg.yield %[[SUM]] : f32
// CHECK-NOT: onebit.
func.func @linear_msb_first(%x: tensor<3x16xf16>, %s: tensor<4x2xi8>) -> tensor<3x4xf16> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = msb_first, negative = 1>)
         : tensor<3x16xf16>, tensor<4x2xi8> -> tensor<3x4xf16>
  return %y : tensor<3x4xf16>
}

// -----

// Interleaved 32-bit MSB-first words with 0 meaning -1.
// CHECK-LABEL: func @linear_interleaved
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1 floordiv 2, d2 floordiv 32, d1 mod 2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]
// CHECK: arith.subi %{{.*}}, %{{.*}} : index
// CHECK: arith.cmpi eq, %{{.*}}, %{{.*}} : i32
// CHECK: tosa.rsqrt
func.func @linear_interleaved(%x: tensor<1x40xf32>, %s: tensor<2x2x2xi32>) -> tensor<1x4xf32> {
  %y = onebit.linear %x, %s norm(epsilon = 1.0e-05)
         packing(#onebit.sign_packing<word = 32, order = msb_first, negative = 0, interleave = 2>)
         : tensor<1x40xf32>, tensor<2x2x2xi32> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// CHECK-LABEL: func @unpack
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1 floordiv 8)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
func.func @unpack(%s: tensor<4x2xi8>) -> tensor<4x10xf32> {
  %w = onebit.unpack_signs %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<4x2xi8> -> tensor<4x10xf32>
  return %w : tensor<4x10xf32>
}

// -----

// A schedule set by hand is what the kernel does: 3 rows in tiles of at
// most 2 (a tile of 2 rows, then one of 1), blocks of 2 output rows, and
// the sums added to an init that is not zeros.
// CHECK-LABEL: func @hand_schedule
// CHECK: scf.forall (%{{.*}}) in (2) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<3x4xf32>)
// CHECK:   tensor.extract_slice %{{.*}}[%c0, %{{.*}}] [2, 2] [1, 1]
// CHECK: scf.forall (%{{.*}}) in (2) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<3x4xf32>)
// CHECK:   tensor.extract_slice %{{.*}}[%c2, %{{.*}}] [1, 2] [1, 1]
// CHECK: tosa.add %arg2, %{{.*}} : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
func.func @hand_schedule(%x: tensor<3x16xf32>, %s: tensor<4x2xi8>, %init: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %y = onebit.packed_sign_product ins(%x, %s : tensor<3x16xf32>, tensor<4x2xi8>) outs(%init : tensor<3x4xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 2, block_rows = 2, chunk_bytes = 1, masked_adds = true>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

// No input rows: no loops at all.
// CHECK-LABEL: func @vector_no_rows
// CHECK-NOT: scf.forall
// CHECK: return
func.func @vector_no_rows(%x: tensor<0x32xf32>, %s: tensor<16x4xi8>) -> tensor<0x16xf32> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<0x32xf32>, tensor<16x4xi8> -> tensor<0x16xf32>
  return %y : tensor<0x16xf32>
}
