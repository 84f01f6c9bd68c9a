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

    Fails with an error naming the function if it has dynamic shapes
    elsewhere.
  }];
}

#endif // ONEBIT_TARGET_PASSES_TD
