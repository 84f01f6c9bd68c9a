// RUN: onebit-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(onebit-split-contraction-columns{column-block=64})' \
// RUN:   | FileCheck %s
// RUN: onebit-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(onebit-split-contraction-columns{column-block=2})' \
// RUN:   | FileCheck %s --check-prefix=BLOCKS
// RUN: not onebit-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(onebit-split-contraction-columns{column-block=0})' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=OPTIONS
// RUN: not onebit-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(onebit-split-contraction-columns{max-rows=0})' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=OPTIONS

// OPTIONS: error: onebit-split-contraction-columns: max-rows and column-block must be at least 1

#x = affine_map<(d0, d1, d2) -> (d0, d1)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#y = affine_map<(d0, d1, d2) -> (d0, d2)>

// One row, 256 columns: four blocks of 64, each the same generic on the
// columns of w and y it owns; x, which does not read j, is shared.
// CHECK-LABEL: func.func @one_row
// CHECK: scf.forall (%[[B:.*]]) in (4) {
// CHECK: %[[O:.*]] = arith.muli %[[B]], %c64
// CHECK: %[[W:.*]] = memref.subview %arg1[0, %[[O]]] [32, 64] [1, 1] : memref<32x256xf32> to memref<32x64xf32, strided<[256, 1], offset: ?>>
// CHECK: %[[Y:.*]] = memref.subview %arg2[0, %[[O]]] [1, 64] [1, 1] : memref<1x256xf32> to memref<1x64xf32, strided<[256, 1], offset: ?>>
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%arg0, %[[W]] : memref<1x32xf32>, memref<32x64xf32, {{.*}}>) outs(%[[Y]] : memref<1x64xf32, {{.*}}>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @one_row(%x: memref<1x32xf32>, %w: memref<32x256xf32>, %y: memref<1x256xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<1x32xf32>, memref<32x256xf32>) outs(%y : memref<1x256xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#w = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
#y = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>

// Two rows (a batch_matmul's b, m), 200 columns: three blocks of 64 and one
// of 8, through an scf.if.
// CHECK-LABEL: func.func @shorter_last_block
// CHECK: scf.forall (%[[B:.*]]) in (4) {
// CHECK: %[[FULL:.*]] = arith.cmpi ult, %[[B]], %c3
// CHECK: scf.if %[[FULL]] {
// CHECK: memref.subview %arg1[0, 0, %{{.*}}] [1, 16, 64] [1, 1, 1]
// CHECK: linalg.generic
// CHECK: } else {
// CHECK: memref.subview %arg1[0, 0, %{{.*}}] [1, 16, 8] [1, 1, 1]
// CHECK: memref.subview %arg2[0, 0, %{{.*}}] [1, 2, 8] [1, 1, 1]
// CHECK: linalg.generic
func.func @shorter_last_block(%x: memref<1x2x16xf16>, %w: memref<1x16x200xf16>, %y: memref<1x2x200xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<1x2x16xf16>, memref<1x16x200xf16>) outs(%y : memref<1x2x200xf32>) {
  ^bb0(%a: f16, %b: f16, %c: f32):
    %ae = arith.extf %a : f16 to f32
    %be = arith.extf %b : f16 to f32
    %p = arith.mulf %ae, %be : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#x = affine_map<(d0, d1, d2) -> (d0, d1)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#y = affine_map<(d0, d1, d2) -> (d0, d2)>
#wt = affine_map<(d0, d1, d2) -> (d2, d1)>

// Left alone: 16 rows (more than max-rows, 8), parallel as they are; fewer
// than two blocks of columns; j read with a stride (a transposed w); j not
// the innermost loop.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: scf.forall
// CHECK-COUNT-4: linalg.generic
// CHECK-NOT: scf.forall
func.func @left_alone(%x: memref<16x32xf32>, %w: memref<32x256xf32>, %y: memref<16x256xf32>,
                      %x1: memref<1x32xf32>, %w1: memref<32x100xf32>, %y1: memref<1x100xf32>,
                      %wt: memref<256x32xf32>, %y2: memref<1x256xf32>) {
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<16x32xf32>, memref<32x256xf32>) outs(%y : memref<16x256xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x1, %w1 : memref<1x32xf32>, memref<32x100xf32>) outs(%y1 : memref<1x100xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [#x, #wt, #y], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x1, %wt : memref<1x32xf32>, memref<256x32xf32>) outs(%y2 : memref<1x256xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x1, %w : memref<1x32xf32>, memref<32x256xf32>) outs(%y2 : memref<1x256xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A constant weight is stored block by block in a new global (blocks of 2
// columns: columns 0-1 of the three rows, then 2-3, then 4), which each
// block reads as rows 2 (or 1) elements apart; the old global is erased.
// BLOCKS-LABEL: memref.global "private" constant @w_column_blocks : memref<15xf16> = dense<[0.000000e+00, 1.000000e+00, 5.000000e+00, 6.000000e+00, 1.000000e+01, 1.100000e+01, 2.000000e+00, 3.000000e+00, 7.000000e+00, 8.000000e+00, 1.200000e+01, 1.300000e+01, 4.000000e+00, 9.000000e+00, 1.400000e+01]>
// BLOCKS-NOT: @w :
// BLOCKS-LABEL: func.func @constant_weight
// BLOCKS: %[[FLAT:.*]] = memref.get_global @w_column_blocks : memref<15xf16>
// BLOCKS: scf.forall (%[[B:.*]]) in (3) {
// BLOCKS: %[[O:.*]] = arith.muli %[[B]], %c6
// BLOCKS: memref.reinterpret_cast %[[FLAT]] to offset: [%[[O]]], sizes: [3, 2], strides: [2, 1] : memref<15xf16> to memref<3x2xf16, strided<[2, 1], offset: ?>>
// BLOCKS: } else {
// BLOCKS: memref.reinterpret_cast %[[FLAT]] to offset: [%[[O]]], sizes: [3, 1], strides: [1, 1] : memref<15xf16> to memref<3x1xf16, strided<[1, 1], offset: ?>>
// BLOCKS-NOT: get_global @w :
memref.global "private" constant @w : memref<3x5xf16> = dense<[[0.0, 1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0, 9.0], [10.0, 11.0, 12.0, 13.0, 14.0]]>
#x = affine_map<(d0, d1, d2) -> (d0, d1)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#y = affine_map<(d0, d1, d2) -> (d0, d2)>
func.func @constant_weight(%x: memref<1x3xf16>, %y: memref<1x5xf32>) {
  %w = memref.get_global @w : memref<3x5xf16>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<1x3xf16>, memref<3x5xf16>) outs(%y : memref<1x5xf32>) {
  ^bb0(%a: f16, %b: f16, %c: f32):
    %ae = arith.extf %a : f16 to f32
    %be = arith.extf %b : f16 to f32
    %p = arith.mulf %ae, %be : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A weight that something else reads too stays where it is (blocked, the
// library would hold it twice): the blocks take subviews of it.
// BLOCKS-NOT: @shared_column_blocks
// BLOCKS: memref.global "private" constant @shared :
// BLOCKS-LABEL: func.func @shared_weight
// BLOCKS-NOT: column_blocks
// BLOCKS: scf.forall
// BLOCKS: memref.subview %[[W:.*]][0, %{{.*}}] [3, 2] [1, 1] : memref<3x5xf16> to memref<3x2xf16, strided<[5, 1], offset: ?>>
// BLOCKS: memref.load %{{.*}}[%c0, %c0] : memref<3x5xf16>
memref.global "private" constant @shared : memref<3x5xf16> = dense<[[0.0, 1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0, 9.0], [10.0, 11.0, 12.0, 13.0, 14.0]]>
#x = affine_map<(d0, d1, d2) -> (d0, d1)>
#w = affine_map<(d0, d1, d2) -> (d1, d2)>
#y = affine_map<(d0, d1, d2) -> (d0, d2)>
func.func @shared_weight(%x: memref<1x3xf16>, %y: memref<1x5xf32>) -> f16 {
  %c0 = arith.constant 0 : index
  %w = memref.get_global @shared : memref<3x5xf16>
  linalg.generic {indexing_maps = [#x, #w, #y], iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%x, %w : memref<1x3xf16>, memref<3x5xf16>) outs(%y : memref<1x5xf32>) {
  ^bb0(%a: f16, %b: f16, %c: f32):
    %ae = arith.extf %a : f16 to f32
    %be = arith.extf %b : f16 to f32
    %p = arith.mulf %ae, %be : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  }
  %first = memref.load %w[%c0, %c0] : memref<3x5xf16>
  return %first : f16
}
