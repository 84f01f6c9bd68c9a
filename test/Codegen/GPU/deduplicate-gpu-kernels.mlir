// RUN: onebit-opt %s --split-input-file --onebit-deduplicate-gpu-kernels | FileCheck %s

// Equal kernels (names and locations aside) in two modules: the second
// module goes, and its launch launches the first kernel.
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: gpu.module @layer_kernel
// CHECK-NOT: gpu.module @layer_kernel_0
// CHECK: func.func @layers
// CHECK: gpu.launch_func @layer_kernel::@layer_kernel {{.*}} args(%arg0 : memref<64xf32>)
// CHECK: gpu.launch_func @layer_kernel::@layer_kernel {{.*}} args(%arg1 : memref<64xf32>)
module attributes {gpu.container_module} {
  gpu.module @layer_kernel {
    gpu.func @layer_kernel(%buffer: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %c = arith.constant 2.0 : f32
      memref.store %c, %buffer[%i] : memref<64xf32>
      gpu.return
    }
  }
  gpu.module @layer_kernel_0 {
    gpu.func @layer_kernel_0(%out: memref<64xf32>) kernel {
      %i = gpu.thread_id x loc("other.mlir":3:4)
      %c = arith.constant 2.0 : f32
      memref.store %c, %out[%i] : memref<64xf32>
      gpu.return
    }
  }
  func.func @layers(%a: memref<64xf32>, %b: memref<64xf32>) {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @layer_kernel::@layer_kernel blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%a : memref<64xf32>)
    gpu.launch_func @layer_kernel_0::@layer_kernel_0 blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%b : memref<64xf32>)
    return
  }
}

// -----

// Kernels that differ in a constant, in a type or in their module's
// attributes stay apart; so do a module with more than its kernel and one
// whose symbol has another use.
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: gpu.module @twos
// CHECK: gpu.module @threes
// CHECK: gpu.module @halves
// CHECK: gpu.module @targeted [#nvvm.target]
// CHECK: gpu.module @two_funcs
// CHECK: gpu.module @referenced
// CHECK: func.func @kept
// CHECK: gpu.launch_func @twos::@twos
// CHECK: gpu.launch_func @threes::@threes
// CHECK: gpu.launch_func @halves::@halves
// CHECK: gpu.launch_func @targeted::@targeted
// CHECK: gpu.launch_func @two_funcs::@two_funcs
// CHECK: gpu.launch_func @referenced::@referenced
module attributes {gpu.container_module} {
  gpu.module @twos {
    gpu.func @twos(%buffer: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %c = arith.constant 2.0 : f32
      memref.store %c, %buffer[%i] : memref<64xf32>
      gpu.return
    }
  }
  gpu.module @threes {
    gpu.func @threes(%buffer: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %c = arith.constant 3.0 : f32
      memref.store %c, %buffer[%i] : memref<64xf32>
      gpu.return
    }
  }
  gpu.module @halves {
    gpu.func @halves(%buffer: memref<64xf16>) kernel {
      %i = gpu.thread_id x
      %c = arith.constant 2.0 : f16
      memref.store %c, %buffer[%i] : memref<64xf16>
      gpu.return
    }
  }
  gpu.module @targeted [#nvvm.target] {
    gpu.func @targeted(%buffer: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %c = arith.constant 2.0 : f32
      memref.store %c, %buffer[%i] : memref<64xf32>
      gpu.return
    }
  }
  gpu.module @two_funcs {
    gpu.func @two_funcs(%buffer: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %c = arith.constant 2.0 : f32
      memref.store %c, %buffer[%i] : memref<64xf32>
      gpu.return
    }
    gpu.func @helper() {
      gpu.return
    }
  }
  gpu.module @referenced {
    gpu.func @referenced(%buffer: memref<64xf32>) kernel {
      %i = gpu.thread_id x
      %c = arith.constant 2.0 : f32
      memref.store %c, %buffer[%i] : memref<64xf32>
      gpu.return
    }
  }
  func.func @kept(%a: memref<64xf32>, %h: memref<64xf16>) attributes {kernels = [@referenced]} {
    %c1 = arith.constant 1 : index
    %c64 = arith.constant 64 : index
    gpu.launch_func @twos::@twos blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%a : memref<64xf32>)
    gpu.launch_func @threes::@threes blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%a : memref<64xf32>)
    gpu.launch_func @halves::@halves blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%h : memref<64xf16>)
    gpu.launch_func @targeted::@targeted blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%a : memref<64xf32>)
    gpu.launch_func @two_funcs::@two_funcs blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%a : memref<64xf32>)
    gpu.launch_func @referenced::@referenced blocks in (%c1, %c1, %c1) threads in (%c64, %c1, %c1) args(%a : memref<64xf32>)
    return
  }
}
