// RUN: onebit-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(onebit-gpu-sink-index-computations))' \
// RUN:   | FileCheck %s
// The same sinking as upstream's pass:
// RUN: onebit-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(gpu-launch-sink-index-computations))' \
// RUN:   | FileCheck %s

// Constants, a memref.dim and a cmpi/select chain on them move into every
// launch that uses them, operands first; the host keeps its own uses. A
// value computed otherwise (addi) stays outside, as a kernel parameter.
// CHECK-LABEL: func.func @launches
// CHECK-SAME: (%[[BUF:.*]]: memref<?xf32>, %[[N:.*]]: index)
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: %[[SUM:.*]] = arith.addi %[[N]], %[[C64]] : index
// CHECK: gpu.launch
// CHECK-DAG: %[[K64:.*]] = arith.constant 64 : index
// CHECK-DAG: %[[K0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[K1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[DIM:.*]] = memref.dim %[[BUF]], %[[K0]]
// CHECK-DAG: %[[LESS:.*]] = arith.cmpi ult, %[[DIM]], %[[K64]]
// CHECK-DAG: %[[PICK:.*]] = arith.select %[[LESS]], %[[K1]], %[[K64]]
// CHECK: memref.store %{{.*}}, %[[BUF]][%[[PICK]]]
// CHECK: memref.store %{{.*}}, %[[BUF]][%[[SUM]]]
// CHECK: gpu.terminator
// CHECK: gpu.launch
// CHECK: %[[AGAIN:.*]] = arith.constant 64 : index
// CHECK: memref.store %{{.*}}, %[[BUF]][%[[AGAIN]]]
// CHECK: gpu.terminator
// CHECK: return %[[C64]]
func.func @launches(%buffer: memref<?xf32>, %n: index) -> index {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %dim = memref.dim %buffer, %c0 : memref<?xf32>
  %less = arith.cmpi ult, %dim, %c64 : index
  %pick = arith.select %less, %c1, %c64 : index
  %sum = arith.addi %n, %c64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %zero, %buffer[%pick] : memref<?xf32>
    memref.store %zero, %buffer[%sum] : memref<?xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %zero, %buffer[%c64] : memref<?xf32>
    gpu.terminator
  }
  return %c64 : index
}
