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

    A partial conversion: an op it cannot lower (a dynamic shape) is an
    error naming it; the constants the kernels are built from are folded
    afterwards.

    `onebit.unpack_signs` becomes a `linalg.generic` producing the ±1
    matrix (used by the dense schedule of `onebit-expand-linear`), and an
    `onebit.packed_sign_product` on tensors without a schedule (one no GPU
    kernel takes) the `linalg.generic` over (m, n, k) above, added to its
    `init`.

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
    (lib/Conversion/OneBitToGPU): the product becomes an
    `onebit.packed_sign_product` onto f32 zeros, whose kernel
    `onebit-gpu-select-schedules` chooses (`onebit-gpu-sign-mma`,
    `onebit-gpu-sign-gemv`, or one thread per output through
    `convert-onebit-to-linalg`). g, h, the LayerNorm (a reduction over all
    N outputs, its own kernel) and the bias become TOSA ops around it.
    `onebit.unpack_signs` is left to `convert-onebit-to-linalg`.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::tosa::TosaDialect",
  ];
}

#endif // ONEBIT_CONVERSION_PASSES_TD
