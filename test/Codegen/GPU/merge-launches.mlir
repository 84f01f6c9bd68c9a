// RUN: onebit-opt %s --split-input-file --onebit-gpu-merge-launches | FileCheck %s

// Two products that read the same x and write their own y: one launch of
// 4 + 2 blocks. A block past the first launch's 4 runs the second body,
// with its block index counted from 4 and its own grid size; the
// workgroup buffers of both are the merged launch's.
// CHECK-LABEL: func.func @side_by_side
// CHECK-COUNT-1: gpu.launch blocks(%[[B:[^,]*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %c6,
// CHECK-SAME: function(@product) workgroup(%[[W0:.*]] : memref<64xf32, #gpu.address_space<workgroup>>, %[[W1:.*]] : memref<32xf16, #gpu.address_space<workgroup>>)
// CHECK: %[[PAST:.*]] = arith.cmpi uge, %[[B]], %c4
// CHECK: scf.index_switch
// CHECK: case 0 {
// CHECK: memref.store %{{.*}}, %[[W0]]
// CHECK: memref.load %arg0
// CHECK: memref.store %{{.*}}, %arg1[%[[B]]]
// CHECK: case 1 {
// CHECK: %[[OWN:.*]] = arith.subi %[[B]], %c4
// CHECK: memref.store %{{.*}}, %[[W1]]
// CHECK: memref.load %arg0
// CHECK: memref.store %{{.*}}, %arg2[%[[OWN]]]
// CHECK-NOT: gpu.launch
func.func @side_by_side(%x: memref<8xf32>, %y0: memref<8xf32>, %y1: memref<8xf16>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c4, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) function(@product) workgroup(%w : memref<64xf32, #gpu.address_space<workgroup>>) {
    %zero = arith.constant 0.0 : f32
    memref.store %zero, %w[%tx] : memref<64xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    %v = memref.load %x[%bx] : memref<8xf32>
    memref.store %v, %y0[%bx] : memref<8xf32>
    gpu.terminator
  }
  %unused = gpu.alloc () : memref<4xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) function(@product) workgroup(%w : memref<32xf16, #gpu.address_space<workgroup>>) {
    %zero = arith.constant 0.0 : f16
    memref.store %zero, %w[%tx] : memref<32xf16, #gpu.address_space<workgroup>>
    gpu.barrier
    %v = memref.load %x[%bx] : memref<8xf32>
    %h = arith.truncf %v : f32 to f16
    memref.store %h, %y1[%bx] : memref<8xf16>
    gpu.terminator
  }
  return
}

// -----

// What stays apart: a launch that reads what the one before writes; other
// kernel names; other block sizes; more than 48 KiB of workgroup memory
// together.
// CHECK-LABEL: func.func @kept_apart
// CHECK-COUNT-6: gpu.launch
// CHECK-NOT: scf.index_switch
func.func @kept_apart(%x: memref<8xf32>, %y: memref<8xf32>, %z: memref<8xf32>) {
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) function(@k) {
    %v = memref.load %x[%bx] : memref<8xf32>
    memref.store %v, %y[%bx] : memref<8xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) function(@k) {
    %v = memref.load %y[%bx] : memref<8xf32>
    memref.store %v, %z[%bx] : memref<8xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) function(@other) {
    %v = memref.load %x[%bx] : memref<8xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) function(@other) {
    %v = memref.load %x[%bx] : memref<8xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) function(@big) workgroup(%w : memref<8192xf32, #gpu.address_space<workgroup>>) {
    %v = memref.load %x[%bx] : memref<8xf32>
    memref.store %v, %w[%tx] : memref<8192xf32, #gpu.address_space<workgroup>>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) function(@big) workgroup(%w : memref<8192xf32, #gpu.address_space<workgroup>>) {
    %v = memref.load %x[%bx] : memref<8xf32>
    memref.store %v, %w[%tx] : memref<8192xf32, #gpu.address_space<workgroup>>
    gpu.terminator
  }
  return
}

// -----

// Mapped loop nests have no kernel name: independent ones merge all the
// same (the rotary embeddings of q and k, 16 blocks each at 7B).
// CHECK-LABEL: func.func @loop_nests
// CHECK-COUNT-1: gpu.launch blocks(%{{.*}}) in (%{{.*}} = %c3,
// CHECK-NOT: function(
// CHECK: scf.index_switch
// CHECK-NOT: gpu.launch
func.func @loop_nests(%x: memref<8xf32>, %y: memref<8xf32>, %u: memref<8xf32>, %v: memref<8xf32>) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c2, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %a = memref.load %x[%bx] : memref<8xf32>
    memref.store %a, %y[%bx] : memref<8xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1) {
    %a = memref.load %u[%bx] : memref<8xf32>
    memref.store %a, %v[%bx] : memref<8xf32>
    gpu.terminator
  }
  return
}
