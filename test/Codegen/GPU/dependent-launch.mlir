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
// CHECK-LABEL: gpu.func @no_memory
// CHECK-NEXT: gpu.thread_id x
// CHECK-NEXT: nvvm.griddepcontrol wait
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
    // Touches no memory, and still waits: its completion must imply its
    // predecessors'.
    gpu.func @no_memory() kernel {
      %i = gpu.thread_id x
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

// -----

// The launches tell the pass more. @product's first argument is a constant
// global at its only launch (the weights): its loads may come before the
// wait, which goes into the loop before the first load of x, and after the
// loop. @mixed is launched once with a constant and once without: its load
// waits. @norm has one block at every launch: it lets the next kernel
// launch at its start, since it leaves the other SMs free; @product, of
// 1000 blocks, at its end.
// CHECK-LABEL: gpu.func @product
// CHECK-NEXT: gpu.thread_id x
// CHECK-NEXT: %[[FIRST:.*]] = memref.load %arg0
// CHECK: scf.for
// CHECK-NEXT: memref.load %arg0
// CHECK-NEXT: nvvm.griddepcontrol wait
// CHECK-NEXT: memref.load %arg1
// CHECK: scf.yield
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.griddepcontrol wait
// CHECK-NEXT: memref.store
// CHECK-NEXT: nvvm.griddepcontrol launch_dependents
// CHECK-NEXT: gpu.return
// CHECK-LABEL: gpu.func @mixed
// CHECK-NEXT: gpu.thread_id x
// CHECK-NEXT: nvvm.griddepcontrol wait
// CHECK-NEXT: memref.load %arg0
// CHECK-LABEL: gpu.func @norm
// CHECK-NEXT: nvvm.griddepcontrol launch_dependents
// CHECK-NEXT: gpu.thread_id x
// CHECK-NEXT: nvvm.griddepcontrol wait
// CHECK-NEXT: memref.load
// CHECK-NOT: nvvm.griddepcontrol
// CHECK: gpu.return
module attributes {gpu.container_module} {
  memref.global "private" constant @weights : memref<64xi32> = dense<1>
  func.func @main(%x: memref<64xf32>, %y: memref<64xf32>, %v: memref<64xi32>) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    %c1000 = arith.constant 1000 : index
    %w = memref.get_global @weights : memref<64xi32>
    gpu.launch_func @k::@product blocks in (%c1000, %c1, %c1) threads in (%c64, %c1, %c1) args(%w : memref<64xi32>, %x : memref<64xf32>, %y : memref<64xf32>)
    gpu.launch_func @k::@mixed blocks in (%c1000, %c1, %c1) threads in (%c64, %c1, %c1) args(%w : memref<64xi32>, %y : memref<64xf32>)
    gpu.launch_func @k::@mixed blocks in (%c1000, %c1, %c1) threads in (%c64, %c1, %c1) args(%v : memref<64xi32>, %y : memref<64xf32>)
    gpu.launch_func @k::@norm blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%y : memref<64xf32>)
    return
  }
  gpu.module @k {
    gpu.func @product(%w: memref<64xi32>, %x: memref<64xf32>, %y: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %first = memref.load %w[%i] : memref<64xi32>
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c2 = arith.constant 2 : index
      %zero = arith.constant 0.0 : f32
      %sum = scf.for %s = %c0 to %c2 step %c1 iter_args(%acc = %zero) -> (f32) {
        %word = memref.load %w[%s] : memref<64xi32>
        %a = memref.load %x[%s] : memref<64xf32>
        %both = arith.addi %word, %first : i32
        %f = arith.sitofp %both : i32 to f32
        %p = arith.mulf %a, %f : f32
        %next = arith.addf %acc, %p : f32
        scf.yield %next : f32
      }
      memref.store %sum, %y[%i] : memref<64xf32>
      gpu.return
    }
    gpu.func @mixed(%w: memref<64xi32>, %y: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %word = memref.load %w[%i] : memref<64xi32>
      %f = arith.sitofp %word : i32 to f32
      memref.store %f, %y[%i] : memref<64xf32>
      gpu.return
    }
    gpu.func @norm(%y: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %a = memref.load %y[%i] : memref<64xf32>
      %b = arith.mulf %a, %a : f32
      memref.store %b, %y[%i] : memref<64xf32>
      gpu.return
    }
  }
}
