// RUN: onebit-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(onebit-plan-arena))' | FileCheck %s

// A buffer dead before the next alloc gives its bytes to it: %a's last use
// is the copy into %b, so %c takes %a's offset.
// CHECK-LABEL: func.func @reuse_dead_buffer
// CHECK-SAME: onebit.arena_buffers = 3 : i64
// CHECK-SAME: onebit.arena_bytes = 128 : i64
// CHECK-SAME: onebit.arena_unshared_bytes = 192 : i64
// CHECK: %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<128xi8>
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[A:.*]] = memref.view %[[ARENA]][%[[C0]]][] : memref<128xi8> to memref<16xf32>
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: %[[B:.*]] = memref.view %[[ARENA]][%[[C64]]][] : memref<128xi8> to memref<16xf32>
// CHECK: memref.copy %[[A]], %[[B]]
// CHECK: %[[C0_1:.*]] = arith.constant 0 : index
// CHECK: %[[C:.*]] = memref.view %[[ARENA]][%[[C0_1]]][] : memref<128xi8> to memref<16xf32>
// CHECK: memref.copy %[[B]], %[[C]]
// CHECK: memref.copy %[[C]], %arg1
// CHECK-NOT: memref.dealloc %[[A]]
// CHECK-NOT: memref.dealloc %[[B]]
// CHECK-NOT: memref.dealloc %[[C]]
// CHECK: memref.dealloc %[[ARENA]] : memref<128xi8>
// CHECK-NEXT: return
func.func @reuse_dead_buffer(%arg0: memref<16xf32>, %arg1: memref<16xf32>) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  memref.copy %arg0, %a : memref<16xf32> to memref<16xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  memref.copy %b, %c : memref<16xf32> to memref<16xf32>
  memref.copy %c, %arg1 : memref<16xf32> to memref<16xf32>
  memref.dealloc %a : memref<16xf32>
  memref.dealloc %b : memref<16xf32>
  memref.dealloc %c : memref<16xf32>
  return
}

// -----

// Buffers that are all live at the end never share bytes: the largest is
// placed first, each offset is a multiple of 64 (20 bytes round up to 64),
// and the arena ends where the last buffer ends.
// CHECK-LABEL: func.func @overlapping_lifetimes
// CHECK-SAME: onebit.arena_buffers = 3 : i64
// CHECK-SAME: onebit.arena_bytes = 195 : i64
// CHECK-SAME: onebit.arena_unshared_bytes = 151 : i64
// CHECK: %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<195xi8>
// CHECK: %[[C128:.*]] = arith.constant 128 : index
// CHECK: memref.view %[[ARENA]][%[[C128]]][] : memref<195xi8> to memref<5xf32>
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[ARENA]][%[[C0]]][] : memref<195xi8> to memref<4x8xf32>
// CHECK: %[[C192:.*]] = arith.constant 192 : index
// CHECK: memref.view %[[ARENA]][%[[C192]]][] : memref<195xi8> to memref<3xi8>
// CHECK: memref.dealloc %[[ARENA]]
// CHECK-NEXT: return
func.func @overlapping_lifetimes(%i: index) -> (f32, f32, i8) {
  %a = memref.alloc() : memref<5xf32>
  %b = memref.alloc() : memref<4x8xf32>
  %c = memref.alloc() : memref<3xi8>
  %x = memref.load %a[%i] : memref<5xf32>
  %y = memref.load %b[%i, %i] : memref<4x8xf32>
  %z = memref.load %c[%i] : memref<3xi8>
  memref.dealloc %a : memref<5xf32>
  memref.dealloc %b : memref<4x8xf32>
  memref.dealloc %c : memref<3xi8>
  return %x, %y, %z : f32, f32, i8
}

// -----

// An alloc that asks for more than 64 bytes of alignment gets an offset and
// an arena aligned to it.
// CHECK-LABEL: func.func @larger_alignment
// CHECK-SAME: onebit.arena_bytes = 144 : i64
// CHECK: %[[ARENA:.*]] = memref.alloc() {alignment = 128 : i64} : memref<144xi8>
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[ARENA]][%[[C0]]][] : memref<144xi8> to memref<25xf32>
// CHECK: %[[C128:.*]] = arith.constant 128 : index
// CHECK: memref.view %[[ARENA]][%[[C128]]][] : memref<144xi8> to memref<4xf32>
func.func @larger_alignment(%i: index) -> (f32, f32) {
  %a = memref.alloc() : memref<25xf32>
  %b = memref.alloc() {alignment = 128 : i64} : memref<4xf32>
  %x = memref.load %a[%i] : memref<25xf32>
  %y = memref.load %b[%i] : memref<4xf32>
  memref.dealloc %a : memref<25xf32>
  memref.dealloc %b : memref<4xf32>
  return %x, %y : f32, f32
}

// -----

// A use through a view, inside a loop, keeps the buffer live until the end
// of the loop: %b, allocated after the last direct use of %a, may not take
// %a's bytes; %c, allocated after the loop, does.
// CHECK-LABEL: func.func @uses_through_views_and_loops
// CHECK-SAME: onebit.arena_bytes = 256 : i64
// CHECK: %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<256xi8>
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[A:.*]] = memref.view %[[ARENA]][%[[C0]]][] : memref<256xi8> to memref<32xf32>
// CHECK-NEXT: memref.expand_shape %[[A]]
// CHECK-NEXT: %[[C128:.*]] = arith.constant 128 : index
// CHECK-NEXT: %[[B:.*]] = memref.view %[[ARENA]][%[[C128]]][] : memref<256xi8> to memref<32xf32>
// CHECK-NEXT: scf.for
// CHECK: %[[C0_1:.*]] = arith.constant 0 : index
// CHECK-NEXT: %[[C:.*]] = memref.view %[[ARENA]][%[[C0_1]]][] : memref<256xi8> to memref<32xf32>
// CHECK-NEXT: memref.copy %[[B]], %[[C]]
func.func @uses_through_views_and_loops(%arg0: memref<4x8xf32>, %lb: index,
                                        %ub: index, %step: index) {
  %a = memref.alloc() : memref<32xf32>
  %a2 = memref.expand_shape %a [[0, 1]] output_shape [4, 8] : memref<32xf32> into memref<4x8xf32>
  %b = memref.alloc() : memref<32xf32>
  scf.for %iv = %lb to %ub step %step {
    %v = memref.load %a2[%iv, %iv] : memref<4x8xf32>
    memref.store %v, %b[%iv] : memref<32xf32>
  }
  // %a is dead from here on.
  %c = memref.alloc() : memref<32xf32>
  memref.copy %b, %c : memref<32xf32> to memref<32xf32>
  %c2 = memref.expand_shape %c [[0, 1]] output_shape [4, 8] : memref<32xf32> into memref<4x8xf32>
  memref.copy %c2, %arg0 : memref<4x8xf32> to memref<4x8xf32>
  memref.dealloc %a : memref<32xf32>
  memref.dealloc %b : memref<32xf32>
  memref.dealloc %c : memref<32xf32>
  return
}

// -----

// Left alone: an alloc inside a loop, a dynamic shape, a non-identity
// layout, a buffer freed only under a condition, one never freed, one
// returned and one passed to a call. The function gets an empty plan.
// CHECK-LABEL: func.func @left_alone
// CHECK-SAME: onebit.arena_buffers = 0 : i64
// CHECK-SAME: onebit.arena_bytes = 0 : i64
// CHECK-SAME: onebit.arena_unshared_bytes = 0 : i64
// CHECK-NOT: memref.view
// CHECK: scf.for
// CHECK-NEXT: memref.alloc() : memref<8xf32>
// CHECK: memref.dealloc
// CHECK: memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: memref.alloc() : memref<8xf32, strided<[2]>>
// CHECK: memref.alloc() : memref<8xf32>
// CHECK: memref.alloc() : memref<8xf32>
// CHECK: memref.alloc() : memref<8xf32>
// CHECK: memref.alloc() : memref<8xf32>
// CHECK-NOT: memref.view
// CHECK: return
func.func private @consume(memref<8xf32>)
func.func @left_alone(%n: index, %cond: i1) -> memref<8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %iv = %c0 to %n step %c1 {
    %inner = memref.alloc() : memref<8xf32>
    memref.dealloc %inner : memref<8xf32>
  }
  %dynamic = memref.alloc(%n) : memref<?xf32>
  %strided = memref.alloc() : memref<8xf32, strided<[2]>>
  %conditional = memref.alloc() : memref<8xf32>
  %leaked = memref.alloc() : memref<8xf32>
  %returned = memref.alloc() : memref<8xf32>
  %called = memref.alloc() : memref<8xf32>
  func.call @consume(%called) : (memref<8xf32>) -> ()
  scf.if %cond {
    memref.dealloc %conditional : memref<8xf32>
  }
  memref.dealloc %dynamic : memref<?xf32>
  memref.dealloc %strided : memref<8xf32, strided<[2]>>
  memref.dealloc %called : memref<8xf32>
  return %returned : memref<8xf32>
}

// -----

// A buffer that is planned and one that is not, side by side: only the
// first moves into the arena.
// CHECK-LABEL: func.func @mixed
// CHECK-SAME: onebit.arena_buffers = 1 : i64
// CHECK-SAME: onebit.arena_bytes = 32 : i64
// CHECK: %[[ARENA:.*]] = memref.alloc() {alignment = 64 : i64} : memref<32xi8>
// CHECK: memref.view %[[ARENA]]
// CHECK: %[[DYN:.*]] = memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: memref.dealloc %[[DYN]]
// CHECK-NEXT: memref.dealloc %[[ARENA]]
// CHECK-NEXT: return
func.func @mixed(%n: index, %i: index) -> (f32, f32) {
  %a = memref.alloc() : memref<8xf32>
  %d = memref.alloc(%n) : memref<?xf32>
  %x = memref.load %a[%i] : memref<8xf32>
  %y = memref.load %d[%i] : memref<?xf32>
  memref.dealloc %a : memref<8xf32>
  memref.dealloc %d : memref<?xf32>
  return %x, %y : f32, f32
}
