//===- Passes.td - onebit conversion passes ----------------*- tablegen -*-===//

#ifndef ONEBIT_CONVERSION_PASSES_TD
#define ONEBIT_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertOneBitToLinalg : Pass<"convert-onebit-to-linalg"> {
  let summary = "Lower onebit ops to linalg and the CPU kernels on packed "
                "words";
  let description = [{
    Lowers what is left of the onebit dialect on tensors; the ±1 matrix
    never exists.

    - An `onebit.packed_sign_product` with a CPU schedule
      (`onebit-cpu-select-schedules`) becomes the kernel it names, built
      exactly as the schedule says (its fields are documented with the
      attributes), onto its `init` (a zero fill is dropped, any other
      init added). The activations are cast to f32 and zero-padded to
      whole bytes first. A schedule the product cannot take (a layout the
      kernel does not read, sizes that its blocks do not divide, a sum that
      is not f32) is an error naming the op.
      - `#onebit.cpu_sign_lookup_schedule` (bytes, LSB first, 16 rows
        interleaved: `onebit-interleave-signs`'s layout): for each tile of
        input rows, a table buffer `[rows, 2 ceil(K/8), 16]` receives, for
        each input row and group of 4 inputs, the 16 sums ±x₀ ±x₁ ±x₂ ±x₃,
        entry i with the signs that the 4 bits of i stand for. Then an
        `scf.forall` over blocks of `index_vectors` index vectors of 16
        output rows walks the packed bytes: a step loads the 16 bytes
        `[v, w, 0..15]` of each index vector, zero-extends them to
        `vector<16xi32>` (low nibble: the index into group 2w's table;
        shifted right by 4: group 2w + 1) and adds `vector.gather`s of the
        tables' rows at those indices into one accumulator per (input row,
        index vector). After bufferization `onebit-gather-to-permute` turns
        each gather into one AVX-512 `vpermps`.
      - `#onebit.cpu_sign_vector_schedule` (OneBit's bytes, no
        interleave): each tile of input rows is an `scf.forall` over blocks
        of `block_rows` output rows (on all cores once lowered to OpenMP)
        that walks the packed rows `chunk_bytes` bytes a step with one
        vector accumulator per (input row, output row). A step loads each
        row's bytes once and `vector.bitcast`s them to `vector<16xi1>`,
        which selects -1 or 1; every input row of the tile then
        multiplies-adds that ±1 vector into its accumulator (an FMA, which
        rounds like the add of ±x), so a packed row is read and decoded once
        per tile. With `masked_adds`, an (input row, output row)
        accumulator instead adds `x` only in the lanes of the set bits
        (`select(mask, acc + x, acc)`) beside each input row's plain sum of
        `x`; Σ ±x is then the sum minus twice the masked sum (a set bit
        meaning -1), or twice the masked sum minus the sum. Several tiles
        loop in an `scf.for` outside the `scf.forall`.
    - An `onebit.packed_sign_product` on tensors without a schedule: a
      `linalg.generic` over (m, n, k) that extracts bit k of row n as
      `#onebit.sign_packing` places it, added to its `init`. One with a
      GPU schedule, or on buffers, is left to the GPU kernel passes.
    - `onebit.linear`: decomposed as `onebit-decompose-linear` does, its
      product (unscheduled) then the `linalg.generic` above.
    - `onebit.unpack_signs`: a `linalg.generic` producing the ±1 matrix
      (used by the dense schedule of `onebit-expand-linear`).

    A partial conversion: an op it cannot lower (a dynamic shape) is an
    error naming it; the constants the kernels are built from are folded
    afterwards.

    ```mlir
    %y = onebit.packed_sign_product ins(%x, %s : tensor<2x64xf32>, tensor<32x8xi8>)
           outs(%zeros : tensor<2x32xf32>)
           packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
           schedule(#onebit.cpu_sign_vector_schedule<tile_rows = 2, block_rows = 8,
                    chunk_bytes = 2, masked_adds = true>) -> tensor<2x32xf32>
    // becomes, per block of rows and chunk of 16 inputs, for input row m
    // and output row n:
    %b    = vector.transfer_read %s[%n, %kb] : tensor<32x8xi8>, vector<2xi8>
    %neg  = vector.bitcast %b : vector<2xi8> to vector<16xi1>
    %xs   = vector.transfer_read %x[%m, %k] : tensor<2x64xf32>, vector<16xf32>
    %add  = arith.addf %acc, %xs : vector<16xf32>
    %acc1 = arith.select %neg, %add, %acc : vector<16xi1>, vector<16xf32>
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

#endif // ONEBIT_CONVERSION_PASSES_TD
