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
    onebit-signature 2 <arguments> <outputs> <window>
    input 1:x float32 2 2 10
    output 1:y float32 2 2 4
    ```

    A decoding step (onebit-resident-kv-cache) has `state` arguments, its
    key/value caches, whose one dynamic dimension (`-1`, the rows) a
    session sets; `<window>` is the function's `onebit.window` (the most
    rows; 0: any, -1: not a decoder):

    ```
    input 9:input_ids int64 2 1 1
    input 8:position int64 1 1
    state 10:past_key.0 float32 4 1 2 -1 16
    ```

    Index checks (`#onebit.index_check`, the importer's guard of indices
    that come from the model's inputs) are the last result, a `check` line
    followed by one `index <dim> <count> <what>` line per segment; the
    runtime passes its own buffer for it and fails a run whose indices were
    out of range, naming `what` and the value:

    ```
    output 6:logits float32 3 1 1 32
    check 12:index_checks int64 1 1
    index 32000 1 65:ONNX node 'embed' (Gather): input 'input_ids'
    ```

    Fails with an error naming the function if it has dynamic shapes
    elsewhere.
  }];
}

def OneBitCopyRepeatedResults
    : Pass<"onebit-copy-repeated-results", "::mlir::func::FuncOp"> {
  let summary = "Give every repetition of a returned buffer its own copy";
  let description = [{
    A graph may list one tensor as several outputs (legal ONNX); once
    bufferized, its function returns one memref several times, which
    upstream's `buffer-results-to-out-params` does not handle, and each
    output has its own caller buffer anyway. Every repetition after the
    first becomes a `memref.alloc` filled by `memref.copy`. Runs between
    one-shot bufferization and `buffer-results-to-out-params`.

    ```mlir
    return %0, %0 : memref<2xf32>, memref<2xf32>
    // becomes
    %alloc = memref.alloc() : memref<2xf32>
    memref.copy %0, %alloc : memref<2xf32> to memref<2xf32>
    return %0, %alloc : memref<2xf32>, memref<2xf32>
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

#endif // ONEBIT_TARGET_PASSES_TD
