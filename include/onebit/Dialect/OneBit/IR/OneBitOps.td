//===- OneBitOps.td - onebit operations --------------------*- tablegen -*-===//

#ifndef ONEBIT_DIALECT_ONEBIT_IR_ONEBITOPS_TD
#define ONEBIT_DIALECT_ONEBIT_IR_ONEBITOPS_TD

include "onebit/Dialect/OneBit/IR/OneBitDialect.td"
include "onebit/Dialect/OneBit/IR/OneBitAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class OneBit_Op<string mnemonic, list<Trait> traits = []>
    : Op<OneBit_Dialect, mnemonic, traits>;

def OneBit_FloatTensor : RankedTensorOf<[F16, BF16, F32]>;
def OneBit_FloatVector : 1DTensorOf<[F16, BF16, F32]>;
def OneBit_PackedSigns : RankedTensorOf<[AnyInteger]>;

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

def OneBit_LinearOp : OneBit_Op<"linear", [Pure, AttrSizedOperandSegments]> {
  let summary = "OneBit linear layer: LN(((x ⊙ g) · Sᵀ) ⊙ h) + bias";
  let description = [{
    The linear layer of OneBit (arXiv 2402.11295), as its reference code
    computes it:

    ```
    y = LN(((x ⊙ g) · Sᵀ) ⊙ h) + bias
    ```

    - `input` `x`: `[..., K]` in f16, bf16 or f32; the result has the same
      shape with the last dimension replaced by `N`, and the same element
      type.
    - `signs` `S ∈ {−1,+1}^{N×K}`, packed as `packing` says (see
      `#onebit.sign_packing`).
    - `input_scale` `g` (`[K]`), `output_scale` `h` (`[N]`) and `bias`
      (`[N]`) are optional; an absent scale is 1, an absent bias 0. They may
      use any float type; arithmetic happens at least in the precision of
      `input`.
    - `norm_epsilon`, when present, applies a LayerNorm without affine
      parameters over the `N` outputs of each row, with that epsilon,
      before the bias is added.

    Example:

    ```mlir
    %y = onebit.linear %x, %s
           input_scale(%g : tensor<64xf16>) output_scale(%h : tensor<32xf16>)
           norm(epsilon = 1.0e-05)
           packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
           : tensor<1x64xf16>, tensor<32x8xi8> -> tensor<1x32xf16>
    ```
  }];
  let arguments = (ins
    OneBit_FloatTensor:$input,
    OneBit_PackedSigns:$signs,
    Optional<OneBit_FloatVector>:$input_scale,
    Optional<OneBit_FloatVector>:$output_scale,
    Optional<OneBit_FloatVector>:$bias,
    OneBit_SignPackingAttr:$packing,
    OptionalAttr<F32Attr>:$norm_epsilon
  );
  let results = (outs OneBit_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $signs
    (`input_scale` `(` $input_scale^ `:` type($input_scale) `)`)?
    (`output_scale` `(` $output_scale^ `:` type($output_scale) `)`)?
    (`bias` `(` $bias^ `:` type($bias) `)`)?
    (`norm` `(` `epsilon` `=` $norm_epsilon^ `)`)?
    `packing` `(` qualified($packing) `)`
    attr-dict `:` type($input) `,` type($signs) `->` type($result)
  }];
  let extraClassDeclaration = [{
    /// K: the number of inputs of the layer.
    int64_t getInFeatures();
    /// N: the number of outputs of the layer.
    int64_t getOutFeatures();
    /// Whether the LayerNorm follows the output scale.
    bool hasNorm() { return getNormEpsilon().has_value(); }
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// PackSignsOp
//===----------------------------------------------------------------------===//

def OneBit_PackSignsOp : OneBit_Op<"pack_signs", [Pure]> {
  let summary = "Packs the signs of an N×K matrix into words";
  let description = [{
    Packs `sign(input)` of an `[N, K]` tensor into the layout `packing`
    describes. An element below zero is −1; zero and above (and NaN) are +1,
    as OneBit's `sign` with 0 → +1. Folds when `input` is a constant, and
    `pack(unpack(x))` folds to `x`.

    ```mlir
    %s = onebit.pack_signs %w packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
           : tensor<32x64xf32> -> tensor<32x8xi8>
    ```
  }];
  let arguments = (ins RankedTensorOf<[AnyFloat, AnySignlessInteger]>:$input,
                       OneBit_SignPackingAttr:$packing);
  let results = (outs OneBit_PackedSigns:$result);
  let assemblyFormat = [{
    $input `packing` `(` qualified($packing) `)` attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// UnpackSignsOp
//===----------------------------------------------------------------------===//

def OneBit_UnpackSignsOp : OneBit_Op<"unpack_signs", [Pure]> {
  let summary = "Expands packed signs into an N×K matrix of ±1";
  let description = [{
    The inverse of `onebit.pack_signs`: produces the `[N, K]` matrix of
    −1.0 and +1.0 (in the result's float type) that `input` holds in the
    layout `packing` describes. `K` is the result's second dimension.
    Materialising ±1 costs 16 or 32 times the memory of the packed form:
    backends use it only where a dense matmul is the better schedule.

    ```mlir
    %w = onebit.unpack_signs %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
           : tensor<32x8xi8> -> tensor<32x64xf16>
    ```
  }];
  let arguments = (ins OneBit_PackedSigns:$input,
                       OneBit_SignPackingAttr:$packing);
  let results = (outs RankedTensorOf<[AnyFloat]>:$result);
  let assemblyFormat = [{
    $input `packing` `(` qualified($packing) `)` attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  }

//===----------------------------------------------------------------------===//
// RepackOp
//===----------------------------------------------------------------------===//

def OneBit_RepackOp : OneBit_Op<"repack", [Pure]> {
  let summary = "Changes the packed layout of a sign matrix";
  let description = [{
    Rewrites the packed signs of an `N × in_features` sign matrix from the
    layout `source` to the layout `target`; the signs are unchanged. This is
    the only way a layout changes: layout passes insert it and it folds
    away on constants, so the weight is stored in the target layout.

    ```mlir
    %t = onebit.repack %s in_features(64)
           from(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
           to(#onebit.sign_packing<word = 32, order = lsb_first, negative = 1, interleave = 4>)
           : tensor<32x8xi8> -> tensor<8x2x4xi32>
    ```
  }];
  let arguments = (ins OneBit_PackedSigns:$input,
                       ConfinedAttr<I64Attr, [IntPositive]>:$in_features,
                       OneBit_SignPackingAttr:$source,
                       OneBit_SignPackingAttr:$target);
  let results = (outs OneBit_PackedSigns:$result);
  let assemblyFormat = [{
    $input `in_features` `(` $in_features `)` `from` `(` qualified($source) `)`
    `to` `(` qualified($target) `)` attr-dict `:` type($input) `->` type($result)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

#endif // ONEBIT_DIALECT_ONEBIT_IR_ONEBITOPS_TD
