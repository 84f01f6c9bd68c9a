// RUN: onebit-opt %s -onebit-decompose-linear -onebit-cpu-select-schedules -convert-onebit-to-linalg -split-input-file | FileCheck %s

// Signs interleaved by 16 rows (onebit-interleave-signs): the lookup-table
// kernel. One input row: the table of each group of 4 inputs is 4
// broadcast activations times the sign patterns of bits 0..3 (a set bit
// meaning -1 here), written into a [1, 2W, 16] buffer; then an scf.forall
// over blocks of 4 index vectors (64 output rows) walks the packed bytes.
// Each step loads 16 bytes of each of the 4 vectors, zero-extends them to
// i32 indices (low nibble: group 2w; shifted by 4: group 2w + 1) and gathers
// from the two tables' rows.
// CHECK-LABEL: func @lookup_one_row
// CHECK-DAG: %[[BIT0:.*]] = arith.constant dense<[1.000000e+00, -1.000000e+00, 1.000000e+00, -1.000000e+00, {{.*}}]> : vector<16xf32>
// CHECK-DAG: %[[BIT3:.*]] = arith.constant dense<[1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, 1.000000e+00, -1.000000e+00, {{.*}}]> : vector<16xf32>
// CHECK-DAG: %[[FIFTEEN:.*]] = arith.constant dense<15> : vector<16xi32>
// CHECK-DAG: %[[FOUR:.*]] = arith.constant dense<4> : vector<16xi32>
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<1x6x16xf32>
// CHECK: %[[TABLES:.*]] = scf.for %[[R:.*]] = %c0 to %c1 step %c1 iter_args(%{{.*}} = %[[EMPTY]])
// CHECK:   scf.for %[[G:.*]] = %c0 to %c6 step %c1
// CHECK:     %[[K:.*]] = arith.muli %[[G]], %c4
// CHECK:     %[[X4:.*]] = vector.transfer_read %arg0[%[[R]], %[[K]]], %{{.*}} {in_bounds = [true]} : tensor<1x24xf32>, vector<4xf32>
// CHECK:     %[[X0:.*]] = vector.extract %[[X4]][0]
// CHECK:     %[[B0:.*]] = vector.broadcast %[[X0]] : f32 to vector<16xf32>
// CHECK:     %[[E0:.*]] = arith.mulf %[[B0]], %[[BIT0]]
// CHECK-COUNT-2: vector.fma
// CHECK:     %[[E3:.*]] = vector.fma %{{.*}}, %[[BIT3]], %{{.*}} : vector<16xf32>
// CHECK:     vector.transfer_write %[[E3]], %{{.*}}[%[[R]], %[[G]], %c0] {in_bounds = [true]} : vector<16xf32>, tensor<1x6x16xf32>
// CHECK: scf.forall (%[[BLOCK:.*]]) in (2) shared_outs(%[[OUT:.*]] = %{{.*}}) -> (tensor<1x128xf32>)
// CHECK:   %[[V0:.*]] = arith.muli %[[BLOCK]], %c4
// CHECK:   %[[ROW0:.*]] = arith.muli %[[BLOCK]], %c64
// CHECK:   %[[SLICE:.*]] = tensor.extract_slice %[[OUT]][%c0, %[[ROW0]]] [1, 64] [1, 1]
// CHECK:   %[[SUMS:.*]]:4 = scf.for %[[W:.*]] = %c0 to %c3 step %c1
// CHECK:     %[[BYTES:.*]] = vector.transfer_read %arg1[%[[V0]], %[[W]], %c0], %{{.*}} {in_bounds = [true]} : tensor<8x3x16xi8>, vector<16xi8>
// CHECK:     %[[LOW:.*]] = arith.extui %[[BYTES]] : vector<16xi8> to vector<16xi32>
// CHECK:     %[[HIGH:.*]] = arith.shrui %[[LOW]], %[[FOUR]] : vector<16xi32>
// CHECK-COUNT-3: arith.shrui
// CHECK:     %[[G0:.*]] = arith.muli %[[W]], %c2
// CHECK:     %[[G1:.*]] = arith.addi %[[G0]], %c1
// CHECK:     %[[I0:.*]] = arith.andi %[[LOW]], %[[FIFTEEN]]
// CHECK:     %[[L0:.*]] = vector.gather %[[TABLES]][%c0, %[[G0]], %c0] [%[[I0]]], %{{.*}}, %{{.*}} : tensor<1x6x16xf32>, vector<16xi32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
// CHECK:     %[[S0:.*]] = arith.addf %{{.*}}, %[[L0]]
// CHECK:     %[[I1:.*]] = arith.andi %[[HIGH]], %[[FIFTEEN]]
// CHECK:     %[[L1:.*]] = vector.gather %[[TABLES]][%c0, %[[G1]], %c0] [%[[I1]]]
// CHECK:     arith.addf %[[S0]], %[[L1]]
// CHECK-COUNT-3: vector.gather %[[TABLES]][%c0, %[[G1]], %c0]
// CHECK:     scf.yield
// CHECK:   vector.transfer_write %[[SUMS]]#0, %[[SLICE]][%c0, %c0]
// CHECK:   vector.transfer_write %[[SUMS]]#3, %{{.*}}[%c0, %c48]
// CHECK:   tensor.parallel_insert_slice
func.func @lookup_one_row(%x: tensor<1x24xf32>, %s: tensor<8x3x16xi8>) -> tensor<1x128xf32> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1, interleave = 16>)
         : tensor<1x24xf32>, tensor<8x3x16xi8> -> tensor<1x128xf32>
  return %y : tensor<1x128xf32>
}

// -----

// Seven input rows: tiles of 4 and 3 rows (at most 6, as even as possible),
// each in an scf.for of one tile that fills the tables of its rows and then
// runs its scf.forall over blocks of 2 index vectors (32 output rows), with
// an accumulator per (input row, index vector). A set bit means +1: bit 0's
// pattern starts -1, 1. K = 20 is padded to 24 inputs (3 bytes).
// CHECK-LABEL: func @lookup_tiles
// CHECK-DAG: arith.constant dense<[-1.000000e+00, 1.000000e+00, -1.000000e+00, {{.*}}]> : vector<16xf32>
// CHECK: %[[X:.*]] = tensor.pad %arg0 low[0, 0] high[0, 4]
// CHECK: tensor.empty() : tensor<4x6x16xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK:   vector.transfer_read %[[X]]
// CHECK: scf.forall (%{{.*}}) in (1) shared_outs(%{{.*}}) -> (tensor<7x32xf32>)
// CHECK:   tensor.extract_slice %{{.*}}[%c0, %{{.*}}] [4, 32] [1, 1]
// CHECK:   scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK-COUNT-16: vector.gather
// CHECK: tensor.empty() : tensor<3x6x16xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK: scf.forall
// CHECK:   tensor.extract_slice %{{.*}}[%c4, %{{.*}}] [3, 32] [1, 1]
// CHECK-COUNT-12: vector.gather
func.func @lookup_tiles(%x: tensor<7x20xf32>, %s: tensor<2x3x16xi8>) -> tensor<7x32xf32> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 0, interleave = 16>)
         : tensor<7x20xf32>, tensor<2x3x16xi8> -> tensor<7x32xf32>
  return %y : tensor<7x32xf32>
}

// -----

// Thirteen input rows: tiles of 5, 4 and 4, the last two in one scf.for
// over tiles whose iteration refills the same table buffer. N = 48 has 3
// index vectors, so blocks of 1 vector.
// CHECK-LABEL: func @lookup_tile_loop
// CHECK: tensor.empty() : tensor<5x6x16xf32>
// CHECK: scf.forall (%{{.*}}) in (3)
// CHECK: %[[TABLES:.*]] = tensor.empty() : tensor<4x6x16xf32>
// CHECK: scf.for %[[FIRST:.*]] = %c5 to %c13 step %c4 iter_args(%{{.*}} = %{{.*}}, %[[BUFFER:.*]] = %[[TABLES]])
// CHECK:   scf.for %{{.*}} = %c0 to %c4 step %c1 iter_args(%{{.*}} = %[[BUFFER]])
// CHECK:   scf.forall (%{{.*}}) in (3)
// CHECK:     tensor.extract_slice %{{.*}}[%[[FIRST]], %{{.*}}] [4, 16] [1, 1]
func.func @lookup_tile_loop(%x: tensor<13x24xf32>, %s: tensor<3x3x16xi8>) -> tensor<13x48xf32> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1, interleave = 16>)
         : tensor<13x24xf32>, tensor<3x3x16xi8> -> tensor<13x48xf32>
  return %y : tensor<13x48xf32>
}

// -----

// No input rows: no tables and no loops.
// CHECK-LABEL: func @lookup_no_rows
// CHECK-NOT: scf.forall
// CHECK-NOT: vector.gather
// CHECK: return
func.func @lookup_no_rows(%x: tensor<0x16xf32>, %s: tensor<2x2x16xi8>) -> tensor<0x32xf32> {
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1, interleave = 16>)
         : tensor<0x16xf32>, tensor<2x2x16xi8> -> tensor<0x32xf32>
  return %y : tensor<0x32xf32>
}
