//===- OneBitAttrs.td - onebit attributes ------------------*- tablegen -*-===//

#ifndef ONEBIT_DIALECT_ONEBIT_IR_ONEBITATTRS_TD
#define ONEBIT_DIALECT_ONEBIT_IR_ONEBITATTRS_TD

include "onebit/Dialect/OneBit/IR/OneBitDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def OneBit_BitOrder : I32EnumAttr<"BitOrder", "order of sign bits in a word", [
    I32EnumAttrCase<"LSBFirst", 0, "lsb_first">,
    I32EnumAttrCase<"MSBFirst", 1, "msb_first">
  ]> {
  let cppNamespace = "::mlir::onebit";
  let genSpecializedAttr = 0;
}

def OneBit_SignPackingAttr : AttrDef<OneBit_Dialect, "SignPacking"> {
  let mnemonic = "sign_packing";
  let summary = "How a sign matrix S ∈ {−1,+1}^{N×K} is packed into integer words";
  let description = [{
    Describes the storage of the sign matrix `S` of a linear layer with `N`
    outputs and `K` inputs. `W = ceil(K / word)` words hold one row.

    Parameters:
    - `word` (8, 16, 32 or 64): bits per storage word; the packed tensor's
      element type is an integer of exactly this width.
    - `order`: `lsb_first` puts input index `k` of a word at bit
      `k mod word` counted from the least significant bit; `msb_first`
      counts from the most significant bit.
    - `negative` (0 or 1): the bit value that stands for −1; the other one
      stands for +1.
    - `interleave` (default 1, then not printed): rows stored together. With `interleave = 1`
      the packed tensor is `[N, W]` and element `[n, w]` is word `w` of row
      `n`. With `interleave = R > 1` (`N` a multiple of `R`) it is
      `[N/R, W, R]` and element `[n / R, w, n mod R]` is word `w` of row
      `n`, so one vector load reads the same word of `R` consecutive rows.

    When `K` is not a multiple of `word`, the unused bits of a row's last
    word are 0 and every reader ignores them.

    Worked example: OneBit's own checkpoints are
    `#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>`.
    The row `S[n, 0..9] = [+1, −1, −1, +1, +1, +1, +1, −1, −1, +1]` (K = 10)
    is stored as the two bytes `[0b10000110, 0b00000001]` = `[0x86, 0x01]`:
    inputs 1, 2 and 7 are negative in the first byte, input 8 in the second;
    bits 2..7 of the second byte are padding.
  }];
  let parameters = (ins
    "unsigned":$word,
    "::mlir::onebit::BitOrder":$order,
    "unsigned":$negative,
    DefaultValuedParameter<"unsigned", "1">:$interleave
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Words per row for `inFeatures` inputs.
    int64_t getWordsPerRow(int64_t inFeatures) const;
    /// The packed tensor shape for an N x K sign matrix.
    ::llvm::SmallVector<int64_t> getPackedShape(int64_t outFeatures,
                                                 int64_t inFeatures) const;
    /// OneBit's checkpoint layout: bytes, LSB first, bit 1 means -1.
    static SignPackingAttr getOneBitDefault(::mlir::MLIRContext *context);
  }];
}


//===----------------------------------------------------------------------===//
// Kernel schedules
//===----------------------------------------------------------------------===//

def OneBit_CPUAttentionScheduleAttr
    : AttrDef<OneBit_Dialect, "CPUAttentionSchedule"> {
  let mnemonic = "cpu_attention_schedule";
  let summary = "How the CPU kernel of onebit.cached_attention walks the cache";
  let description = [{
    Chosen for each `onebit.cached_attention` by `onebit-cpu-select-schedules`
    and read by `onebit-cpu-attention`, which builds the loop nest:

    - `row_block`: cache rows scored together. Their scores form one
      vector, whose maximum and exponentials are vector operations; the
      running maximum and sum (online softmax) are updated once per block.
      Rows past the last whole block are scored one at a time.
    - `query_tile`: queries of one key/value head scored together, so each
      key and value row is loaded once for all of them (grouped-query
      heads and, in a prefill, consecutive positions). An `scf.forall`
      over (batch, key/value head, query tile) spreads the work over the
      threads.

    ```mlir
    #onebit.cpu_attention_schedule<row_block = 16, query_tile = 4>
    ```
  }];
  let parameters = (ins "int64_t":$row_block, "int64_t":$query_tile);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def OneBit_GPUAttentionScheduleAttr
    : AttrDef<OneBit_Dialect, "GPUAttentionSchedule"> {
  let mnemonic = "gpu_attention_schedule";
  let summary = "How the GPU kernel of onebit.cached_attention splits the cache";
  let description = [{
    Chosen for each `onebit.cached_attention` by `onebit-gpu-select-schedules`
    and read by `onebit-gpu-attention` (split-K or "flash decoding"):

    - `splits`: blocks that share one key/value head's cache rows, each
      taking an equal share of the rows that exist at run time (the
      position is read on the device, so one launch serves every
      position). Each block writes a partial maximum, sum and weighted
      sum of values per query; a second kernel combines the splits.
    - `warps`: warps per block; each warp walks its own rows of the block's
      share with an online softmax, and the warps combine through
      workgroup memory.
    - `lanes_per_row`: lanes that hold one row of keys or values, 8
      elements (16 bytes of f16) each: the head dimension is
      `8 * lanes_per_row`, and a warp handles `32 / lanes_per_row` rows
      per step.
    - `rows_in_flight`: rows each lane loads before it scores the first of
      them (a step of a warp covers `rows_in_flight * 32 / lanes_per_row`
      rows): loads in flight hide the memory's latency.

    ```mlir
    #onebit.gpu_attention_schedule<splits = 16, warps = 4, lanes_per_row = 16,
                                   rows_in_flight = 4>
    ```
  }];
  let parameters = (ins "int64_t":$splits, "int64_t":$warps,
                        "int64_t":$lanes_per_row, "int64_t":$rows_in_flight);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def OneBit_SignDecoding : I32EnumAttr<"SignDecoding",
    "how the tensor-core kernel turns sign bits into mma operands", [
    I32EnumAttrCase<"ShiftedPairs", 0, "shifted_pairs">,
    I32EnumAttrCase<"BitClasses", 1, "bit_classes">,
    I32EnumAttrCase<"ByteClasses", 2, "byte_classes">
  ]> {
  let cppNamespace = "::mlir::onebit";
  let genSpecializedAttr = 0;
}

def OneBit_GPUSignMmaScheduleAttr
    : AttrDef<OneBit_Dialect, "GPUSignMmaSchedule"> {
  let mnemonic = "gpu_sign_mma_schedule";
  let summary = "How the tensor-core kernel of a packed-sign product runs";
  let description = [{
    Chosen for an `onebit.packed_sign_product` (its `schedule`) by
    `onebit-gpu-select-schedules` and read by `onebit-gpu-sign-mma`. A block has 4 warps; each warp computes
    tiles of 16 output rows x 8 input rows with `mma.sync` (m16n8k16 f16,
    or m16n8k32 s8), its lanes loading `words` 32-bit sign words of each of
    their rows per step (4 lanes share a row: a step covers
    `4 * 32 * words` inputs).

    - `decoding`: how sign bits become the A operand.
      `shifted_pairs`: bits p and p + 16 of a word shifted to the two f16
      sign bits and xor-ed with a pair of 1.0 (two instructions per pair).
      `bit_classes`: each bit q masked in place (the f16 2^e_q or 0, one
      instruction per pair) into an accumulator of its own class, the sum
      of x completing sum(±x); one input-row and one output-row tile, at
      least 2 words. `byte_classes`: bit q of each byte masked in place (the
      s8 2^q or 0), the activations as 3 signed base-256 digits on the s8
      tensor cores; at most 2 input rows, no K split.
    - `row_tiles` (1..4): tiles of 16 output rows per warp, sharing each B
      fragment (1 with `bit_classes` and `byte_classes`).
    - `k_split` (1, 2 or 4): warps of a block that share rows, each taking
      every `k_split`-th step; the others hand their sums to the first
      through workgroup memory.
    - `words` (1, 2 or 4): sign words per lane, row and step; K must be a
      multiple of `128 * words`.
    - `chunk`: inputs staged in workgroup memory at a time (whole rounds of
      the K split, or all of K); with `direct_fragments`, K.
    - `loads_ahead` (1..8): steps whose sign words are in flight per lane.
    - `bit_classes` (`bit_classes` decoding only: 2, 4, 8 or 16): the top C
      bits of each half-word are classes; the word is also shifted by C,
      2C, ... so that every bit passes through one.
    - `direct_fragments` (`shifted_pairs` with 9 to 16 input rows and one
      word only): each lane loads its B fragments from x in global memory
      with its sign words instead of the block staging x.

    The grid follows: one block per `4 / k_split * row_tiles` tiles of
    output rows, and grid y walks passes of up to 32 input rows.
    `onebit-gpu-sign-mma` refuses a schedule its product cannot take (K,
    rows or workgroup memory), naming the product.

    ```mlir
    #onebit.gpu_sign_mma_schedule<decoding = bit_classes, row_tiles = 1,
        k_split = 4, words = 4, chunk = 4096, loads_ahead = 2,
        bit_classes = 16>
    ```
  }];
  let parameters = (ins
    "::mlir::onebit::SignDecoding":$decoding,
    "int64_t":$row_tiles,
    "int64_t":$k_split,
    "int64_t":$words,
    "int64_t":$chunk,
    "int64_t":$loads_ahead,
    DefaultValuedParameter<"int64_t", "0">:$bit_classes,
    DefaultValuedParameter<"bool", "false">:$direct_fragments
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def OneBit_GPUSignGemvScheduleAttr
    : AttrDef<OneBit_Dialect, "GPUSignGemvSchedule"> {
  let mnemonic = "gpu_sign_gemv_schedule";
  let summary = "How the CUDA-core decode kernel of a packed-sign product runs";
  let description = [{
    Chosen for a packed-sign product with at most 4 input rows by
    `onebit-gpu-select-schedules` (an `onebit.packed_sign_product`'s
    `schedule`) and read by `onebit-gpu-sign-gemv`. A row group of threads covers one
    output row: each thread `words` 32-bit sign words of it (K / (32 *
    words) threads, at most 1024, rounded up to whole warps), the groups
    filling a block of about 256 threads.

    - `words` (1, 2 or 4): sign words per thread and row; K must be a
      multiple of `32 * words`.
    - `rows_per_step` (1..8): output rows each row group loads per step.
    - `grid_size`: blocks; each walks the output rows grid-stride.
    - `staged`: the block stages the activations in workgroup memory (up to
      48 KiB) instead of each thread loading its own from global memory.

    ```mlir
    #onebit.gpu_sign_gemv_schedule<words = 4, rows_per_step = 4,
        grid_size = 264, staged = true>
    ```
  }];
  let parameters = (ins "int64_t":$words, "int64_t":$rows_per_step,
                        "int64_t":$grid_size, "bool":$staged);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def OneBit_CPUSignVectorScheduleAttr
    : AttrDef<OneBit_Dialect, "CPUSignVectorSchedule"> {
  let mnemonic = "cpu_sign_vector_schedule";
  let summary = "How the CPU vector kernel of a packed-sign product runs";
  let description = [{
    Chosen by `onebit-cpu-select-schedules` for an
    `onebit.packed_sign_product` on OneBit's bytes (`word = 8, order =
    lsb_first`, no interleave) and read by `convert-onebit-to-linalg`,
    which builds the kernel:

    - `tile_rows`: most input rows of a tile; the M input rows are cut as
      evenly as possible into ceil(M / `tile_rows`) tiles. A chunk of
      signs is read and decoded once per tile, for all its rows.
    - `block_rows`: output rows of one `scf.forall` iteration (OpenMP over
      N), one vector accumulator per (input row, output row); N must be a
      multiple.
    - `chunk_bytes` (1 or 2): packed bytes per step, `8 * chunk_bytes`
      activations, one `vector<(8 * chunk_bytes)xf32>` per input row;
      K / 8 must be a multiple.
    - `masked_adds`: each (input row, output row) accumulator adds `x` in
      the lanes of the set bits only (`select(mask, acc + x, acc)`), beside
      each input row's plain sum of `x`; without it, every input row
      multiplies-adds a ±1 vector that the block's chunk selects once.

    ```mlir
    #onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 8,
        chunk_bytes = 2, masked_adds = true>
    ```
  }];
  let parameters = (ins "int64_t":$tile_rows, "int64_t":$block_rows,
                        "int64_t":$chunk_bytes, "bool":$masked_adds);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def OneBit_CPUSignLookupScheduleAttr
    : AttrDef<OneBit_Dialect, "CPUSignLookupSchedule"> {
  let mnemonic = "cpu_sign_lookup_schedule";
  let summary = "How the CPU lookup-table kernel of a packed-sign product runs";
  let description = [{
    Chosen by `onebit-cpu-select-schedules` for an
    `onebit.packed_sign_product` whose signs are bytes, lowest input first,
    16 rows interleaved (`onebit-interleave-signs`), and read by
    `convert-onebit-to-linalg`, which builds the kernel:

    - `tile_rows`: most input rows of a tile; the M input rows are cut as
      evenly as possible into ceil(M / `tile_rows`) tiles. A tile fills a
      table of the 16 sums ±x₀ ±x₁ ±x₂ ±x₃ for each of its rows and group of
      4 inputs, then streams every packed row once.
    - `index_vectors` (1, 2 or 4): loads of 16 interleaved output rows per
      `scf.forall` iteration, one accumulator per (input row, index
      vector); N / 16 must be a multiple.

    ```mlir
    #onebit.cpu_sign_lookup_schedule<tile_rows = 1, index_vectors = 4>
    ```
  }];
  let parameters = (ins "int64_t":$tile_rows, "int64_t":$index_vectors);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

def OneBit_IndexCheckAttr : AttrDef<OneBit_Dialect, "IndexCheck"> {
  let mnemonic = "index_check";
  let summary = "Indices from the model's inputs that the runtime checks";
  let description = [{
    A gather whose indices come from the model's inputs (token ids,
    positions) would read outside its data for an index out of range. The
    importer replaces such indices by 0 before the gather and computes, for
    each index, 0 or the index itself if it lies outside
    [-`dim`, `dim`). The entry function returns these values of all checks,
    concatenated in order, as its last result, whose
    `onebit.index_checks` result attribute lists one `index_check` per
    segment:

    - `dim`: the size of the dimension indexed;
    - `count`: how many indices the segment holds;
    - `what`: the ONNX node and the indices, for the error message.

    The runtime reads that result after every run (on the GPU it is copied
    back with the outputs) and fails the run with an error naming `what` and
    the first offending value; callers never see the result.

    ```mlir
    func.func @main_graph(%ids: tensor<1x4xi64>) -> (tensor<1x4x64xf32>,
        tensor<4xi64> {onebit.index_checks = [#onebit.index_check<dim = 256,
        count = 4, what = "ONNX node 'embed' (Gather): input 'input_ids'">]})
    ```
  }];
  let parameters = (ins "int64_t":$dim, "int64_t":$count,
                        "StringAttr":$what);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // ONEBIT_DIALECT_ONEBIT_IR_ONEBITATTRS_TD
