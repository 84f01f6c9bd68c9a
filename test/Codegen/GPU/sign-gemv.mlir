// RUN: onebit-opt %s -split-input-file -onebit-gpu-select-schedules=mma-min-rows=5 -onebit-gpu-sign-gemv | FileCheck %s

// M = 1, f16, K = 4096: a row group of 32 threads (one warp) owns 4 sign
// words (16 bytes) of each of its rows, 8 groups per block, 4 rows per
// group and step (64 rows: 2 blocks). The block first stages the
// activations in workgroup memory (coalesced, slices rotated against bank
// conflicts); the zero fill is folded away (the kernel stores its sums);
// weights come as 16-byte vector loads of the signs viewed as i32 words,
// the next step's loaded while this one computes; two weights per f16x2
// add (sign mask 0x80008000); warp shuffles reduce.
// CHECK-LABEL: func @decode_f16
// CHECK-NOT: linalg.fill
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0, 1]] : memref<64x512xi8> into memref<32768xi8>
// CHECK: %[[WORDS:.*]] = memref.view %[[FLAT]][%{{.*}}][] : memref<32768xi8> to memref<8192xi32>
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%[[GRID:.*]] = %c2, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %c256, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) workgroup(%[[STAGED:.*]] : memref<1x4096xf16, #gpu.address_space<workgroup>>)
// CHECK: scf.for
// CHECK: memref.load %arg0
// CHECK: arith.xori
// CHECK: memref.store %{{.*}}, %[[STAGED]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[STAGED]]
// CHECK: vector.from_elements {{.*}} : vector<2xf16>
// CHECK-COUNT-4: vector.load %[[WORDS]][%{{.*}}] {alignment = 16 : i64} : memref<8192xi32>, vector<4xi32>
// CHECK: scf.for %{{.*}} = %[[BX]] to %{{.*}} step %[[GRID]] iter_args
// CHECK-COUNT-4: vector.load %[[WORDS]]
// CHECK: arith.constant -2147450880 : i32
// CHECK: arith.addf %{{.*}}, %{{.*}} : vector<2xf16>
// CHECK: gpu.shuffle  xor %{{.*}}, %c16_i32
// CHECK: scf.if
// CHECK: memref.store %{{.*}} : memref<1x64xf32>
// CHECK: scf.yield
// CHECK-NOT: linalg.generic
func.func @decode_f16(%x: memref<1x4096xf16>, %s: memref<64x512xi8>, %y: memref<1x64xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<1x64xf32>)
  onebit.packed_sign_product ins(%x, %s : memref<1x4096xf16>, memref<64x512xi8>) outs(%y : memref<1x64xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}

// -----

// M = 3, f32: one word per thread and row (128 threads, 4 warps per row
// group, 2 groups), sign bit 0x80000000 per weight; the warps' sums meet in
// workgroup memory between barriers. No zero fill before: the sums are
// added to y.
// CHECK-LABEL: func @decode_f32_rows
// CHECK: gpu.launch {{.*}} in (%{{.*}} = %c13{{.*}} threads({{.*}}) in (%{{.*}} = %c256{{.*}}) workgroup(%{{.*}} : memref<3x4096xf32, #gpu.address_space<workgroup>>, %[[PARTIALS:.*]] : memref<8x12xf32, #gpu.address_space<workgroup>>)
// CHECK: vector.load {{.*}} {alignment = 4 : i64} : memref<{{.*}}xi32>, vector<1xi32>
// CHECK: arith.constant -2147483648 : i32
// CHECK: gpu.shuffle  xor
// CHECK: memref.store %{{.*}}, %[[PARTIALS]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[PARTIALS]]
// CHECK: memref.load %{{.*}} : memref<3x100xf32>
// CHECK: arith.addf
// CHECK: memref.store %{{.*}} : memref<3x100xf32>
// CHECK: gpu.barrier
func.func @decode_f32_rows(%x: memref<3x4096xf32>, %s: memref<100x512xi8>, %y: memref<3x100xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<3x4096xf32>, memref<100x512xi8>) outs(%y : memref<3x100xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}

// -----

// Bit 1 meaning +1: every word is inverted once before its sign masks.
// CHECK-LABEL: func @positive_ones
// CHECK: vector.load
// CHECK: arith.xori %{{.*}}, %c-1_i32
func.func @positive_ones(%x: memref<1x64xf32>, %s: memref<8x8xi8>, %y: memref<1x8xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<1x64xf32>, memref<8x8xi8>) outs(%y : memref<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 0>)
  return
}

// -----

// The elementwise kernels on either side fold into the decode kernel: the
// scaling x * g is evaluated where the activations are loaded, the
// epilogue (* h, cast to f16) where the sums are stored; their buffers go.
// CHECK-LABEL: func @fold_neighbours
// CHECK-NOT: gpu.alloc
// CHECK: gpu.launch
// CHECK: memref.load %arg0
// CHECK: memref.load %arg1
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f16
// CHECK: scf.for
// CHECK: scf.if
// CHECK: memref.load %arg3
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK: arith.truncf
// CHECK: memref.store %{{.*}}, %arg4
// CHECK-NOT: linalg.generic
// CHECK-NOT: gpu.alloc
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @fold_neighbours(%in: memref<1x64xf16>, %g: memref<64xf16>, %s: memref<8x8xi8>,
                           %h: memref<8xf32>, %out: memref<1x8xf16>) {
  %x = gpu.alloc () : memref<1x64xf16>
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%in, %g : memref<1x64xf16>, memref<64xf16>) outs(%x : memref<1x64xf16>) {
  ^bb0(%a: f16, %b: f16, %o: f16):
    %m = arith.mulf %a, %b : f16
    linalg.yield %m : f16
  }
  %y = gpu.alloc () : memref<1x8xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<1x8xf32>)
  onebit.packed_sign_product ins(%x, %s : memref<1x64xf16>, memref<8x8xi8>) outs(%y : memref<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%y, %h : memref<1x8xf32>, memref<8xf32>) outs(%out : memref<1x8xf16>) {
  ^bb0(%a: f32, %b: f32, %o: f16):
    %m = arith.mulf %a, %b : f32
    %t = arith.truncf %m : f32 to f16
    linalg.yield %t : f16
  }
  return
}

// -----

// Activations that another op also reads are loaded, not recomputed, and
// an epilogue after an op that writes memory stays its own kernel.
// CHECK-LABEL: func @keep_neighbours
// CHECK: linalg.generic
// CHECK: gpu.launch
// CHECK: linalg.copy
// CHECK: linalg.generic
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @keep_neighbours(%in: memref<1x64xf16>, %g: memref<64xf16>, %s: memref<8x8xi8>,
                           %h: memref<8xf32>, %out: memref<1x8xf16>, %copy: memref<1x64xf16>) {
  %x = gpu.alloc () : memref<1x64xf16>
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%in, %g : memref<1x64xf16>, memref<64xf16>) outs(%x : memref<1x64xf16>) {
  ^bb0(%a: f16, %b: f16, %o: f16):
    %m = arith.mulf %a, %b : f16
    linalg.yield %m : f16
  }
  %y = gpu.alloc () : memref<1x8xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<1x8xf32>)
  onebit.packed_sign_product ins(%x, %s : memref<1x64xf16>, memref<8x8xi8>) outs(%y : memref<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  linalg.copy ins(%x : memref<1x64xf16>) outs(%copy : memref<1x64xf16>)
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%y, %h : memref<1x8xf32>, memref<8xf32>) outs(%out : memref<1x8xf16>) {
  ^bb0(%a: f32, %b: f32, %o: f16):
    %m = arith.mulf %a, %b : f32
    %t = arith.truncf %m : f32 to f16
    linalg.yield %t : f16
  }
  return
}

// -----

// Activations over 48 KiB (4 x 4096 f32) are not staged: each thread loads
// its own slice; only the partial sums use workgroup memory.
// CHECK-LABEL: func @unstaged
// CHECK: gpu.launch {{.*}} workgroup(%{{.*}} : memref<8x16xf32, #gpu.address_space<workgroup>>)
// CHECK-NOT: memref<4x4096xf32, #gpu.address_space<workgroup>>
// CHECK: memref.load %arg0
func.func @unstaged(%x: memref<4x4096xf32>, %s: memref<100x512xi8>, %y: memref<4x100xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<4x4096xf32>, memref<100x512xi8>) outs(%y : memref<4x100xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}
