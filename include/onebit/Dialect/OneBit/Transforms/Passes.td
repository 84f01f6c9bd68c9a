//===- Passes.td - onebit transformation passes ------------*- tablegen -*-===//

#ifndef ONEBIT_DIALECT_ONEBIT_TRANSFORMS_PASSES_TD
#define ONEBIT_DIALECT_ONEBIT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def OneBitExpandLinear : Pass<"onebit-expand-linear"> {
  let summary = "Expand onebit.linear into unpacked signs and dense TOSA ops";
  let description = [{
    Rewrites every `onebit.linear` as its definition in upstream ops: the
    signs unpacked to ±1 with `onebit.unpack_signs`, `tosa.mul` by the input
    scale, a dense `tosa.matmul`, `tosa.mul` by the output scale, the
    LayerNorm as TOSA reductions, and `tosa.add` of the bias. For f16 and
    bf16 inputs the matmul accumulates and the epilogue runs in f32, and the
    result is cast back.

    This is the reference schedule, and the one for large M (prefill),
    where a dense matmul on unpacked signs is compute-bound anyway. It
    needs a static input shape.

    ```mlir
    %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
           : tensor<2x16xf32>, tensor<4x2xi8> -> tensor<2x4xf32>
    // becomes
    %w = onebit.unpack_signs %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
           : tensor<4x2xi8> -> tensor<4x16xf32>
    %wt = tosa.transpose %w {perms = array<i32: 1, 0>} ...
    %y = tosa.matmul ...
    ```
  }];
  let dependentDialects = ["::mlir::tosa::TosaDialect"];
}

def OneBitDecomposeLinear : Pass<"onebit-decompose-linear"> {
  let summary = "Decompose onebit.linear into TOSA ops around a packed-sign "
                "product";
  let description = [{
    The first step of the CPU and CUDA pipelines' lowering of
    `onebit.linear`: its product on the packed words becomes an
    `onebit.packed_sign_product` onto f32 zeros, without a schedule; g, h,
    the LayerNorm (a reduction over all N outputs) and the bias become TOSA
    ops around it, in f32, and the result is cast back to the input's
    type. The target's schedule selection (`onebit-cpu-select-schedules`,
    `onebit-gpu-select-schedules`) then chooses the product's kernel; a
    product left without one becomes a `linalg.generic` in
    `convert-onebit-to-linalg`. A dynamic input shape is an error naming the
    op.

    ```mlir
    %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
           : tensor<3x16xf32>, tensor<4x2xi8> -> tensor<3x4xf32>
    // becomes
    %xg = tosa.mul %x, %g, %shift : ...
    %zeros = linalg.fill ins(%c0 : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
    %p = onebit.packed_sign_product ins(%xg, %s : tensor<3x16xf32>, tensor<4x2xi8>)
           outs(%zeros : tensor<3x4xf32>)
           packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
           -> tensor<3x4xf32>
    %y = tosa.mul %p, %h, %shift : ...
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::tosa::TosaDialect",
  ];
}

def OneBitFuseLinear : Pass<"onebit-fuse-linear"> {
  let summary = "Fuse every ONNX encoding of a 1-bit layer into onebit.linear";
  let description = [{
    Finds the 1-bit layers of an imported model, in each encoding of
    docs/onnx-convention.md, and replaces each with one `onebit.linear`:

    - **packed**: a `tosa.matmul` whose weight is the unpack chain of packed
      bytes (reshape, `tosa.logical_right_shift` by 0..7, `tosa.bitwise_and`
      with 1, reshape, optional slice, cast to float, `1 − 2b`, transpose).
      The bytes become the layer's signs as they are: the ±1 matrix is never
      materialised. The shift order gives the bit order and the affine map
      which bit means −1.
    - **sign matrix**: a constant weight whose entries are all ±1.
    - **merged scales**: a constant weight `W'[k, n] = s_nk · RNE(g_k · h_n)`.
      g and h are recovered as docs/onnx-convention.md §5.2 says (h from
      row 0, each g_k the candidate within ±2 ulps that reproduces its row
      bit for bit); any other dense weight stays a dense matmul, never
      approximated.

    Around the layer, the patterns also fold a LayerNorm without affine
    parameters that follows it (as the importer writes it), and a constant
    per-channel bias added after it. The multiplies by g before and h after
    are folded by `onebit.linear`'s canonicalization, which this pass runs
    too.

    With `report`, each fused layer gets a remark (encoding, shape, weight
    bytes before and after) and the function a summary remark.
  }];
  let options = [
    Option<"report", "report", "bool", /*default=*/"false",
           "Emit a remark per fused layer and a summary">
  ];
  let dependentDialects = ["::mlir::onebit::OneBitDialect",
                           "::mlir::tosa::TosaDialect",
                           "::mlir::arith::ArithDialect"];
}

def OneBitInterleaveSigns : Pass<"onebit-interleave-signs"> {
  let summary = "Store constant signs 16 rows interleaved, for the CPU "
                "lookup-table kernel";
  let description = [{
    The layout decision of the CPU lookup-table kernel (see
    `convert-onebit-to-linalg`). The constant signs of every `onebit.linear`
    whose output count N is a multiple of 16 are repacked to
    `#onebit.sign_packing<word = 8, order = lsb_first, negative = ν,
    interleave = 16>`, with ν the bit value for −1 kept from the source.
    The packed tensor is then `[N/16, ceil(K/8), 16]`: the 16 bytes
    `[b, w, 0..15]` are byte `w` of rows `16b .. 16b+15`, so the low nibble
    of each holds inputs `8w .. 8w+3` and the high nibble inputs
    `8w+4 .. 8w+7` of one row, and one 16-byte load gives 16 rows' 4-bit
    indices into a table of partial sums.

    The `onebit.repack` this inserts folds on the constant at compile time,
    so the library stores the weights in the new layout (the same number
    of bytes). Signs that are not constants, and layers with N not a
    multiple of 16, keep their layout. `onebit-compile -target=cpu` runs
    this pass when the target CPU has AVX-512 (the kernel's permutes need
    it); see `--lookup-tables`.

    ```mlir
    %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
           : tensor<1x64xf32>, tensor<32x8xi8> -> tensor<1x32xf32>
    // becomes, with %t the repacked constant
    %y = onebit.linear %x, %t packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1, interleave = 16>)
           : tensor<1x64xf32>, tensor<2x8x16xi8> -> tensor<1x32xf32>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def OneBitResidentKVCache
    : Pass<"onebit-resident-kv-cache", "::mlir::ModuleOp"> {
  let summary = "Keep a decoder's key/value cache in the library: each "
                "layer's attention reads and extends it as state";
  let description = [{
    A decoding step takes the cache of its past positions as inputs and
    returns the new rows (onebit's form: `past_key.i`/`past_value.i` in,
    `key.i`/`value.i` out, a `position` input) or the extended cache
    (Hugging Face Optimum's and torch.onnx's form: `past_key_values.i.key`
    and `.value` in, `present.i.key`/`.value` = `Concat(past, new)` out,
    `attention_mask` and `position_ids` in). In every function of such a
    model, this pass:

    - matches each layer's attention: `softmax(scale · Q Kᵀ + mask) V` where
      K and V are `Concat(past, new)` along the rows, however the exporter
      moves them (reshapes, transposes, the grouped-query repeat as a tile
      of a unit dimension, casts, constant factors on Q, K or the scores);
    - replaces it by one `onebit.cached_attention` whose caches are new
      function arguments `[B, Hkv, ?, D]` marked `onebit.state` (the
      runtime allocates them per session, for as many rows as it asks for);
    - removes the cache inputs and outputs from the signature. In
      Hugging Face's form it adds a `position` input (the positions
      already in the cache): `position_ids` becomes `position + [0, T)` and
      `attention_mask` all ones;
    - marks the function `onebit.decoder_form` and `onebit.window`: the
      most positions a session may hold (`max-seq-len`, else the rows of
      onebit's static cache; 0 where the model sets no bound).

    The mask is not read: the op's mask is causal over positions that all
    exist. That is what onebit's form computes, and what a Hugging Face
    causal LM computes for one sequence without padding (the only way the
    runtime's sessions drive it). A layer whose attention does not match
    is an error naming the op where the match stopped.

    ```mlir
    // Before (onebit's form, one layer):
    %keys = tosa.concat %past_k, %k {axis = 2 : i32} : ...
    // ... transposes, matmul, scale, mask, softmax, matmul -> %context
    // After:
    %o:3 = onebit.cached_attention ins(%q, %k, %v, %position : ...)
             outs(%init, %key_state, %value_state : ...) scale(0.125) -> ...
    ```
  }];
  let options = [
    Option<"maxSeqLen", "max-seq-len", "int64_t", /*default=*/"0",
           "The window: most positions a session holds (0: from the "
           "model; onebit's form allows at most its cache rows)">,
  ];
  let dependentDialects = ["::mlir::onebit::OneBitDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::tosa::TosaDialect"];
}

#endif // ONEBIT_DIALECT_ONEBIT_TRANSFORMS_PASSES_TD
