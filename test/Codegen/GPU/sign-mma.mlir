// RUN: onebit-opt %s -split-input-file -onebit-gpu-select-schedules=mma-int8-activations=false -onebit-gpu-sign-mma | FileCheck %s

// The f16 schedules (with mma-int8-activations, up to 2 input rows whose
// blocks do not split K take the s8 one instead: sign-mma-digits.mlir).

// M = 1, K = 4096 (4 words per lane and row), N = 64 (4 tiles of 16 rows):
// one accumulator per sign bit (BitClasses). The 4 warps of a block split K
// (4 blocks), so the 3 others hand their sums over in workgroup memory. The
// block stages x once (32 blocks of 33 units of 4 halves, with padding), and
// the sums of each warp's inputs per row (16-byte loads of x: there is no
// prologue to evaluate), while the sign words of the first two steps load
// (one chunk of K); each mma masks bit q and q + 16
// of two words of rows g and g + 8 (0x00010001 for q = 0); with one staged
// row the B fragments of two bits come in one 16-byte load (blocks padded
// by 2 units, so that they stay aligned). Bit 15 is the sign: 0x80008000,
// xor 1.0.
// CHECK-LABEL: func @decode_classes
// CHECK-NOT: linalg.fill
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %{{.*}} {{\[}}[0, 1]] : memref<64x512xi8> into memref<32768xi8>
// CHECK: %[[WORDS:.*]] = memref.view %[[FLAT]][%{{.*}}][] : memref<32768xi8> to memref<8192xi32>
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c4, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) threads({{.*}}) in (%{{.*}} = %c128, %{{.*}} = %c1{{.*}}, %{{.*}} = %c1{{.*}}) workgroup(%[[STAGED:.*]] : memref<4352xf16, #gpu.address_space<workgroup>>, %[[ROWSUMS:.*]] : memref<4x1xf32, #gpu.address_space<workgroup>>, %[[PARTIALS:.*]] : memref<96x4xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for {{.*}} -> (vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, vector<2x2xf32>, f32, f32)
// CHECK-COUNT-4: vector.load %[[WORDS]][%{{.*}}] {alignment = 16 : i64} : memref<8192xi32>, vector<4xi32>
// CHECK: gpu.barrier
// CHECK: vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<1x4096xf16>, vector<8xf16>
// CHECK: vector.store %{{.*}}, %[[STAGED]]{{.*}} vector<2xf16>
// CHECK: gpu.shuffle  xor
// CHECK: memref.store %{{.*}}, %[[ROWSUMS]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[ROWSUMS]]
// CHECK: scf.for
// CHECK: vector.load %[[STAGED]][%{{.*}}] {alignment = 16 : i64} : {{.*}}, vector<8xf16>
// CHECK-COUNT-4: arith.andi %{{.*}}, %c65537_i32
// CHECK: nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK-COUNT-14: nvgpu.mma.sync
// CHECK: arith.constant -2147450880 : i32
// CHECK: arith.constant 1006648320 : i32
// CHECK: nvgpu.mma.sync
// CHECK: scf.yield
// CHECK: memref.store %{{.*}}, %[[PARTIALS]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[PARTIALS]]
// CHECK: scf.if
// CHECK: memref.store %{{.*}} : memref<1x64xf32>
// CHECK-NOT: linalg.generic
func.func @decode_classes(%x: memref<1x4096xf16>, %s: memref<64x512xi8>, %y: memref<1x64xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<1x64xf32>)
  onebit.packed_sign_product ins(%x, %s : memref<1x4096xf16>, memref<64x512xi8>) outs(%y : memref<1x64xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}

// -----

// M = 40 (prefill), K = 896 (one word per lane: shifted sign pairs), N =
// 64: grid y walks two passes of 32 input rows (4 tiles of 8), each warp two
// tiles of 16 output rows; the 4 warps split K, and the staged activations
// (48 KiB less the partial sums) hold 512 of the 896 inputs: two chunks.
// Each pair of sign bits is shifted to the f16 sign bits (0x80008000) and
// xor-ed with 1.0 (0x3C003C00); one A operand serves 4 input-row tiles, one
// B fragment 2 output tiles. No fill before: the sums are added to y.
// CHECK-LABEL: func @prefill
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2, %{{.*}} = %c2{{.*}}, %{{.*}} = %c1{{.*}}) threads({{.*}}) in (%{{.*}} = %c128, {{.*}}) workgroup(%[[STAGED:.*]] : memref<16896xf16, #gpu.address_space<workgroup>>, %{{.*}} : memref<96x32xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for %{{.*}} = %{{.*}} to %c2{{.*}} step
// CHECK: gpu.barrier
// CHECK: vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<40x896xf16>, vector<8xf16>
// CHECK: vector.store %{{.*}}, %[[STAGED]]
// CHECK: gpu.barrier
// CHECK-COUNT-4: vector.load %{{.*}} {alignment = 4 : i64} : memref<1792xi32>, vector<1xi32>
// CHECK: scf.for
// CHECK-COUNT-4: vector.load %[[STAGED]]
// CHECK: arith.constant -2147450880 : i32
// CHECK: arith.constant 1006648320 : i32
// CHECK-COUNT-8: nvgpu.mma.sync
// CHECK: memref.load %{{.*}} : memref<40x64xf32>
// CHECK: arith.addf
// CHECK: memref.store %{{.*}} : memref<40x64xf32>
func.func @prefill(%x: memref<40x896xf16>, %s: memref<64x112xi8>, %y: memref<40x64xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<40x896xf16>, memref<64x112xi8>) outs(%y : memref<40x64xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}

// -----

// Bit 1 meaning +1: the sign pairs are xor-ed with -1.0 (0xBC00BC00), and
// with bit classes the masked sums are negated.
// CHECK-LABEL: func @positive_ones
// CHECK: arith.constant -1140802560 : i32
// CHECK-LABEL: func @positive_ones_classes
// CHECK: arith.constant -1140802560 : i32
// CHECK: arith.negf
func.func @positive_ones(%x: memref<16x128xf16>, %s: memref<16x16xi8>, %y: memref<16x16xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<16x128xf16>, memref<16x16xi8>) outs(%y : memref<16x16xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 0>)
  return
}
func.func @positive_ones_classes(%x: memref<2x256xf16>, %s: memref<16x32xi8>, %y: memref<2x16xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<2x256xf16>, memref<16x32xi8>) outs(%y : memref<2x16xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 0>)
  return
}

// -----

// f32 activations: no tensor-core schedule (the decode kernel's), no
// tensor-core kernel.
// CHECK-LABEL: func @not_taken
// CHECK-NOT: gpu.launch
// CHECK: onebit.packed_sign_product
// CHECK-SAME: schedule(#onebit.gpu_sign_gemv_schedule
func.func @not_taken(%s: memref<8x16xi8>, %y: memref<2x8xf32>, %x32: memref<2x128xf32>) {
  onebit.packed_sign_product ins(%x32, %s : memref<2x128xf32>, memref<8x16xi8>) outs(%y : memref<2x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}

// -----

// The elementwise kernels on either side fold in: x * g is evaluated where
// the block stages the activations (8 at a time: x and g are contiguous
// along K), * h and the cast to f16 where the sums are stored; their
// buffers go.
// CHECK-LABEL: func @fold_neighbours
// CHECK-NOT: gpu.alloc
// CHECK: gpu.launch
// CHECK: vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<3x256xf16>, vector<8xf16>
// CHECK: vector.load %arg1[{{.*}}] {alignment = 16 : i64} : memref<256xf16>, vector<8xf16>
// CHECK: arith.mulf %{{.*}}, %{{.*}} : vector<8xf16>
// CHECK: nvgpu.mma.sync
// CHECK: scf.if
// CHECK: memref.load %arg3
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK: arith.truncf
// CHECK: memref.store %{{.*}}, %arg4
// CHECK-NOT: linalg.generic
// CHECK-NOT: gpu.alloc
#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
func.func @fold_neighbours(%in: memref<3x256xf16>, %g: memref<256xf16>, %s: memref<8x32xi8>,
                           %h: memref<8xf32>, %out: memref<3x8xf16>) {
  %x = gpu.alloc () : memref<3x256xf16>
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%in, %g : memref<3x256xf16>, memref<256xf16>) outs(%x : memref<3x256xf16>) {
  ^bb0(%a: f16, %b: f16, %o: f16):
    %m = arith.mulf %a, %b : f16
    linalg.yield %m : f16
  }
  %y = gpu.alloc () : memref<3x8xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<3x8xf32>)
  onebit.packed_sign_product ins(%x, %s : memref<3x256xf16>, memref<8x32xi8>) outs(%y : memref<3x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]} ins(%y, %h : memref<3x8xf32>, memref<8xf32>) outs(%out : memref<3x8xf16>) {
  ^bb0(%a: f32, %b: f32, %o: f16):
    %m = arith.mulf %a, %b : f32
    %t = arith.truncf %m : f32 to f16
    linalg.yield %t : f16
  }
  return
}

// -----

// A prologue with a math function or a division (here SiLU(gate) · up, the
// input of an MLP's down projection) stays its own generic, evaluated once
// per element: every block that stages x would evaluate it again. The
// epilogue still folds.
// CHECK-LABEL: func @keep_expensive_prologue
// CHECK: %[[X:.*]] = gpu.alloc () : memref<1x256xf16>
// CHECK: linalg.generic {{.*}} outs(%[[X]] : memref<1x256xf16>)
// CHECK: math.exp
// CHECK: arith.divf
// CHECK: gpu.launch
// CHECK-NOT: math.exp
// CHECK: nvgpu.mma.sync
// CHECK: arith.truncf
// CHECK-NOT: linalg.generic
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @keep_expensive_prologue(%gate: memref<1x256xf16>, %up: memref<1x256xf16>, %s: memref<8x32xi8>,
                                   %out: memref<1x8xf16>) {
  %x = gpu.alloc () : memref<1x256xf16>
  linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%gate, %up : memref<1x256xf16>, memref<1x256xf16>) outs(%x : memref<1x256xf16>) {
  ^bb0(%a: f16, %b: f16, %o: f16):
    %one = arith.constant 1.0 : f16
    %n = arith.negf %a : f16
    %e = math.exp %n : f16
    %d = arith.addf %e, %one : f16
    %sig = arith.divf %a, %d : f16
    %m = arith.mulf %sig, %b : f16
    linalg.yield %m : f16
  }
  %y = gpu.alloc () : memref<1x8xf32>
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<1x8xf32>)
  onebit.packed_sign_product ins(%x, %s : memref<1x256xf16>, memref<8x32xi8>) outs(%y : memref<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%y : memref<1x8xf32>) outs(%out : memref<1x8xf16>) {
  ^bb0(%a: f32, %o: f16):
    %t = arith.truncf %a : f32 to f16
    linalg.yield %t : f16
  }
  return
}

// -----

// More input rows than grid y can walk in passes of 32 (65535 passes):
// no schedule (on tensors, convert-onebit-to-linalg makes it the generic
// kernel).
// CHECK-LABEL: func @too_many_rows
// CHECK-NOT: gpu.launch
// CHECK: onebit.packed_sign_product
// CHECK-NOT: schedule(
func.func @too_many_rows(%x: memref<2097152x128xf16>, %s: memref<16x16xi8>, %y: memref<2097152x16xf32>) {
  onebit.packed_sign_product ins(%x, %s : memref<2097152x128xf16>, memref<16x16xi8>) outs(%y : memref<2097152x16xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}

// -----

// A prologue input constant along K (a scale per input row) is loaded once
// and broadcast: the activations still come 8 at a time.
// CHECK-LABEL: func @fold_row_scale
// CHECK: gpu.launch
// CHECK: vector.load %arg0[{{.*}}] {alignment = 16 : i64} : memref<1x256xf16>, vector<8xf16>
// CHECK: %[[SCALE:.*]] = memref.load %arg1[{{.*}}] : memref<1xf16>
// CHECK: vector.broadcast %[[SCALE]] : f16 to vector<8xf16>
// CHECK: arith.mulf %{{.*}}, %{{.*}} : vector<8xf16>
// CHECK: nvgpu.mma.sync
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @fold_row_scale(%in: memref<1x256xf16>, %scale: memref<1xf16>, %s: memref<16x32xi8>,
                          %y: memref<1x16xf32>) {
  %x = gpu.alloc () : memref<1x256xf16>
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%in, %scale : memref<1x256xf16>, memref<1xf16>) outs(%x : memref<1x256xf16>) {
  ^bb0(%a: f16, %b: f16, %o: f16):
    %m = arith.mulf %a, %b : f16
    linalg.yield %m : f16
  }
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<1x16xf32>)
  onebit.packed_sign_product ins(%x, %s : memref<1x256xf16>, memref<16x32xi8>) outs(%y : memref<1x16xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}

// -----

// A prologue input read across K (here transposed) is not contiguous: the
// block stages one activation at a time through the scalar prologue.
// CHECK-LABEL: func @fold_transposed_input
// CHECK: gpu.launch
// CHECK-NOT: vector.load %arg1
// CHECK: memref.load %arg0
// CHECK: memref.load %arg1
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f16
// CHECK: nvgpu.mma.sync
#id = affine_map<(d0, d1) -> (d0, d1)>
#transposed = affine_map<(d0, d1) -> (d1, d0)>
func.func @fold_transposed_input(%in: memref<1x256xf16>, %t: memref<256x1xf16>, %s: memref<16x32xi8>,
                                 %y: memref<1x16xf32>) {
  %x = gpu.alloc () : memref<1x256xf16>
  linalg.generic {indexing_maps = [#id, #transposed, #id], iterator_types = ["parallel", "parallel"]} ins(%in, %t : memref<1x256xf16>, memref<256x1xf16>) outs(%x : memref<1x256xf16>) {
  ^bb0(%a: f16, %b: f16, %o: f16):
    %m = arith.mulf %a, %b : f16
    linalg.yield %m : f16
  }
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%y : memref<1x16xf32>)
  onebit.packed_sign_product ins(%x, %s : memref<1x256xf16>, memref<16x32xi8>) outs(%y : memref<1x16xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}
