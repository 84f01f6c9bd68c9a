//===- Passes.td - onebit code generation passes -----------*- tablegen -*-===//
//
// The passes that shape kernels for a target: memory planning shared by the
// targets, CPU loop nests, and GPU kernels (lib/Codegen/{Common,CPU,GPU}).
// One file, as upstream's Passes.td files are: over 600 lines because each
// pass states its contract with an IR example.
//
//===----------------------------------------------------------------------===//

#ifndef ONEBIT_CODEGEN_PASSES_TD
#define ONEBIT_CODEGEN_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Common
//===----------------------------------------------------------------------===//

def OneBitFusePointwiseConcat
    : Pass<"onebit-fuse-pointwise-concat", "::mlir::func::FuncOp"> {
  let summary = "A concatenation of pointwise functions of slices as one "
                "linalg.generic";
  let description = [{
    On tensors: a `tensor.empty` filled by `tensor.insert_slice`s that
    tile it along one dimension, each inserting a slice of a tensor or a
    pointwise `linalg.generic` of slices, becomes one `linalg.generic` over
    the whole result that reads the sources with `tensor.extract` at
    clamped indices and selects the piece by the index along that
    dimension. Rotary embeddings' `rotate_half(x) = concat(-x2, x1)` is the
    case in point: it was a negation and two copies, each a kernel on the
    GPU; now the elementwise fusion that follows folds it into the product
    with sin and cos, one kernel.

    ```mlir
    %a = tensor.extract_slice %x[0, 64] [4, 64] [1, 1] : tensor<4x128xf16> to tensor<4x64xf16>
    %b = tensor.extract_slice %x[0, 0] [4, 64] [1, 1] : ...
    %n = linalg.generic {...} ins(%a : ...) { arith.negf }
    %e = tensor.empty() : tensor<4x128xf16>
    %0 = tensor.insert_slice %n into %e[0, 0] [4, 64] [1, 1]
    %1 = tensor.insert_slice %b into %0[0, 64] [4, 64] [1, 1]
    // becomes
    %1 = linalg.generic {... iterator_types = ["parallel", "parallel"]} outs(%e : ...) {
      // j < 64 ? -x[i, j + 64] : x[i, j - 64]
    }
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
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

//===----------------------------------------------------------------------===//
// CPU
//===----------------------------------------------------------------------===//

def OneBitCPUSelectSchedules
    : Pass<"onebit-cpu-select-schedules", "::mlir::func::FuncOp"> {
  let summary = "Choose the schedule of every scheduled op's CPU kernel";
  let description = [{
    Runs in `onebit-cpu-pipeline` on tensors, after `onebit-decompose-linear`.
    Every `onebit.cached_attention` without a schedule gets
    `#onebit.cpu_attention_schedule` from the options. Every
    `onebit.packed_sign_product` without a schedule gets the schedule of the
    kernel that reads its layout: `#onebit.cpu_sign_lookup_schedule` for
    signs interleaved by 16 rows (one input row: 4 index vectors a step,
    several: 2, fewer where N/16 has no such factor; tiles of at most 6
    rows), `#onebit.cpu_sign_vector_schedule` for OneBit's bytes (a batch of
    up to 8 rows one tile, a larger one tiles of at most 6; masked adds for
    tiles of 1 or 2 rows; the most output rows a block, of 8, 4 and 2, whose
    accumulators fit AVX-512's registers; 2 bytes a step where K/8 is even),
    or none where no CPU kernel reads the layout (a `linalg.generic` in
    `convert-onebit-to-linalg`). An op that has a CPU schedule already (set
    in a test) keeps it, and one with another target's schedule is an error.

    ```mlir
    %o:3 = onebit.cached_attention ins(...) outs(...) scale(0.125)
    %y = onebit.packed_sign_product ins(%x, %s : tensor<1x4096xf32>, tensor<4096x512xi8>)
           outs(%zeros : tensor<1x4096xf32>) packing(...)
    // becomes
    %o:3 = onebit.cached_attention ins(...) outs(...) scale(0.125)
             schedule(#onebit.cpu_attention_schedule<row_block = 16, query_tile = 1>)
    %y = onebit.packed_sign_product ins(%x, %s : tensor<1x4096xf32>, tensor<4096x512xi8>)
           outs(%zeros : tensor<1x4096xf32>) packing(...)
           schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 8,
                    chunk_bytes = 2, masked_adds = true>)
    ```
  }];
  let options = [
    Option<"attentionRowBlock", "attention-row-block", "int64_t",
           /*default=*/"16",
           "Cache rows the attention kernel scores together (1..64)">,
    Option<"attentionQueryTile", "attention-query-tile", "int64_t",
           /*default=*/"1",
           "New positions one attention task handles (1..16)">,
  ];
  let dependentDialects = ["::mlir::onebit::OneBitDialect"];
}

def OneBitCPUAttention : Pass<"onebit-cpu-attention", "::mlir::func::FuncOp"> {
  let summary = "Build the CPU loop nest of each onebit.cached_attention";
  let description = [{
    Runs in `onebit-cpu-pipeline` after bufferization. Each
    `onebit.cached_attention` on memrefs, with the
    `#onebit.cpu_attention_schedule<row_block = R, query_tile = Q>` that
    `onebit-cpu-select-schedules` chose, becomes an `scf.forall` over
    (batch, key/value head, tile of Q new positions). An iteration:

    - loads the queries of its key/value head's group and positions into
      `vector<D x f32>` registers;
    - reads the position P from memory (clamped to the cache) and walks
      cache rows `[0, P)` in blocks of R rows: each row's key is loaded once
      for all queries, the block's scores form a `vector<R x f32>`, whose
      maximum and exponentials (a polynomial, not libm) rescale the running
      sum and weighted sum of values once per block; the rows past the last
      whole block, one at a time;
    - then the new rows from the op's `key`/`value`, each query seeing those
      up to its own position;
    - stores the normalized sums in the output, and the new keys and values
      at rows `P + t` of the caches (none past the cache).

    Scores and sums are f32. An op without a CPU schedule is an error.

    ```mlir
    onebit.cached_attention ins(%q, %k, %v, %pos : memref<1x4x1x8xf32>, ...)
        outs(%out, %kc, %vc : ...) scale(0.35)
        schedule(#onebit.cpu_attention_schedule<row_block = 16, query_tile = 1>)
    // becomes
    scf.forall (%b, %h, %t) in (1, 2, 1) {
      %r = scf.for %row = %c0 to %blocked step %c16 iter_args(...) { ... }
      ...
    }
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
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

//===----------------------------------------------------------------------===//
// GPU
//===----------------------------------------------------------------------===//

def OneBitGPUTransposeMatvecWeights
    : Pass<"onebit-gpu-transpose-matvec-weights", "::mlir::func::FuncOp"> {
  let summary = "Store a matrix-vector product's constant weight transposed";
  let description = [{
    Runs in `onebit-cuda-pipeline` on tensors, before bufferization. A
    dense `linalg.matmul` or `linalg.batch_matmul` (default maps) whose
    right operand `B[k, n]` is a constant (possibly expanded with leading
    unit dimensions) and whose result has at most `max-outputs` elements
    (a few input rows: an fp16 `lm_head` at decode) becomes a
    `linalg.generic` with the same body that reads a constant `Bᵀ[n, k]`,
    transposed at compile time. Its reduction is then its innermost,
    contiguous loop, so `onebit-gpu-row-reductions` gives each output a
    thread block that reads its weight row coalesced. Left as it was, the
    product ran one thread per output, each walking `k` with one dependent
    load per step (the 7B-shaped model's `lm_head`, 4096 → 32000, took
    over ten times its memory time: docs/benchmarks.md).

    ```mlir
    %y = linalg.matmul ins(%x, %w : tensor<1x256xf16>, tensor<256x1000xf16>)
                       outs(%acc : tensor<1x1000xf32>) -> tensor<1x1000xf32>
    // becomes, with %wt the constant tensor<1000x256xf16>
    %y = linalg.generic {indexing_maps = [(m, n, k) -> (m, k), (m, n, k) -> (n, k),
                                          (m, n, k) -> (m, n)], ...}
           ins(%x, %wt : ...) outs(%acc : ...)
    ```
  }];
  let options = [
    Option<"maxOutputs", "max-outputs", "int64_t", /*default=*/"65536",
           "Most result elements (as onebit-gpu-row-reductions' max-rows)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

def OneBitGPUSelectSchedules
    : Pass<"onebit-gpu-select-schedules", "::mlir::func::FuncOp"> {
  let summary = "Choose the schedule of every scheduled op's GPU kernel";
  let description = [{
    Runs in `onebit-cuda-pipeline` on tensors. Every
    `onebit.cached_attention` without a schedule gets
    `#onebit.gpu_attention_schedule<splits, warps, lanes_per_row,
    rows_in_flight>`:

    - `lanes_per_row = D / 8`: the lanes that read one cache row, 8
      elements (16 bytes in f16) each, so a warp reads `32 / lanes_per_row`
      rows at once;
    - `warps` and `rows_in_flight` from the options: the warps of a block,
      each over its own rows, and the rows a lane loads before it scores
      them;
    - `splits`: the blocks the rows of one (batch, key/value head, new
      position) are split over, so that about `attention-blocks` blocks run
      however few heads there are (the number of rows is known only on the
      GPU: each block takes `ceil(rows / splits)` of them).

    Every `onebit.packed_sign_product` without a schedule gets its kernel
    as its `schedule`:

    - `#onebit.gpu_sign_mma_schedule` (`onebit-gpu-sign-mma`, tensor cores)
      for f16 activations with f32 sums, K a multiple of 128, bytes packed
      lowest input first, and at least `mma-min-rows` input rows. Its
      decoding: `byte_classes` with up to 2 input rows where
      `mma-int8-activations` is on and the block's warps cover all of K;
      else `bit_classes` (`mma-bit-classes` classes) with up to 8 input rows
      and K a multiple of 256; else `shifted_pairs` (with 9 to 16 input rows
      `direct_fragments` where `mma-direct-fragments` is on). `words` is the
      most (4, 2, 1) that K allows; `row_tiles` is `mma-row-tiles`, or 1 up
      to 8 input rows and 2 beyond; the warps of a block split K (2, 4)
      while the grid has fewer than `mma-min-grid-size` blocks; the chunk is
      as many whole rounds of the split as 48 KiB of workgroup memory hold;
      `loads_ahead` is `mma-loads-ahead`.
    - else `#onebit.gpu_sign_gemv_schedule` (`onebit-gpu-sign-gemv`, CUDA
      cores) for f16 or f32 activations, up to 4 input rows, K a multiple of
      32 up to 32768: 4, 2 or 1 words per thread for 1, 2 or more input
      rows, `gemv-rows-per-step` rows per step, a grid of at most
      `gemv-max-grid-size` blocks, staged where x fits in 48 KiB.
    - else none: `convert-onebit-to-linalg` makes it a `linalg.generic`,
      one thread per output.

    The kernels read x and the signs with the identity layout, so an input
    that would bufferize to a view (a `tensor.extract_slice`, also through
    reshapes) is copied first (`bufferization.alloc_tensor() copy(...)`).

    ```mlir
    // A LLaMA-7B 4096 -> 4096 product at decode gets:
    onebit.packed_sign_product ins(%x, %signs : tensor<1x4096xf16>,
        tensor<4096x512xi8>) outs(%zero : tensor<1x4096xf32>)
        packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
        schedule(#onebit.gpu_sign_mma_schedule<decoding = bit_classes,
          row_tiles = 1, k_split = 4, words = 4, chunk = 4096, loads_ahead = 2,
          bit_classes = 16>) -> tensor<1x4096xf32>
    ```

    An op or product with a GPU schedule keeps it (set in a test); one with
    another target's schedule, or an attention whose head dimension is not
    8 times a power of two up to 256, is an error. With `report`, each gets
    a remark naming its schedule, at its location (the ONNX node it came
    from): onebit-compile's `--schedule-report`.
  }];
  let options = [
    Option<"attentionWarps", "attention-warps", "int64_t", /*default=*/"2",
           "Warps per block of the attention kernel (1..8)">,
    Option<"attentionBlocks", "attention-blocks", "int64_t",
           /*default=*/"1024",
           "Blocks the attention kernel aims for (splits = blocks / heads)">,
    Option<"attentionRowsInFlight", "attention-rows-in-flight", "int64_t",
           /*default=*/"4",
           "Cache rows each lane of the attention kernel loads at once (1..8)">,
    Option<"mmaMinRows", "mma-min-rows", "int64_t", /*default=*/"1",
           "Fewest input rows of an f16 product for the tensor-core kernel">,
    Option<"mmaRowTiles", "mma-row-tiles", "int64_t", /*default=*/"0",
           "Tiles of 16 output rows per warp of the tensor-core kernel (0: 1 "
           "for up to 8 input rows, else 2)">,
    Option<"mmaMinGridSize", "mma-min-grid-size", "int64_t",
           /*default=*/"264",
           "Fewest blocks of the tensor-core kernel before its warps split K">,
    Option<"mmaBitClasses", "mma-bit-classes", "int64_t", /*default=*/"16",
           "Bit classes of the tensor-core kernel's one-tile schedule (16, 8, "
           "4 or 2)">,
    Option<"mmaLoadsAhead", "mma-loads-ahead", "int64_t", /*default=*/"2",
           "Steps of sign words in flight per lane of the tensor-core kernel "
           "(1..8)">,
    Option<"mmaInt8Activations", "mma-int8-activations", "bool",
           /*default=*/"true",
           "Up to 2 input rows and no K split: activations as int8 digits on "
           "the s8 tensor cores">,
    Option<"mmaDirectFragments", "mma-direct-fragments", "bool",
           /*default=*/"true",
           "9 to 16 input rows: each lane loads its activations from global "
           "memory instead of the block staging them">,
    Option<"gemvRowsPerStep", "gemv-rows-per-step", "int64_t",
           /*default=*/"4",
           "Output rows each row group of the decode kernel loads per step "
           "(1..8)">,
    Option<"gemvMaxGridSize", "gemv-max-grid-size", "int64_t",
           /*default=*/"264", "Most blocks of a decode kernel">,
    Option<"report", "report", "bool", /*default=*/"false",
           "A remark on each product and attention with its schedule (or "
           "that none takes it)">,
  ];
  let dependentDialects = ["::mlir::onebit::OneBitDialect",
                           "::mlir::bufferization::BufferizationDialect"];
}

def OneBitGPUAttention : Pass<"onebit-gpu-attention", "::mlir::func::FuncOp"> {
  let summary = "Build the split-K (flash-decoding) kernels of each "
                "onebit.cached_attention";
  let description = [{
    Runs in `onebit-cuda-pipeline` after bufferization. Each
    `onebit.cached_attention` on memrefs with the
    `#onebit.gpu_attention_schedule<splits = S, warps = W, lanes_per_row = L,
    rows_in_flight = R>` that `onebit-gpu-select-schedules` chose becomes
    two launches:

    - `onebit_attention_split`, a grid of S x (batch x key/value heads x new
      positions) blocks of W warps. Block (s, g) reads the position P from
      device memory, so one CUDA graph serves every step, and takes its
      share of the cache rows below P, `ceil(P / S)` rows, split among its
      warps; the last split also takes the op's new rows up to `P + t`.
      L lanes read a row (8 elements each) for all the query heads of the
      key/value head; each lane loads R rows before it scores them (no
      branch between the loads), reduces the dot products with XOR
      shuffles, and keeps an online softmax (running maximum, sum, weighted
      sum of values, f32); the warp's row groups merge theirs with shuffles
      and write one partial (weighted sums, maximum, sum) per warp to a
      scratch buffer. Blocks of split 0 also store the new keys and values
      at rows `P + t` of the caches (none past the cache), which no block
      reads from there.
    - `onebit_attention_combine`, a warp per (batch, query head, new
      position): each lane takes every 32nd partial's maximum and sum, the
      warp reduces them with shuffles, and the lanes, which hold
      `ceil(D / 32)` adjacent dimensions of the output each (one vector
      load per partial), sum the S x W partials weighted, issuing the
      loads of up to 32 partials before the sums.

    Only the rows that exist are read: the cache's other rows cost nothing.
    An op without a GPU schedule, with a mask (the kernel is causal), or
    whose operands do not have identity layouts, is an error.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def OneBitGPUSignGemv : Pass<"onebit-gpu-sign-gemv", "::mlir::func::FuncOp"> {
  let summary = "Turn packed-sign products scheduled for decode into the "
                "GPU decode kernel";
  let description = [{
    Runs in `onebit-cuda-pipeline` after bufferization. Every
    `onebit.packed_sign_product` whose schedule is a `#onebit.gpu_sign_gemv_schedule`
    (chosen by `onebit-gpu-select-schedules`: at most 4 input rows, K a
    multiple of 32, word-8 LSB-first packing) becomes one `gpu.launch`
    shaped for memory bandwidth instead of one thread per output:

    - a row group of threads (whole warps, several per block up to 256
      threads) works on its own rows; each thread owns a fixed slice of
      32-bit sign words of every row (the schedule's `words`: 128 weights
      for M = 1, fewer for larger M) and keeps the matching activations in registers for the
      whole kernel, read once per block from workgroup memory where the
      block staged them with coalesced loads (`staged`: they fit in 48
      KiB; slices rotated against bank conflicts);
    - the schedule's `grid_size` blocks walk steps of `rows_per_step` rows
      per group grid-stride, one
      aligned vector load per row and thread (a warp reads a contiguous,
      coalesced run of the row), the next step's words loaded while the
      current step computes;
    - bit b of a word flips the sign bit of its activation (XOR) before an
      add; for f16 activations two weights share each instruction (half2
      registers pair inputs j and j + 16 of a word, so one shift and mask
      give both sign bits; the f16x2 sums are flushed to f32 every 32
      weights);
    - warp shuffles and workgroup memory reduce the partial sums;
    - the zero fill of the sums is dropped, and the elementwise generic
      that writes the activations (e.g. x * g) and the one that reads the
      sums (e.g. * h and a cast) are evaluated inside the kernel, at the
      points where it loads and stores, when the product is their only
      other user and no op between them touches memory.

    A scheduled product the kernel cannot take (operands not plain static
    buffers with identity layouts, more than 4 input rows, K not a multiple
    of `32 * words`, staged activations over 48 KiB) is an error on the
    product: a schedule is never dropped.

    ```mlir
    // Before (after bufferization):
    onebit.packed_sign_product ins(%x, %signs : memref<1x4096xf32>,
        memref<4096x512xi8>) outs(%y : memref<1x4096xf32>)
        packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
        schedule(#onebit.gpu_sign_gemv_schedule<words = 4, rows_per_step = 4,
          grid_size = 264, staged = true>)
    // After: gpu.launch blocks(...) threads(...) { ... vector.load ...
    //   gpu.shuffle xor ... }
    ```
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def OneBitGPUSignMma : Pass<"onebit-gpu-sign-mma", "::mlir::func::FuncOp"> {
  let summary = "Turn packed-sign products scheduled for the tensor cores "
                "into their kernel";
  let description = [{
    Runs in `onebit-cuda-pipeline` after bufferization. Every
    `onebit.packed_sign_product` whose schedule is a `#onebit.gpu_sign_mma_schedule`
    (chosen by `onebit-gpu-select-schedules`: f16 activations, K a
    multiple of 128, word-8 LSB-first packing) becomes one `gpu.launch`
    whose warps multiply on the tensor cores (`nvgpu.mma.sync`, m16n8k16,
    f16 inputs, f32 accumulators): the signs are the A operand (16 output
    rows by 16 inputs), the activations the B operand (16 inputs by 8
    input rows).

    - A warp owns `row_tiles` tiles of 16 output rows; lane (g, t) loads
      the same W = `words` words of rows g and g + 8 of each per step, the
      four lanes of a row 16·W contiguous bytes; the words of the next
      `loads_ahead` steps are in flight while a step computes.
    - Signs become f16 A operands in registers, never in memory. With the
      `bit_classes` decoding (at most 8 input rows, 2 or 4 words), an mma
      takes bit q of two words masked in place (`word & (1 << q |
      1 << (q + 16))`, one instruction per two weights): the f16 with only
      bit q set is a power of two c_q, so the mma adds c_q times the
      activations whose bit is 1, into an accumulator of its own; with
      their sum S, `sum(±x) = σ(S - 2 sum_q acc_q / c_q)` (bit 15, the
      sign bit, gives ±1 directly). With `bit_classes` = C below 16 only
      bits 16 - C to 15 have accumulators, and the words are also shifted
      left by C, 2C, ... (fewer registers, one shift per word and shift;
      docs/benchmarks.md compares them). With one input
      row a lane reads the B fragments of two bits with one 16-byte load.
    - With the `byte_classes` decoding (up to 2 input rows, no K split), the
      same one-tile schedule runs on the s8 tensor cores
      ("byte classes", m16n8k32, i32 sums): an mma takes bit q of every
      byte of two words (`word & 0x01010101 << q`, one instruction per four
      weights, 2^q or -128 as s8) and twice the weights of an f16 one. The
      activations become integers: per chunk of K, each input row of x * g
      is scaled so that its largest magnitude is just under 2^22, rounded
      (one fma with 1.5·2^23; the only error, 2^-23 of that magnitude,
      below the f16 rounding of x * g), and split into three signed
      base-256 digits (the bytes of the rounded bits), each a column of B.
      The i32 sums are exact; the digit columns combine across lanes into
      the f32 sum. The staging costs about 10 instructions per activation
      and block, so it is taken only where a block's warps cover all of K.
    - With `shifted_pairs`, bits p and p + 16 become ±1 with one shift and one mask-xor
      (`(word << (15 - p)) & 0x80008000 ^ 0x3C003C00`), one A operand
      serving up to 4 input-row tiles.
    - Since a dot product does not depend on the order of its terms, an
      mma's 16 "k" positions are whichever inputs the lanes hold; the block
      stages the activations in workgroup memory in that order (padded
      against bank conflicts), so that each lane reads its B fragment with
      one 8-byte load. `chunk` inputs are staged at a time (up to 48 KiB),
      synchronizing between chunks of K. With up to 8 input rows the staging evaluates
      the prologue (e.g. x * g), 8 activations at a time with 16-byte loads
      where its inputs are contiguous along K (else one at a time); with
      more, the prologue stays its own kernel (every block would evaluate
      it again) and x is staged with 16-byte loads.
    - With `direct_fragments` and 9 to 16 input rows (two tiles), nothing is
      staged: each lane loads, with its sign words and the same steps
      ahead, the 32 inputs of its word (one per row and step) of input rows
      g and 8 + g with 16-byte loads, and pairs inputs (p, p + 16) in
      registers. Every block reads all of x, from L2 and L1, but without
      barriers or chunks (docs/benchmarks.md compares it with staging).
    - The grid's y dimension walks passes of up to 32 input rows, its x
      dimension groups of output tiles. With `k_split` = 2 or 4, that many
      warps of a block share rows, splitting K, and add their sums through
      workgroup memory.
    - Each f32 sum is stored once (through the epilogue, e.g. * h and a
      cast), the zero fill of y dropped.

    A scheduled product the kernel cannot take (operands not plain static
    buffers with identity layouts, activations not f16, K not a multiple of
    `128 * words`, too many input rows for the decoding, a chunk that is
    not whole rounds of the K split, more than 48 KiB of workgroup memory)
    is an error on the product: a schedule is never dropped.

    ```mlir
    // Before (after bufferization):
    onebit.packed_sign_product ins(%x, %signs : memref<32x4096xf16>,
        memref<4096x512xi8>) outs(%y : memref<32x4096xf32>)
        packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
        schedule(#onebit.gpu_sign_mma_schedule<decoding = shifted_pairs,
          row_tiles = 2, k_split = 1, words = 4, chunk = 4096, loads_ahead = 2>)
    // After: gpu.launch blocks(...) threads(...) { ... vector.load ...
    //   nvgpu.mma.sync(...) {mmaShape = [16, 8, 16]} ... }
    ```
  }];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def OneBitGPURowReductions
    : Pass<"onebit-gpu-row-reductions", "::mlir::func::FuncOp"> {
  let summary = "Reduce each row of a linalg reduction with one thread block, "
                "with the row-local ops around it";
  let description = [{
    Runs in `onebit-cuda-pipeline` after bufferization, before loops are
    made of the remaining linalg ops, which would give each output element
    one thread that walks its whole row: a norm or a softmax over a few
    rows then runs on a few threads. Every `linalg.generic` on static
    memrefs that reduces its innermost loop, and only that one, into one
    output indexed by the other loops in order (a row reduction: the sums
    of RMSNorm and LayerNorm, softmax's max and sum), whose body combines
    the output's value once with `arith.addf`, `arith.maximumf`,
    `arith.maxnumf`, `arith.minimumf` or `arith.minnumf`, runs in a
    `gpu.launch` with a block per output element (a row):

    - the block's threads (a multiple of 32, enough for 4 elements each,
      at most 1024, or 256 with 128 rows or more) walk the row with a
      stride of the block size (coalesced loads), evaluate the body's
      other operations at each point and combine their values in f32:
      where a thread's elements are at most 16, all at once (all loads in
      flight), else 4 at a time in a loop;
    - warp shuffles combine the threads of a warp, workgroup memory the
      warps;
    - one thread combines the result with the output's value and stores
      it.

    **Row groups.** The ops of a run around such reductions (only
    allocations and views between them) join the same kernel where every
    block can run them for its row alone: `linalg.fill`s and all-parallel
    `linalg.generic`s with one output written at the identity, whose
    leading loops multiply to the reductions' row count and whose other
    loops (at most 32768 points) are the row's elements, with reductions
    of the same row count. Every access to a buffer that the group writes
    must be indexed first by the row loops, in order, over leading
    dimensions of their sizes: row r is then the r-th of equal contiguous
    pieces of that buffer in every view, and one block owns it. The block
    runs the steps in program order, a `gpu.barrier` between them. A
    LayerNorm at batch 1 (a fill and a sum for the mean, the centring, a
    fill and a sum of squares, the normalization) is then one launch
    instead of six. A run that breaks the rule keeps its reductions as
    kernels of their own and leaves the rest to the generic schedule.

    Before grouping, each candidate step moves down past the kernels
    (`gpu.launch`) after it that neither write a buffer it touches nor
    touch one it writes (buffers told apart by the allocation, argument
    or global they view), so that the norms after the q, k and v products
    meet. Within a group, steps that share no written buffer form
    independent chains: the kernel has a block per row and chain (an
    `scf.index_switch` on the block), and the chains run at once. A fill
    whose buffer the next step of its chain that touches it reduces into
    (over the same elements, not reading it) is no step of its own: the
    reduction combines its result with the fill's value instead of
    loading the output.

    **Resident rows.** Where each thread's elements of every step of a
    chain are at most 16, the steps run without loops, thread t taking
    elements t, t + B, t + 2B, ... of every row (B threads), and a
    value a step loaded or stored for one of those elements stays in a
    register for the later steps that read it: the same element of a
    buffer shaped like their loops (identity maps), or a row's only
    element (a reduction's result, which every thread holds where a fill
    gave its value before, or a buffer of one element per row). A
    LayerNorm then loads its row once and reads nothing else back. Stores
    still happen (later kernels may read the buffers).

    **Split rows.** Where the blocks (rows times chains) are few, resident
    rows share a row among up to `max-blocks-per-row` blocks, no more than
    the slots of its tail: the steps whose results no later step of the
    chain touches (a norm's scaling by its weights, the ops after it).
    Block i of a row owns slot s (elements s * B + t) where s % blocks ==
    i. Each block runs the reductions, and the steps they read, over the
    whole row from registers but stores only the slots it owns (block 0
    the reductions' results); it runs the tail for its own slots alone,
    their inputs from outside the chain loaded before the first step.
    Since no step reads back what a step stored, the steps need no barrier
    between them; the reductions take turns with two buffers of partials.
    A chain where a step would read back what another block stores (a sum
    without a fill before it, read later) keeps one block per row. At
    batch 1 the tail is most of a row's loads, which one block otherwise
    issues from one SM after its last barrier.

    Sums are reassociated (added in a tree instead of in order), which
    changes their rounding within the usual floating-point tolerance.
    Reductions over fewer than `min-row-size` elements, or with more rows
    than `max-rows`, are left to the generic schedule, as are runs without
    a reduction.

    ```mlir
    // Before: the sums of squares of 6 rows of 384 (RMSNorm)
    linalg.generic {iterator_types = ["parallel", "reduction"], ...}
        ins(%x : memref<6x384xf32>) outs(%sum : memref<6xf32>) {
    ^bb0(%in: f32, %acc: f32):
      %sq = arith.mulf %in, %in : f32
      %s = arith.addf %acc, %sq : f32
      linalg.yield %s : f32
    }
    // After: gpu.launch blocks(6, 1, 1) threads(96, 1, 1) { 4 loads ...
    //   gpu.shuffle xor ... gpu.barrier ... }
    ```
  }];
  let options = [
    Option<"minRowSize", "min-row-size", "int64_t", /*default=*/"32",
           "Shortest row worth a block">,
    Option<"maxRows", "max-rows", "int64_t", /*default=*/"65536",
           "Most rows (blocks) per reduction">,
    Option<"maxBlocksPerRow", "max-blocks-per-row", "int64_t",
           /*default=*/"16",
           "Most blocks that share a row's tail (1: a block per row)">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def OneBitGPUMergeLaunches
    : Pass<"onebit-gpu-merge-launches", "::mlir::func::FuncOp"> {
  let summary = "Run adjacent independent kernels of one name side by side "
                "in one launch";
  let description = [{
    Runs in `onebit-cuda-pipeline` twice: after the hand-built kernels
    (`onebit-gpu-sign-mma`, `onebit-gpu-row-reductions`), and after the
    other loop nests are mapped to launches (`convert-parallel-loops-to-gpu`).
    At batch 1 a small 1-bit product is a few microseconds of mostly
    latency, and the products that read the same activations (q, k and v;
    gate and up) ran one after another, as did the rotary embeddings of q
    and k. A run of `gpu.launch` ops with only data-free ops
    (allocations, views, constants) between them becomes one launch where
    they

    - carry the same kernel name (`function`, or none: mapped loop nests)
      and constant block sizes,
      with a one-dimensional constant grid, a single-block body, no async
      tokens and no dynamic workgroup memory;
    - are independent: none writes a buffer another touches (every buffer
      a launch uses from above counts as read and written; buffers are
      told apart by the allocation, argument or global they view);
    - need at most 48 KiB of workgroup memory together.

    The merged launch's grid is theirs side by side in x; each block runs
    the body of the launch it belongs to (an `scf.index_switch`, uniform
    across the block, so its barriers stay valid), with its block index
    and grid size as before. Its workgroup buffers are all of theirs.

    ```mlir
    // Before: two products of 256 blocks each
    gpu.launch blocks(...) in (%gx = %c256, ...) ... function(@onebit_sign_mma) {...}
    gpu.launch blocks(...) in (%gx = %c256, ...) ... function(@onebit_sign_mma) {...}
    // After: one launch of 512 blocks
    gpu.launch blocks(%b, ...) in (%gx = %c512, ...) ... {
      scf.index_switch %which case 0 {...} case 1 {...} }
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::gpu::GPUDialect",
    "::mlir::scf::SCFDialect",
  ];
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


#endif // ONEBIT_CODEGEN_PASSES_TD
