//===- OneBitOps.td - onebit operations --------------------*- tablegen -*-===//

#ifndef ONEBIT_DIALECT_ONEBIT_IR_ONEBITOPS_TD
#define ONEBIT_DIALECT_ONEBIT_IR_ONEBITOPS_TD

include "onebit/Dialect/OneBit/IR/OneBitDialect.td"
include "onebit/Dialect/OneBit/IR/OneBitAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"
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


//===----------------------------------------------------------------------===//
// CachedAttentionOp
//===----------------------------------------------------------------------===//

def OneBit_AttentionSchedule : AnyAttrOf<[OneBit_CPUAttentionScheduleAttr,
                                          OneBit_GPUAttentionScheduleAttr]>;

def OneBit_CachedAttentionOp : OneBit_Op<"cached_attention", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "Causal attention of new positions over a resident key/value "
                "cache, which it extends";
  let description = [{
    One attention layer of a decoder that keeps its keys and values between
    calls (a decoding step or a chunk of a prompt), with grouped-query heads:

    - `query` `[B, Hq, T, D]`: the T new positions' queries;
    - `key`, `value` `[B, Hkv, T, D]`: their keys and values (keys with their
      rotary embedding), `Hq` a multiple of `Hkv`: query head `h` reads
      key/value head `h / (Hq / Hkv)`;
    - `position` (one integer): `P`, the positions already in the cache;
      the new ones are `P .. P + T - 1`;
    - `mask` (optional, `[T, T]` f32): added to the scores among the new
      positions; absent, the mask is causal (position `P + t` sees the new
      positions up to its own);
    - `key_cache`, `value_cache` `[B, Hkv, S, D]`: the cache, `S` rows
      (static or dynamic: its size at run time is what the caller
      allocated);
    - `init` `[B, Hq, T, D]`: where the output goes.

    For each query `(b, h, t)` the op computes the softmax of
    `scale · (q · k)` over cache rows `0 .. P - 1` (as they were before the
    op) and the new positions (plus `mask[t, u]` for new position `u`), and
    returns the weighted sum of the matching values. Cache rows `P` and up
    are never read. It then stores the new keys and values at rows
    `P .. P + T - 1` of the caches (rows past `S` are dropped; the runtime
    refuses positions past the cache before it runs). The results are the
    output and the updated caches, tied to `init`, `key_cache` and
    `value_cache` (destination-passing style: bufferized in place, the
    cache is written where it lives). Scores, softmax and sums are
    computed in f32.

    `schedule`, once chosen by a target's selection pass, says how the
    target's kernel walks the cache (`#onebit.cpu_attention_schedule`,
    `#onebit.gpu_attention_schedule`); a kernel pass refuses an op without
    a schedule of its target.

    ```mlir
    %o, %kc, %vc = onebit.cached_attention
        ins(%q, %k, %v, %pos : tensor<1x32x1x128xf16>, tensor<1x8x1x128xf16>,
                               tensor<1x8x1x128xf16>, tensor<1xi64>)
        outs(%out, %kcache, %vcache : tensor<1x32x1x128xf16>,
                                      tensor<1x8x?x128xf16>,
                                      tensor<1x8x?x128xf16>)
        scale(0.0883883461) -> tensor<1x32x1x128xf16>, tensor<1x8x?x128xf16>,
                               tensor<1x8x?x128xf16>
    ```
  }];
  let arguments = (ins
    AnyShaped:$query,
    AnyShaped:$key,
    AnyShaped:$value,
    AnyShaped:$position,
    Optional<AnyShaped>:$mask,
    AnyShaped:$init,
    AnyShaped:$key_cache,
    AnyShaped:$value_cache,
    F32Attr:$scale,
    OptionalAttr<OneBit_AttentionSchedule>:$schedule
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `,` $position (`mask` $mask^)?
      `:` type($query) `,` type($key) `,` type($value) `,` type($position)
      (`,` type($mask)^)? `)`
    `outs` `(` $init `,` $key_cache `,` $value_cache `:` type($init) `,`
      type($key_cache) `,` type($value_cache) `)`
    `scale` `(` $scale `)` (`schedule` `(` $schedule^ `)`)?
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() {
      return MutableOperandRange(getOperation(),
                                 getOperation()->getNumOperands() - 3, 3);
    }
    /// The output, or null on buffers.
    Value getOutput() { return getResults().empty() ? Value() : getResults()[0]; }
    /// The sizes the kernels are built from (all static, by the verifier).
    struct Sizes {
      int64_t batch, heads, kvHeads, newRows, headDim;
      /// Query heads per key/value head.
      int64_t group() const { return heads / kvHeads; }
    };
    Sizes getSizes();
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// PackedSignProductOp
//===----------------------------------------------------------------------===//

def OneBit_ProductSchedule : AnyAttrOf<[OneBit_GPUSignMmaScheduleAttr,
                                        OneBit_GPUSignGemvScheduleAttr,
                                        OneBit_CPUSignVectorScheduleAttr,
                                        OneBit_CPUSignLookupScheduleAttr]>;

def OneBit_PackedSignProductOp : OneBit_Op<"packed_sign_product", [
    DestinationStyleOpInterface,
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  let summary = "x · Sᵀ on packed signs, added to `init`, for a kernel's "
                "schedule";
  let description = [{
    The product inside a 1-bit layer where a target builds a kernel of its
    own: `init[m, n] + Σ_k ±input[m, k]`, the sign of term k of output n
    read from `signs` in the layout `packing` (`input` [M, K], `init` [M, N],
    `signs` as `packing` stores an N × K matrix). `onebit-decompose-linear`
    creates it with `init` zero; the target's schedule selection records
    the kernel that runs it as `schedule`, which the kernel's builder
    reads: on the GPU (`onebit-gpu-select-schedules`)
    `#onebit.gpu_sign_mma_schedule` or `#onebit.gpu_sign_gemv_schedule`,
    built after bufferization; on the CPU (`onebit-cpu-select-schedules`)
    `#onebit.cpu_sign_vector_schedule` or `#onebit.cpu_sign_lookup_schedule`,
    built on tensors by `convert-onebit-to-linalg`. One without a schedule
    becomes a `linalg.generic` over (m, n, k) in `convert-onebit-to-linalg`
    (on the GPU, one thread per output).

    It works on tensors and on memrefs alike (destination-passing style):
    bufferization keeps it, the result living in `init`'s buffer, and
    elementwise fusion, which only fuses linalg ops, never folds into it.

    ```mlir
    %y = onebit.packed_sign_product ins(%x, %s : tensor<1x4096xf16>, tensor<4096x512xi8>)
           outs(%zero : tensor<1x4096xf32>)
           packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
           schedule(#onebit.gpu_sign_mma_schedule<decoding = bit_classes, row_tiles = 1,
                    k_split = 4, words = 4, chunk = 4096, loads_ahead = 2, bit_classes = 16>)
           -> tensor<1x4096xf32>
    ```
  }];
  let arguments = (ins
    AnyShaped:$input,
    AnyShaped:$signs,
    AnyShaped:$init,
    OneBit_SignPackingAttr:$packing,
    OptionalAttr<OneBit_ProductSchedule>:$schedule
  );
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    `ins` `(` $input `,` $signs `:` type($input) `,` type($signs) `)`
    `outs` `(` $init `:` type($init) `)`
    `packing` `(` qualified($packing) `)`
    (`schedule` `(` qualified($schedule)^ `)`)?
    attr-dict (`->` type($results)^)?
  }];
  let extraClassDeclaration = [{
    MutableOperandRange getDpsInitsMutable() { return getInitMutable(); }
    /// The sum, or null on buffers.
    Value getResult() { return getResults().empty() ? Value() : getResults()[0]; }
  }];
  let hasVerifier = 1;
}

#endif // ONEBIT_DIALECT_ONEBIT_IR_ONEBITOPS_TD
