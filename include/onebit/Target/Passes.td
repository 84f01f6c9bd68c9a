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

def OneBitPlanArena : Pass<"onebit-plan-arena", "::mlir::func::FuncOp"> {
  let summary = "Place a bufferized function's intermediates in one arena with reuse";
  let description = [{
    Runs on a bufferized function after the buffer-deallocation pipeline.
    Every `memref.alloc` of the entry block with a static shape, the
    identity layout and the default memory space, whose one deallocation
    is a `memref.dealloc` of the same block, gets a byte offset in one
    arena: buffers that are live at the same time never share bytes, and a
    buffer allocated after another one's last use may take its bytes.

    A buffer is live from its `memref.alloc` to the last operation of the
    entry block that uses it or a view of it (a use inside a loop or any
    other region counts at the operation that holds the region). The
    deallocation pipeline frees every buffer at the end of the block, so
    the position of the `memref.dealloc` says nothing about when the data
    is dead; the last use does. Offsets are assigned greedily, largest
    buffer first, each at the lowest offset (a multiple of 64 bytes, or of
    the alloc's larger `alignment`) that does not overlap an already
    placed buffer with an overlapping lifetime.

    The planned allocs become `memref.view`s into one
    `memref.alloc() {alignment = 64} : memref<PEAKxi8>` at the start of the
    function, their deallocs are erased and the arena is deallocated before
    the return. Anything else is left as it is: allocs inside loops or
    other regions, dynamic shapes, buffers that are freed conditionally or
    not at all, or that escape (returned, passed to a call). The function
    gets the plan as attributes:

    - `onebit.arena_bytes`: the arena's size (the peak);
    - `onebit.arena_buffers`: how many buffers it holds;
    - `onebit.arena_unshared_bytes`: the sum of their sizes, what separate
      allocations would take at once.

    ```mlir
    %a = memref.alloc() : memref<16xf32>
    linalg.fill ins(%cst : f32) outs(%a : memref<16xf32>)
    %b = memref.alloc() : memref<16xf32>
    linalg.copy ins(%a : memref<16xf32>) outs(%b : memref<16xf32>)
    %c = memref.alloc() : memref<16xf32>
    linalg.copy ins(%b : memref<16xf32>) outs(%c : memref<16xf32>)
    ```

    becomes (`%a` is dead when `%c` is allocated: they share bytes 0-63)

    ```mlir
    %arena = memref.alloc() {alignment = 64 : i64} : memref<128xi8>
    %a = memref.view %arena[%c0][] : memref<128xi8> to memref<16xf32>
    %b = memref.view %arena[%c64][] : memref<128xi8> to memref<16xf32>
    %c = memref.view %arena[%c0][] : memref<128xi8> to memref<16xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
  ];
}

def OneBitInterchangeContractions
    : Pass<"onebit-interchange-contractions", "::mlir::func::FuncOp"> {
  let summary = "Move the reduction loops of contractions outside their "
                "contiguous output dimension";
  let description = [{
    Runs on linalg ops before they become loops on the CPU. A contraction
    such as `linalg.matmul` or `linalg.batch_matmul` iterates its
    reduction dimensions innermost, so its loops add into one output
    element per iteration through memory: a serial chain that the LLVM
    vectorizer cannot split without reassociating floating-point adds.

    When the innermost result of the (single) output's indexing map is a
    parallel loop `j`, some reduction loop comes after `j`, and every
    operand that reads `j` reads it as its innermost (contiguous) index,
    the op is generalized and its loops are reordered so that `j` is
    innermost, the others keeping their order: `C[i, j] += A[i, k] · B[k, j]`
    becomes an `i, k, j` nest whose inner loop is a contiguous
    multiply-add over rows of `B` and `C`, which vectorizes. Ops that read
    `j` with a stride (a matmul with a transposed operand, a row reduction)
    keep their order. The arithmetic of each output element is unchanged:
    the same products are added in the same order.

    ```mlir
    linalg.matmul ins(%a, %b : memref<4x8xf32>, memref<8x16xf32>)
                  outs(%c : memref<4x16xf32>)
    ```

    becomes a `linalg.generic` with iterator types
    `["parallel", "reduction", "parallel"]` and the maps
    `(d0, d1, d2) -> (d0, d1)`, `(d0, d1, d2) -> (d1, d2)`,
    `(d0, d1, d2) -> (d0, d2)`.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def OneBitSplitContractionColumns
    : Pass<"onebit-split-contraction-columns", "::mlir::ModuleOp"> {
  let summary = "Run the column blocks of a contraction with few rows on all "
                "threads";
  let description = [{
    Runs on the CPU after `onebit-interchange-contractions`, which puts a
    contraction's contiguous output dimension j innermost: its parallel
    rows, then its reductions, then j. `convert-linalg-to-parallel-loops`
    makes only the rows a parallel region, so a contraction with one row,
    such as an fp16 `lm_head` at batch 1 (`[1, 4096] x [4096, 32000]`), ran
    on one thread while the others waited: half of a 7B-shaped forward on
    two threads.

    A `linalg.generic` on buffers with static loop ranges, a reduction loop
    and a single output, whose last loop j is parallel, is the output's last
    index, and is read by every operand that reads it only as that
    operand's last index, is split when its other parallel loops run at most
    `max-rows` iterations together and j at least twice `column-block`: it
    becomes an `scf.forall` over blocks of `column-block` columns (a shorter
    last block through an `scf.if`), each a copy of the op on
    `memref.subview`s of the operands that read j. Each block keeps the
    loop order and each output element its sum order. Ops inside an
    `scf.forall` or `scf.parallel` are left alone.

    An input that reads j from a constant `memref.global` that nothing else
    reads (through `memref.get_global` and `memref.expand_shape`s, with a
    dense or dense_resource value) is stored again, block by block, in a new flat
    global `<name>_column_blocks`: block b holds its columns of every row,
    rows as many elements apart as the block is wide, so that each block
    reads one contiguous run instead of a piece of every row (an `lm_head`
    block of 2048 columns read 4 KB, then skipped 60 KB). Each block reads
    it through a `memref.reinterpret_cast`; the old global is erased once
    nothing uses it.

    ```mlir
    linalg.generic {indexing_maps = [(d0, d1, d2) -> (d0, d1),
                                     (d0, d1, d2) -> (d1, d2),
                                     (d0, d1, d2) -> (d0, d2)],
                    iterator_types = ["parallel", "reduction", "parallel"]}
        ins(%x, %w : memref<1x4096xf32>, memref<4096x32000xf32>)
        outs(%y : memref<1x32000xf32>) {...}
    // becomes (column-block = 2048: 15 blocks of 2048 and one of 1280)
    scf.forall (%b) in (16) {
      %o = arith.muli %b, %c2048 : index
      scf.if (%b < 15) {
        %w_b = memref.subview %w[0, %o] [4096, 2048] [1, 1] ...
        %y_b = memref.subview %y[0, %o] [1, 2048] [1, 1] ...
        linalg.generic {...} ins(%x, %w_b : ...) outs(%y_b : ...) {...}
      } else {
        // the same on [4096, 1280] and [1, 1280]
      }
    }
    // (with %w a constant global: %w_b = memref.reinterpret_cast of
    // @..._column_blocks at offset %b * 2048 * 4096, rows 2048 apart)
    ```
  }];
  let options = [
    Option<"maxRows", "max-rows", "int64_t", "8",
           "Most iterations of the parallel loops other than the columns">,
    Option<"columnBlock", "column-block", "int64_t", "2048",
           "Columns per block">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def OneBitGatherToPermute
    : Pass<"onebit-gather-to-permute", "::mlir::func::FuncOp"> {
  let summary = "Turn gathers from one row of 16 floats into AVX-512 permutes";
  let description = [{
    The CPU lookup-table kernel (`convert-onebit-to-linalg`) reads its
    tables with `vector.gather`: 16 floats from one table row of 16, at
    indices masked to 4 bits. As a gather that is 16 scattered loads (or a
    slow `vgatherdps`); the row fits in one register, and AVX-512's
    `vpermps` picks its lanes in one instruction. This pass rewrites each
    such gather, after bufferization, into a `vector.load` of the row and
    an `llvm.call_intrinsic` of `llvm.x86.avx512.permvar.sf.512`, which
    reads only the low 4 bits of each index, so the masking `arith.andi`
    is dropped.

    It matches a `vector.gather` of `vector<16xf32>` with an all-true mask
    from a memref of f32 whose last dimension is 16 and contiguous, at a
    last offset of 0, whose indices are `arith.andi` of a `vector<16xi32>`
    with 15. Other gathers are left alone. It runs only for CPUs with
    AVX-512 (`onebit-cpu-pipeline{lookup-tables=true}`): the intrinsic
    does not exist elsewhere.

    ```mlir
    %i = arith.andi %bytes, %fifteens : vector<16xi32>
    %v = vector.gather %tables[%r, %g, %c0] [%i], %all, %zeros
           : memref<1x16x16xf32>, vector<16xi32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
    // becomes
    %row = vector.load %tables[%r, %g, %c0] : memref<1x16x16xf32>, vector<16xf32>
    %v = llvm.call_intrinsic "llvm.x86.avx512.permvar.sf.512"(%row, %bytes)
           : (vector<16xf32>, vector<16xi32>) -> vector<16xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def OneBitSerializeNestedParallel
    : Pass<"onebit-serialize-nested-parallel", "::mlir::func::FuncOp"> {
  let summary = "Keep scf.parallel only where a parallel region pays for itself";
  let description = [{
    On the CPU every `scf.parallel` becomes an OpenMP parallel region, which
    costs a fork and a join (microseconds) each time it runs. This pass
    rewrites as a nest of `scf.for` loops with the same bounds and steps,
    in the order of its induction variables, every `scf.parallel` without
    reductions that

    - is nested in another `scf.parallel` or in an `scf.forall`: it would
      fork once per
      iteration of the loops around it, while the outer region already
      keeps every core busy. `convert-linalg-to-parallel-loops` produces
      such nests when a reduction loop sits between parallel ones, as in a
      contraction reordered by `onebit-interchange-contractions`;
    - or runs fewer than `min-parallel-work` iterations in all, counting
      the static trip counts of the loops nested in it (a loop with dynamic
      bounds counts as large): at batch 1 most ops of a decoder touch a
      few hundred elements, far less work than a fork and join.

    `scf.forall` loops are left as they are: the CPU pipeline runs this
    pass before turning them into `scf.parallel`, so the 1-bit kernels'
    loops over output rows, whose vector bodies this count would
    underestimate, stay parallel.

    ```mlir
    scf.parallel (%i) = (%c0) to (%c64) step (%c1) {
      scf.for %k = %c0 to %c64 step %c1 {
        scf.parallel (%j) = (%c0) to (%c64) step (%c1) { ... }
      }
    }
    ```

    keeps the outer `scf.parallel` (64 · 64 · 64 iterations) and makes the
    inner one `scf.for %j = %c0 to %c64 step %c1 { ... }`.
  }];
  let options = [
    Option<"minParallelWork", "min-parallel-work", "int64_t", "16384",
           "Iterations (the loop nest's static trip counts multiplied) below "
           "which an outermost scf.parallel runs on one thread">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def OneBitOutlineLoopNests
    : Pass<"onebit-outline-loop-nests", "::mlir::ModuleOp"> {
  let summary = "Move each top-level loop nest of a function into a private "
                "function of its own";
  let description = [{
    Runs on bufferized code whose ops are loops (after
    `convert-linalg-to-parallel-loops`). A decoder's layers are the same
    loop nests on different weights, but they all sit in one function, so
    the CPU code generator compiles the code of every layer again, and its
    per-function analyses (dominator trees, memory SSA) grow faster than
    the function. This pass makes every operation with regions in the body
    of a function with a body (`scf.for`, `scf.parallel`, `scf.forall`,
    ...) a call to a new private function `@<function>_loop_<n>`:

    - the values the nest uses that are defined outside it become the new
      function's arguments, in the order of their first use; results of the
      nest become its results;
    - scalar and vector constants (`arith.constant` and other constant-like
      ops without memref or tensor results) are cloned into it instead, so
      the loop bounds stay static.

    Two nests that do the same work on different buffers, such as the same
    layer of two decoder blocks, so become functions that differ only in
    their names, which `duplicate-function-elimination` then merges: the
    code of a repeated layer is compiled once, however many times it runs.

    ```mlir
    scf.for %i = %c0 to %c64 step %c1 {
      %w = memref.load %weights[%i] : memref<64xf32>
      memref.store %w, %out[%i] : memref<64xf32>
    }
    ```

    becomes `func.call @main_graph_loop_0(%weights, %out)` and

    ```mlir
    func.func private @main_graph_loop_0(%arg0: memref<64xf32>,
                                         %arg1: memref<64xf32>) {
      %c0 = arith.constant 0 : index
      %c64 = arith.constant 64 : index
      %c1 = arith.constant 1 : index
      scf.for %i = %c0 to %c64 step %c1 { ... }
      return
    }
    ```
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect"];
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
    becomes the grid and the intra-tile loop the block. Other operations
    at the top of the function that touch memory (a sequential loop, a
    load or store, e.g. what a one-element op becomes once canonicalization
    folds its loop away) run on the GPU too: each run of them between two
    loop nests, with the operations that compute on their results, is
    wrapped in one one-iteration `scf.parallel`. A model run never reads
    device memory on the host; a value loaded from it that the host would
    need (a loop bound, say) is an error that names the op.
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

def OneBitGPUSinkIndexComputations
    : Pass<"onebit-gpu-sink-index-computations", "::mlir::func::FuncOp"> {
  let summary = "Sink the constants and index computations a gpu.launch "
                "uses into it, in time linear in the function";
  let description = [{
    Does what upstream `gpu-launch-sink-index-computations` does: every
    constant, `memref.dim`, `arith.select` and `arith.cmpi` defined outside
    a `gpu.launch` whose result the launch uses is cloned into the launch
    (with such ops it depends on, in order), so that `gpu-kernel-outlining`
    makes it part of the kernel instead of a kernel parameter. Upstream
    redirects the uses of each sunk value by walking all of its uses in the
    function: a model's constants are shared by thousands of launches, so
    that walk made the pass quadratic (7.7 s of a 32-layer model's 19 s).
    Here each launch's body is walked once instead.

    ```mlir
    %c64 = arith.constant 64 : index
    gpu.launch blocks(...) in (...) threads(...) in (...) {
      %i = arith.muli %tx, %c64 : index
      ...
    }
    ```

    gets its own `%c64 = arith.constant 64 : index` at the start of the
    launch body.
  }];
}

def OneBitDeduplicateGPUKernels
    : Pass<"onebit-deduplicate-gpu-kernels", "::mlir::ModuleOp"> {
  let summary = "Launch one kernel for every set of identical outlined kernels";
  let description = [{
    Runs after `gpu-kernel-outlining`, which gives every `gpu.launch` a
    `gpu.module` of its own: the same layer of each decoder block becomes
    the same kernels again, and each of them would be translated to PTX and
    assembled by ptxas once per layer. Every `gpu.module` whose only
    operation is a `gpu.func` equal to an earlier module's (the same body,
    types and attributes, names and locations aside; the modules' own
    attributes, such as their targets, equal too) is erased, and the
    `gpu.launch_func` ops that launched it launch the earlier kernel.
    A module with any other use of its symbol, or with more than its
    kernel in it, is left alone.

    ```mlir
    gpu.launch_func @main_graph_kernel::@main_graph_kernel ... args(%w0 : memref<64xf32>)
    gpu.launch_func @main_graph_kernel_0::@main_graph_kernel ... args(%w1 : memref<64xf32>)
    ```

    with two modules of the same kernel keeps `@main_graph_kernel` and
    launches it twice.
  }];
}

def OneBitCUDADependentLaunch
    : Pass<"onebit-cuda-dependent-launch", "::mlir::ModuleOp"> {
  let summary = "Launch each kernel while the kernel before it runs "
                "(programmatic dependent launch, sm_90)";
  let description = [{
    Runs after `gpu-kernel-outlining`. At batch 1 a forward is hundreds of
    short kernels in a row, and each pays its launch and the start of its
    blocks after the kernel before it has ended. Hopper can overlap them.
    In every kernel of every `gpu.module`:

    - `nvvm.griddepcontrol wait` holds the kernel until the kernels before
      it have completed and their writes are visible. It goes before the
      first op that may read or write memory other than the kernel's
      constant arguments (those that every `gpu.launch_func` binds to a
      view of a constant `memref.global`: the weights, which no kernel
      writes). Index arithmetic and loads of constants come first. Where
      that op is an `scf.for`, `scf.if` or `scf.index_switch` whose body
      loads constants first (the first sign words of a 1-bit product),
      the wait goes into its regions the same way, and after it.
    - `nvvm.griddepcontrol launch_dependents` lets the next kernel of the
      stream launch once every block of this one has executed it: at the
      start of a kernel that every launch gives at most 32 blocks (a
      batch-1 norm, which leaves most SMs to the next kernel, whose blocks
      then start and load their weights before its wait), else before
      each `gpu.return` (triggered at the start, the next kernel's blocks
      took SMs while a large kernel still ran, and several layers measured
      slower: docs/benchmarks.md).

    Every op that touches memory a kernel may write runs after a wait, so
    the order of the stream's effects is unchanged; every kernel waits (a
    kernel that touches no memory waits before its return), so a kernel's
    completion implies its predecessors'.

    The pass also defines `onebit_cuda_dependent_launch` (an i32, 1) in
    the host module: the CUDA runtime launches a library's kernels with
    programmatic stream serialization only where that symbol is set
    (`ONEBIT_CUDA_DEPENDENT_LAUNCH=0` turns it off at run time); kernels
    compiled without the pass are launched as before. `griddepcontrol`
    needs sm_90: `onebit-cuda-pipeline` runs the pass only for that chip.

    ```mlir
    gpu.func @product(%w: memref<64xi32>, %x: memref<64xf32>, ...) kernel {
      %i = gpu.thread_id x
      %word = memref.load %w[%i] : memref<64xi32>   // a constant global
      nvvm.griddepcontrol wait
      %v = memref.load %x[%i] : memref<64xf32>
      ...
      nvvm.griddepcontrol launch_dependents
      gpu.return
    }
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect"];
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
