//===- Passes.td - onebit conversion passes ----------------*- tablegen -*-===//

#ifndef ONEBIT_CONVERSION_PASSES_TD
#define ONEBIT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertOneBitToLinalg : Pass<"convert-onebit-to-linalg"> {
  let summary = "Lower onebit ops to CPU kernels on packed words";
  let description = [{
    Lowers `onebit.linear` to a kernel that reads the packed sign words
    directly; the ±1 matrix never exists. g, h, the LayerNorm and the bias
    become TOSA ops around it (lowered by `tosa-to-linalg`), in f32.

    - Bytes, LSB first, 16 rows interleaved (`onebit-interleave-signs`'s
      layout): the lookup-table kernel. Input rows go in tiles of at most
      6 (as even as possible). For each tile, a table buffer
      `[rows, 2 ceil(K/8), 16]` receives, for each input row and group of
      4 inputs, the 16 sums ±x₀ ±x₁ ±x₂ ±x₃, entry i with the signs that
      the 4 bits of i stand for (4 multiply-adds of broadcast activations
      with constant sign patterns). Then an `scf.forall` over blocks of 4
      (one input row) or 2 index vectors of 16 output rows walks the packed
      bytes: a step loads the 16 bytes `[v, w, 0..15]` of each index
      vector, zero-extends them to `vector<16xi32>` (low nibble: the index
      into group 2w's table; shifted right by 4: group 2w + 1) and adds
      `vector.gather`s of the tables' rows at those indices (masked to 4
      bits) into one accumulator per (input row, index vector). After
      bufferization `onebit-gather-to-permute` turns each gather into one
      AVX-512 `vpermps`: two permutes and two adds per 8 weights of 16 rows.
    - OneBit's bytes (`word = 8, order = lsb_first`, no interleave): a
      vector kernel. Input rows go in tiles: a decode batch (up to 8 rows)
      is one tile, a larger batch tiles of at most 6 rows in an `scf.for`.
      Each tile is an `scf.forall` over blocks of 4 (or 2) output rows
      (8 for one or two input rows)
      (parallel, on all cores once lowered to OpenMP) that walks the packed
      rows 2 (or 1) bytes at a time with one vector accumulator per (input
      row, output row). A step loads each row's bytes once and
      `vector.bitcast`s them to `vector<16xi1>`, which selects -1 or 1; every
      input row of the tile then multiplies-adds that ±1 vector into its
      accumulator (an FMA, which rounds like the add of ±x). So a packed row
      is read and decoded once per tile, not once per input row. A tile of
      one or two input rows instead adds `x` into an (input row, output
      row) accumulator only in the lanes of the output row's set bits
      (`select(mask, acc + x, acc)`: one masked add on AVX-512) and keeps
      each input row's plain sum of `x`; Σ ±x is then the sum minus twice
      the masked sum (a set bit meaning -1), or twice the masked sum minus
      the sum (meaning +1). The activations
      are zero-padded to whole bytes; each block writes its outputs into the
      shared result in place.
    - Any other layout: a `linalg.generic` over (m, n, k) that extracts bit
      k of row n as `#onebit.sign_packing` places it.

    `onebit.unpack_signs` becomes a `linalg.generic` producing the ±1
    matrix (used by the dense schedule of `onebit-expand-linear`).

    ```mlir
    %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
           : tensor<2x64xf32>, tensor<32x8xi8> -> tensor<2x32xf32>
    // becomes, per block of rows, chunk of 16 inputs and (for a tile of
    // several input rows) pair of input row m and output row n:
    %b    = vector.transfer_read %s[%n, %kb] : tensor<32x8xi8>, vector<2xi8>
    %neg  = vector.bitcast %b : vector<2xi8> to vector<16xi1>
    %sign = arith.select %neg, %minus_ones, %ones : vector<16xi1>, vector<16xf32>
    %xs   = vector.transfer_read %x[%m, %k] : tensor<2x64xf32>, vector<16xf32>
    %acc1 = vector.fma %xs, %sign, %acc : vector<16xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::tosa::TosaDialect",
  ];
}

def ConvertOneBitToGPU : Pass<"convert-onebit-to-gpu"> {
  let summary = "Lower onebit.linear for GPU kernels (onebit-cuda-pipeline)";
  let description = [{
    Lowers `onebit.linear` for `onebit-cuda-pipeline`
    (lib/Conversion/OneBitToGPU): the product reads the packed sign words
    in a `linalg.generic` over (m, n, k) whose parallel dimensions (m, n)
    become the threads of one kernel, each summing `±x[m, k]` in f32 with
    the sign taken from its bit. Products with at most 4 input rows
    (decode) and word-8 LSB-first packing with K a multiple of 32 are
    marked `onebit.sign_gemv` for `onebit-gpu-sign-gemv`; products with f16
    activations, at least `mma-min-rows` input rows, K a multiple of 128
    and the same packing are marked `onebit.sign_mma` for
    `onebit-gpu-sign-mma` (tensor cores) instead. g, h, the LayerNorm (a reduction over all
    N outputs, its own kernel) and the bias become TOSA ops around it.
    `onebit.unpack_signs` is left to `convert-onebit-to-linalg`.
  }];
  let options = [
    Option<"mmaMinRows", "mma-min-rows", "int64_t", /*default=*/"1",
           "Fewest input rows of an f16 product for the tensor-core kernel "
           "(onebit-gpu-sign-mma)">,
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::tosa::TosaDialect",
  ];
}

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
    load per step: the 7B-shaped model's `lm_head` (4096 → 32000, 262 MB)
    took 1.5 ms on an H200.

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

def OneBitGPUMergeLaunches
    : Pass<"onebit-gpu-merge-launches", "::mlir::func::FuncOp"> {
  let summary = "Run adjacent independent kernels of one name side by side "
                "in one launch";
  let description = [{
    Runs in `onebit-cuda-pipeline` after the hand-built kernels
    (`onebit-gpu-sign-mma`, `onebit-gpu-row-reductions`). At batch 1 a
    small 1-bit product is a few microseconds of mostly latency, and the
    products that read the same activations (q, k and v; gate and up) ran
    one after another. A run of `gpu.launch` ops with only data-free ops
    (allocations, views, constants) between them becomes one launch where
    they

    - carry the same kernel name (`function`) and constant block sizes,
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
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
  ];
}

def OneBitGPUSignGemv : Pass<"onebit-gpu-sign-gemv", "::mlir::func::FuncOp"> {
  let summary = "Turn marked packed-sign products into the GPU decode kernel";
  let description = [{
    Runs in `onebit-cuda-pipeline` after bufferization. Every
    `linalg.generic` that `convert-onebit-to-gpu` marked with
    `onebit.sign_gemv` (a packed-sign product with at most 4 input rows,
    K a multiple of 32, word-8 LSB-first packing) becomes one `gpu.launch`
    shaped for memory bandwidth instead of one thread per output:

    - a row group of threads (whole warps, several per block up to 256
      threads) works on its own rows; each thread owns a fixed slice of
      32-bit sign words of every row (128 weights for M = 1, fewer for
      larger M) and keeps the matching activations in registers for the
      whole kernel, read once per block from workgroup memory where the
      block staged them with coalesced loads (when they fit in 48 KiB;
      slices rotated against bank conflicts);
    - blocks walk steps of `rows-per-step` rows per group grid-stride, one
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

    A marked product whose operands are not plain static buffers keeps its
    generic (one thread per output) and loses the mark.

    ```mlir
    // Before (after bufferization):
    linalg.generic {..., onebit.sign_gemv = #onebit.sign_packing<word = 8,
        order = lsb_first, negative = 1>}
        ins(%x, %signs : memref<1x4096xf16>, memref<4096x512xi8>)
        outs(%y : memref<1x4096xf32>) {...}
    // After: gpu.launch blocks(...) threads(...) { ... vector.load ...
    //   gpu.shuffle xor ... }
    ```
  }];
  let options = [
    Option<"rowsPerStep", "rows-per-step", "int64_t", /*default=*/"4",
           "Output rows each row group loads per step (loads in flight per thread)">,
    Option<"maxGridSize", "max-grid-size", "int64_t", /*default=*/"264",
           "Most blocks per kernel (rows are walked grid-stride)">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def OneBitGPUSignMma : Pass<"onebit-gpu-sign-mma", "::mlir::func::FuncOp"> {
  let summary = "Turn marked packed-sign products into a tensor-core kernel";
  let description = [{
    Runs in `onebit-cuda-pipeline` after bufferization. Every
    `linalg.generic` that `convert-onebit-to-gpu` marked with
    `onebit.sign_mma` (a packed-sign product with f16 activations, K a
    multiple of 128, word-8 LSB-first packing) becomes one `gpu.launch`
    whose warps multiply on the tensor cores (`nvgpu.mma.sync`, m16n8k16,
    f16 inputs, f32 accumulators): the signs are the A operand (16 output
    rows by 16 inputs), the activations the B operand (16 inputs by 8
    input rows).

    - A warp owns `row-tiles` tiles of 16 output rows; lane (g, t) loads
      the same W words (W = 4, 2 or 1, as K allows) of rows g and g + 8 of
      each per step, the four lanes of a row 16·W contiguous bytes; the
      words of the next `loads-ahead` steps are in flight while a step
      computes.
    - Signs become f16 A operands in registers, never in memory. With at
      most 8 input rows and K a multiple of 256 ("bit classes"), an mma
      takes bit q of two words masked in place (`word & (1 << q |
      1 << (q + 16))`, one instruction per two weights): the f16 with only
      bit q set is a power of two c_q, so the mma adds c_q times the
      activations whose bit is 1, into an accumulator of its own; with
      their sum S, `sum(±x) = σ(S - 2 sum_q acc_q / c_q)` (bit 15, the
      sign bit, gives ±1 directly). With `bit-classes` = C below 16 only
      bits 16 - C to 15 have accumulators, and the words are also shifted
      left by C, 2C, ... (fewer registers, one shift per word and shift;
      measured slower on the H200, see docs/benchmarks.md). With one input
      row a lane reads the B fragments of two bits with one 16-byte load.
    - With up to 2 input rows, no K split (below) and `int8-activations`
      (the default), the same one-tile schedule runs on the s8 tensor cores
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
    - Otherwise ("shifted pairs"), bits p
      and p + 16 become ±1 with one shift and one mask-xor
      (`(word << (15 - p)) & 0x80008000 ^ 0x3C003C00`), one A operand
      serving up to 4 input-row tiles.
    - Since a dot product does not depend on the order of its terms, an
      mma's 16 "k" positions are whichever inputs the lanes hold; the block
      stages the activations in workgroup memory in that order (padded
      against bank conflicts), so that each lane reads its B fragment with
      one 8-byte load. Up to 48 KiB are staged at a time, synchronizing
      between chunks of K. With up to 8 input rows the staging evaluates
      the prologue (e.g. x * g), 8 activations at a time with 16-byte loads
      where its inputs are contiguous along K (else one at a time); with
      more, the prologue stays its own kernel (every block would evaluate
      it again) and x is staged with 16-byte loads.
    - With `direct-fragments` and 9 to 16 input rows (two tiles), nothing is
      staged: each lane loads, with its sign words and the same steps
      ahead, the 32 inputs of its word (one per row and step) of input rows
      g and 8 + g with 16-byte loads, and pairs inputs (p, p + 16) in
      registers. Every block reads all of x, from L2 and L1, but without
      barriers or chunks (off by default: not yet run on a GPU).
    - The grid's y dimension walks passes of up to 32 input rows, its x
      dimension groups of output tiles. Where that gives fewer than
      `min-grid-size` blocks, the block's 4 warps split K instead of rows
      and add their sums through workgroup memory.
    - Each f32 sum is stored once (through the epilogue, e.g. * h and a
      cast), the zero fill of y dropped.

    A marked product whose operands are not plain static buffers keeps its
    generic (one thread per output) and loses the mark.

    ```mlir
    // Before (after bufferization):
    linalg.generic {..., onebit.sign_mma = #onebit.sign_packing<word = 8,
        order = lsb_first, negative = 1>}
        ins(%x, %signs : memref<16x4096xf16>, memref<4096x512xi8>)
        outs(%y : memref<16x4096xf32>) {...}
    // After: gpu.launch blocks(...) threads(...) { ... vector.load ...
    //   nvgpu.mma.sync(...) {mmaShape = [16, 8, 16]} ... }
    ```
  }];
  let options = [
    Option<"rowTiles", "row-tiles", "int64_t", /*default=*/"0",
           "Tiles of 16 output rows per warp (0: 1 for up to 8 input rows, "
           "else 2)">,
    Option<"minGridSize", "min-grid-size", "int64_t", /*default=*/"264",
           "Fewest blocks before the warps of a block split K">,
    Option<"bitClasses", "bit-classes", "int64_t", /*default=*/"16",
           "Bit classes (accumulators) of the one-tile schedule: 16, or 8, "
           "4, 2 with the words also shifted by multiples of it">,
    Option<"loadsAhead", "loads-ahead", "int64_t", /*default=*/"2",
           "Steps whose sign words each lane has in flight (1..8)">,
    Option<"int8Activations", "int8-activations", "bool", /*default=*/"true",
           "Up to 2 input rows and no K split: activations as int8 digits "
           "on the s8 tensor cores (m16n8k32) instead of f16 bit classes">,
    Option<"directFragments", "direct-fragments", "bool", /*default=*/"false",
           "9 to 16 input rows: each lane loads its B fragments from global "
           "memory with its sign words instead of the block staging the "
           "activations in workgroup memory (not yet run on a GPU)">,
  ];
  let dependentDialects = [
    "::mlir::gpu::GPUDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::nvgpu::NVGPUDialect",
    "::mlir::NVVM::NVVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect",
  ];
}

def OneBitFuseElementwise : Pass<"onebit-fuse-elementwise"> {
  let summary = "Elementwise fusion of linalg ops that keeps marked products whole";
  let description = [{
    `linalg-fuse-elementwise-ops` with upstream's default policy (fuse a
    producer with a single use, fold reshapes by expansion, constant-fold),
    except that a product marked `onebit.sign_gemv` or `onebit.sign_mma` by
    `convert-onebit-to-gpu` is neither fused into nor fused away: upstream
    would fold the producers of its activations into a new generic without
    the mark, and `onebit-gpu-sign-gemv` or `onebit-gpu-sign-mma` would not
    see it. Used by
    `onebit-cuda-pipeline` in place of the upstream pass.
  }];
  let dependentDialects = [
    "::mlir::affine::AffineDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
  ];
}

#endif // ONEBIT_CONVERSION_PASSES_TD
