//===- Passes.td - passes preparing a model for a target ---*- tablegen -*-===//

#ifndef ONEBIT_TARGET_PASSES_TD
#define ONEBIT_TARGET_PASSES_TD

include "mlir/Pass/PassBase.td"

def OneBitExportEntryPoint : Pass<"onebit-export-entry-point", "::mlir::ModuleOp"> {
  let summary = "Mark @main_graph as the library's entry and record its signature";
  let description = [{
    Prepares the imported model function (`@main_graph`) to become the
    entry point of a model library: it gets `llvm.emit_c_interface` (so the
    LLVM lowering exports `_mlir_ciface_main_graph`), and the module gets an
    `onebit.signature` string attribute listing every input and output
    (ONNX name, numpy dtype from `onnx.type`, static shape) in the order the
    runtime passes them. The object emitter stores that string in the
    library as `onebit_model_signature`, which `onebit_model_open` parses:

    ```
    onebit-signature 1 <inputs> <outputs>
    input 1:x float32 2 2 10
    output 1:y float32 2 2 4
    ```

    Fails with an error naming the function if it has dynamic shapes.
  }];
}

def OneBitGPUHostBuffers : Pass<"onebit-gpu-host-buffers", "::mlir::func::FuncOp"> {
  let summary = "Put a bufferized model's buffers on the GPU";
  let description = [{
    Run on the bufferized entry point of a CUDA model: every
    `memref.alloc` becomes a `gpu.alloc` (the runtime serves them from the
    model's device arena, the same buffers on every run), `memref.dealloc`
    is dropped (the arena lives as long as the model), and `memref.copy`
    becomes a `linalg.copy`, so that it runs as a kernel like every other
    loop nest. Buffers the runtime passes (arguments) are device buffers;
    constants become device buffers through `onebit-cuda-device-constants`.
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::linalg::LinalgDialect",
  ];
}

def OneBitGPUTileLoops : Pass<"onebit-gpu-tile-loops", "::mlir::func::FuncOp"> {
  let summary = "Shape the host's loop nests into grid x block parallel loops";
  let description = [{
    Prepares the loops of `convert-linalg-to-parallel-loops` for
    `gpu-map-parallel-loops` and `convert-parallel-loops-to-gpu`: each
    outermost `scf.parallel` is collapsed to one dimension and tiled by
    `block-size` (a guard replaces the partial tile), so the tile loop
    becomes the grid and the intra-tile loop the block. Any other operation
    at the top of the function that touches memory (a sequential loop, a
    load or store) is wrapped in a one-iteration `scf.parallel` so that it
    runs on the GPU too: a model run never reads device memory on the
    host.
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block">,
  ];
  let dependentDialects = [
    "::mlir::scf::SCFDialect",
    "::mlir::arith::ArithDialect",
  ];
}

def OneBitCUDADeviceConstants : Pass<"onebit-cuda-device-constants", "::mlir::ModuleOp"> {
  let summary = "Read the model's constants from device copies uploaded once";
  let description = [{
    Runs on the LLVM dialect after `gpu-to-llvm`. Every constant global of
    the model (the weights: `memref.global` constants) that host code
    passes to a kernel is replaced, in host functions, by a load from
    `onebit_cuda_constants[i]`, a table of device pointers that the CUDA
    runtime fills when the model is opened (one upload per process).
    The pass adds `onebit_cuda_constant_table` (host address and byte size
    of each constant) and `onebit_cuda_num_constants` for the runtime.
  }];
}


#endif // ONEBIT_TARGET_PASSES_TD
