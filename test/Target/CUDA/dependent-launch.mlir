// RUN: onebit-opt %s --split-input-file --onebit-cuda-dependent-launch --verify-diagnostics | FileCheck %s

// Every kernel waits for the kernels before it before its first access to
// memory (the index arithmetic before it runs early) and lets the next
// kernel launch at its end; the host module tells the runtime that the
// library's kernels wait. A function that is not a kernel is left alone.
// CHECK-LABEL: gpu.module @kernels
// CHECK-LABEL: gpu.func @scale
// CHECK-NEXT: %[[I:.*]] = gpu.thread_id x
// CHECK-NEXT: %[[J:.*]] = arith.addi %[[I]], %[[I]] : index
// CHECK-NEXT: nvvm.griddepcontrol wait
// CHECK-NEXT: memref.load %{{.*}}[%[[J]]]
// CHECK: memref.store
// CHECK-NEXT: nvvm.griddepcontrol launch_dependents
// CHECK-NEXT: gpu.return
// CHECK-LABEL: gpu.func @fill
// CHECK-NEXT: arith.constant
// CHECK-NEXT: arith.constant
// CHECK-NEXT: nvvm.griddepcontrol wait
// CHECK-NEXT: memref.store
// CHECK-NEXT: nvvm.griddepcontrol launch_dependents
// CHECK-NEXT: gpu.return
// CHECK-LABEL: gpu.func @helper
// CHECK-NOT: nvvm.griddepcontrol
// CHECK: gpu.return
// CHECK: llvm.mlir.global external constant @onebit_cuda_dependent_launch(1 : i32)
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @scale(%x: memref<64xf32>, %y: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %j = arith.addi %i, %i : index
      %v = memref.load %x[%j] : memref<64xf32>
      %w = arith.mulf %v, %v : f32
      memref.store %w, %y[%i] : memref<64xf32>
      gpu.return
    }
    // Only constants before the store.
    gpu.func @fill(%y: memref<64xf32>) kernel {
      %c0 = arith.constant 0 : index
      %zero = arith.constant 0.0 : f32
      memref.store %zero, %y[%c0] : memref<64xf32>
      gpu.return
    }
    gpu.func @helper(%y: memref<64xf32>) {
      %c0 = arith.constant 0 : index
      %zero = arith.constant 0.0 : f32
      memref.store %zero, %y[%c0] : memref<64xf32>
      gpu.return
    }
  }
}

// -----

// The runtime's symbol defined already: the pass ran twice.
// expected-error @below {{'onebit_cuda_dependent_launch' is defined already: onebit-cuda-dependent-launch ran twice}}
module attributes {gpu.container_module} {
  llvm.mlir.global external constant @onebit_cuda_dependent_launch(1 : i32) : i32
}
