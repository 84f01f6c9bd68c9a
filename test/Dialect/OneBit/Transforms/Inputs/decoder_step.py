"""Writes small decoding steps for the onebit-resident-kv-cache tests.

decoder_step.py OUT.onnx KIND, KIND one of:
  onebit, optimum     onebit.decode.build_llama_decode, one layer, 4 query
                      heads over 2 key/value heads, cache window 16
  optimum-sdpa        the same in Optimum's form with torch's exported
                      scaled_dot_product_attention (Q and K scaled apart,
                      NaN probabilities zeroed)
  past-read-twice     an attention whose past keys also feed an output
  no-position         onebit's cache names without a 'position' input
  no-past-value       the past values under another name
  wide-position       a 'position' of two integers
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[5] / "python"))

import onnx  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402


def attention(extra_outputs, with_position=True, past_value="past_value.0",
              position_shape=(1,)):
    f = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info("q", f, [1, 2, 1, 4]),
              helper.make_tensor_value_info("k", f, [1, 2, 1, 4]),
              helper.make_tensor_value_info("v", f, [1, 2, 1, 4]),
              helper.make_tensor_value_info("past_key.0", f, [1, 2, 8, 4]),
              helper.make_tensor_value_info(past_value, f, [1, 2, 8, 4])]
    if with_position:
        inputs.append(helper.make_tensor_value_info("position", TensorProto.INT64,
                                                    list(position_shape)))
    nodes = [
        helper.make_node("Concat", ["past_key.0", "k"], ["keys"], axis=2),
        helper.make_node("Concat", [past_value, "v"], ["values"], axis=2),
        helper.make_node("Transpose", ["keys"], ["keys_t"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "keys_t"], ["scores"]),
        helper.make_node("Constant", [], ["scale"],
                         value=helper.make_tensor("scale", f, [], [0.5])),
        helper.make_node("Mul", ["scores", "scale"], ["scaled"]),
        helper.make_node("Softmax", ["scaled"], ["probs"], axis=-1),
        helper.make_node("MatMul", ["probs", "values"], ["out"]),
        helper.make_node("Identity", ["k"], ["key.0"]),
        helper.make_node("Identity", ["v"], ["value.0"]),
    ]
    outputs = [helper.make_tensor_value_info(n, f, None) for n in ["out", "key.0", "value.0"]]
    outputs += [helper.make_tensor_value_info(n, f, None) for n in extra_outputs]
    graph = helper.make_graph(nodes, "step", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])


def main(out, kind):
    if kind in ("onebit", "optimum", "optimum-sdpa"):
        from onebit import decode, models
        c = models.make_config("llama", vocab_size=32, d_model=32, n_layers=1, n_heads=4,
                               ffn=32, seq_len=8, n_kv_heads=2)
        form, _, style = kind.partition("-")
        decode.build_llama_decode(c, max_len=16, form=form, path=out,
                                  attention=style or "eager")
    elif kind == "past-read-twice":
        model = attention(["past_key.0_copy"])
        model.graph.node.append(helper.make_node("Identity", ["past_key.0"],
                                                 ["past_key.0_copy"]))
        onnx.save(model, out)
    elif kind == "no-position":
        onnx.save(attention([], with_position=False), out)
    elif kind == "no-past-value":
        onnx.save(attention([], past_value="values_in"), out)
    elif kind == "wide-position":
        onnx.save(attention([], position_shape=(2,)), out)
    else:
        raise SystemExit(f"unknown kind {kind}")


if __name__ == "__main__":
    main(*sys.argv[1:])
