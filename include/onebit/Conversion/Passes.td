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

    - OneBit's bytes (`word = 8, order = lsb_first`, no interleave): a
      vector kernel. An `scf.forall` over blocks of 4 output rows (parallel,
      on all cores once lowered to OpenMP) walks each packed row 1 or 2
      bytes at a time; the bytes, `vector.bitcast` to `vector<16xi1>`,
      select `-x` or `x` for 16 activations at once (one masked sign flip
      with AVX-512), and the 4 rows keep independent accumulators. The
      activations are zero-padded to whole bytes.
    - Any other layout: a `linalg.generic` over (m, n, k) that extracts bit
      k of row n as `#onebit.sign_packing` places it.

    `onebit.unpack_signs` becomes a `linalg.generic` producing the ±1
    matrix (used by the dense schedule of `onebit-expand-linear`).

    ```mlir
    %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
           : tensor<1x64xf32>, tensor<32x8xi8> -> tensor<1x32xf32>
    // becomes, per block of rows and chunk of 16 inputs:
    %xs = vector.transfer_read %x[%m, %k] : tensor<1x64xf32>, vector<16xf32>
    %b  = vector.transfer_read %s[%n, %kb] : tensor<32x8xi8>, vector<2xi8>
    %neg = vector.bitcast %b : vector<2xi8> to vector<16xi1>
    %t  = arith.select %neg, %minus_xs, %xs : vector<16xi1>, vector<16xf32>
    %acc1 = arith.addf %acc, %t fastmath<reassoc> : vector<16xf32>
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
    the sign taken from its bit; g, h, the LayerNorm (a reduction over all
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
