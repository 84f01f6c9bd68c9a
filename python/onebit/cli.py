"""``python -m onebit {export, inspect, quantize}``."""
from __future__ import annotations

import argparse
import json
import sys

from . import __version__
from .encodings import ENCODINGS


def _encoding_arg(value: str):
    parts = [p.strip() for p in value.split(",") if p.strip()]
    for p in parts:
        if p not in ENCODINGS:
            raise argparse.ArgumentTypeError(f"unknown encoding {p!r}; choose from {', '.join(ENCODINGS)}")
    return parts[0] if len(parts) == 1 else parts


def _ints(value: str):
    return [int(v) for v in value.split(",") if v.strip()]


def _add_output_args(p):
    p.add_argument("--encoding", type=_encoding_arg, default="packed",
                   help=f"one of {', '.join(ENCODINGS)}, or a comma list: one per 1-bit "
                        "linear or one per block (default packed)")
    p.add_argument("--dtype", choices=["float32", "float16"], default="float32",
                   help="activation dtype (default float32)")
    p.add_argument("--opset", type=int, default=17, help="default-domain opset, 13..21 (default 17)")
    p.add_argument("-o", "--output", required=True, help="output .onnx path")
    p.add_argument("--external-data", action="store_true",
                   help="stream weights to <output>.data (needed above 2 GB)")
    p.add_argument("--location", help="external data file name (default <output name>.data)")
    p.add_argument("--no-layer-norm", dest="layer_norm", action="store_false",
                   help="1-bit linears without OneBit's LayerNorm")
    p.add_argument("--epsilon", type=float, default=None, help="1-bit LayerNorm epsilon (1e-5)")
    p.add_argument("--ln-no-bias-input", action="store_true",
                   help="write LayerNormalization without its (zero) bias input")
    p.add_argument("--ln-square", choices=["mul", "pow"], default="mul",
                   help="square in the opset<17 LayerNorm decomposition")
    p.add_argument("--check", action="store_true", help="run onnx.checker on the result")


def _build_kwargs(a):
    return dict(encoding=a.encoding, dtype=a.dtype, opset=a.opset, path=a.output,
                external_data=a.external_data, location=a.location,
                ln_bias_input=not a.ln_no_bias_input, ln_square=a.ln_square)


def _report(built, a):
    import onnx
    n = len(built.layers)
    print(f"wrote {a.output}: {built.arch}, {n} one-bit layers, {built.dtype.name}, "
          f"opset {built.opset}" + (" (external data)" if a.external_data else ""))
    if a.check:
        onnx.checker.check_model(a.output)
        print("onnx.checker: ok")


def cmd_export(a):
    from . import models
    over = dict(layer_norm=a.layer_norm, epsilon=a.epsilon, batch=a.batch, seq_len=a.seq_len)
    if a.arch == "mlp":
        over.update(sizes=a.sizes, activation=a.activation,
                    bias=None if a.bias is None else a.bias == "yes")
    else:
        over.update(vocab_size=a.vocab, d_model=a.d_model, n_layers=a.layers, n_heads=a.heads,
                    ffn=a.ffn, mask=a.mask)
    cfg = models.make_config(a.arch, a.preset, **over)
    built = models.build(a.arch, cfg, seed=a.seed, **_build_kwargs(a))
    _report(built, a)
    if a.verify:
        import numpy as np
        x = built.sample_input()
        y = models.run_onnxruntime(built, x)
        r = models.reference_forward(built, x)
        err = float(np.abs(y - r).max() / max(np.abs(r).max(), 1e-30))
        print(f"onnxruntime vs numpy reference: max |diff| / max |ref| = {err:.3e}")


def cmd_quantize(a):
    from .convert import quantize_state_dict
    over = {"layer_norm": a.layer_norm}
    if a.epsilon is not None:
        over["epsilon"] = a.epsilon
    if a.batch is not None:
        over["batch"] = a.batch
    built = quantize_state_dict(a.input, arch=a.arch, heads=a.heads, seq_len=a.seq_len,
                                method=a.method, config_overrides=over, **_build_kwargs(a))
    errs = getattr(built.weights, "errors", {})
    if errs:
        vals = list(errs.values())
        print(f"SVID ({a.method}) relative error over {len(vals)} layers: "
              f"mean {sum(vals) / len(vals):.4f}, min {min(vals):.4f}, max {max(vals):.4f}")
        if a.verbose:
            for k, v in errs.items():
                print(f"  {k}: {v:.4f}")
    _report(built, a)


def cmd_inspect(a):
    from .detect import find_layers, metadata_layers
    if a.metadata:
        layers = metadata_layers(a.model)
        if layers is None:
            print("no onebit.layers metadata in this model", file=sys.stderr)
            return 1
    else:
        layers = [i.as_dict() for i in find_layers(a.model, load_large=not a.no_load)]
    if a.json:
        print(json.dumps(layers, indent=1))
        return 0
    hdr = f"{'name':48} {'N':>6} {'K':>6} {'encoding':12} {'LN eps':>8} {'bias':4} {'bytes':>12}"
    print(hdr)
    print("-" * len(hdr))
    total = 0
    for l in layers:
        eps = f"{l['epsilon']:.0e}" if l.get("layer_norm") else "-"
        nb = l.get("nbytes", 0)
        total += nb
        print(f"{l['name']:48} {l['out_features']:>6} {l['in_features']:>6} {l['encoding']:12} "
              f"{eps:>8} {'yes' if l['bias'] else 'no':4} {nb:>12}")
    print(f"{len(layers)} one-bit layers, {total} bytes of 1-bit layer weights")
    return 0


def cmd_generate(a):
    import sys

    from .generate import Backend
    backend = Backend.open(a.model, a.max_len)
    prompt = list(a.prompt.encode("utf-8"))
    sampling = dict(top_k=a.top_k, temperature=a.temperature, seed=a.seed)
    # Bytes stream out as they come; a split UTF-8 character waits for the rest.
    decoder = __import__("codecs").getincrementaldecoder("utf-8")(errors="replace")
    sys.stdout.write(a.prompt)

    def show(token):
        sys.stdout.write(decoder.decode(bytes([token])))
        sys.stdout.flush()

    out = backend.generate(prompt, a.tokens, on_token=show, **sampling)
    print(decoder.decode(b"", final=True))
    how = 'greedy' if not a.top_k or a.top_k == 1 else \
        f'top-{a.top_k} at temperature {a.temperature}'
    if out.prefill_seconds is not None:
        print(f"-- {backend.name}: prompt of {len(prompt)} tokens in "
              f"{out.prefill_seconds * 1e3:.1f} ms ({out.prefill_tokens_per_second:.1f} "
              f"tokens/s), {len(out.tokens)} tokens, decode {out.decode_tokens_per_second:.1f} "
              f"tokens/s ({backend.mode}, {how})")
    else:
        print(f"-- {backend.name}: {len(out.tokens)} tokens in {out.seconds:.2f} s, "
              f"{out.tokens_per_second:.1f} tokens/s ({backend.mode}, {how})")
    if a.check:
        ref = Backend.onnxruntime(a.check, getattr(backend, "max_len", None)) \
            .generate(prompt, a.tokens, **sampling)
        same = next((i for i, (x, y) in enumerate(zip(out.tokens, ref.tokens)) if x != y),
                    None)
        if same is not None or len(out.tokens) != len(ref.tokens):
            print(f"-- onnxruntime differs from token {same}: {ref.text()!r}")
            return 1
        print(f"-- onnxruntime ({a.check}) generated the same {len(ref.tokens)} tokens "
              f"({ref.tokens_per_second:.1f} tokens/s)")
    return 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m onebit",
                                 description="OneBit reference models and ONNX encodings")
    ap.add_argument("--version", action="version", version=f"onebit {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    e = sub.add_parser("export", help="build a random (seeded) OneBit model",
                       description="Build a seeded random OneBit MLP / LLaMA / OPT model as ONNX.")
    e.add_argument("--arch", choices=["mlp", "llama", "opt"], required=True)
    e.add_argument("--preset", help="mlp-tiny, llama-tiny, llama-7b, opt-tiny, opt-125m, opt-1.3b")
    e.add_argument("--sizes", type=_ints, help="mlp: comma list of widths, e.g. 16,44,13,8")
    e.add_argument("--activation", choices=["relu", "silu", "none"], help="mlp activation")
    e.add_argument("--bias", choices=["yes", "no"], help="mlp: biases on the 1-bit linears")
    e.add_argument("--vocab", type=int, help="vocabulary size")
    e.add_argument("--d-model", type=int, help="hidden size")
    e.add_argument("--layers", type=int, help="decoder layers")
    e.add_argument("--heads", type=int, help="attention heads")
    e.add_argument("--ffn", type=int, help="MLP inner size")
    e.add_argument("--seq-len", type=int, help="static sequence length (mlp: adds a T axis)")
    e.add_argument("--batch", type=int, help="static batch size")
    e.add_argument("--mask", choices=["add", "where"], help="causal mask as Add or Where")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--verify", action="store_true",
                   help="run onnxruntime and compare with the numpy reference (small models)")
    _add_output_args(e)
    e.set_defaults(func=cmd_export)

    i = sub.add_parser("inspect", help="list a model's 1-bit layers",
                       description="Find the 1-bit layers of an ONNX model by the convention's "
                                   "patterns and print encoding, shapes and bytes.")
    i.add_argument("model")
    i.add_argument("--json", action="store_true", help="print JSON")
    i.add_argument("--metadata", action="store_true",
                   help="read the writer's onebit.layers metadata instead of matching patterns")
    i.add_argument("--no-load", action="store_true",
                   help="do not read external weight data (folded/merged layers are then missed)")
    i.set_defaults(func=cmd_inspect)

    q = sub.add_parser("quantize", help="convert an FP state dict to OneBit via SVID",
                       description="Convert a .npz/.safetensors state dict (HF LLaMA/OPT names, or "
                                   "layers.N.weight for an MLP) to a OneBit ONNX model: every "
                                   "1-bit linear by SVID (sign + rank-1 |W|).")
    q.add_argument("input", help=".npz or .safetensors")
    q.add_argument("--arch", choices=["mlp", "llama", "opt"], help="default: from tensor names")
    q.add_argument("--heads", type=int, help="attention heads (else config.json beside input)")
    q.add_argument("--seq-len", type=int, default=128)
    q.add_argument("--batch", type=int)
    q.add_argument("--method", choices=["nmf", "svd"], default="nmf")
    q.add_argument("-v", "--verbose", action="store_true", help="per-layer SVID errors")
    _add_output_args(q)
    q.set_defaults(func=cmd_quantize)

    g = sub.add_parser("generate", help="generate text with a byte-level model",
                       description="Generate bytes after a prompt with a compiled model (.so) "
                                   "or an ONNX file (run in onnxruntime): a full-sequence "
                                   "model (input_ids [1, T] -> logits [1, T, 256]) run on a "
                                   "sliding window, or a decoding step with a key/value "
                                   "cache in onebit's or Hugging Face Optimum's form "
                                   "(docs/decoding.md); a library that keeps the cache "
                                   "runs as a session. Tokens stream as they come; "
                                   "prefill and decode speeds are printed apart.")
    g.add_argument("model", help="compiled library (.so) or .onnx")
    g.add_argument("--prompt", required=True)
    g.add_argument("--tokens", type=int, default=200, help="bytes to generate")
    g.add_argument("--top-k", type=int, help="sample among the k most likely bytes "
                   "(default: greedy)")
    g.add_argument("--temperature", type=float, default=1.0)
    g.add_argument("--seed", type=int, default=0, help="seed of top-k sampling")
    g.add_argument("--max-len", type=int,
                   help="a decoder's positions, prompt included (default: its window; "
                        "needed for an ONNX file in Hugging Face's form: "
                        "--max-len 2048)")
    g.add_argument("--check", metavar="ONNX",
                   help="also generate with onnxruntime on this ONNX file (stepping a "
                        "decoder token by token in its form) and fail unless "
                        "the tokens are the same")
    g.set_defaults(func=cmd_generate)
    return ap


def main(argv=None) -> int:
    a = parser().parse_args(argv)
    if a.command != "generate":
        return a.func(a) or 0
    from .runtime import RuntimeError_
    errors = (ValueError, RuntimeError_, OSError)
    try:
        from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument
        errors += (Fail, InvalidArgument)
    except ImportError:
        pass
    try:
        return a.func(a) or 0
    except errors as e:
        # What the user gave is wrong (a model that cannot generate, ids or
        # lengths out of range): the message, not a traceback.
        print(f"\npython -m onebit generate: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
