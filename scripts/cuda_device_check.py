#!/usr/bin/env python3
"""Checks -target=cuda model libraries on a GPU against onnxruntime (CPU).

Two steps, because the GPU machine has no LLVM/MLIR:

  # here (the compiler's machine): build python/onebit's models and a
  # selection of ONNX node tests, compile them with -target=cuda
  python3 scripts/cuda_device_check.py prepare --out cuda-check

  # on the GPU machine (numpy + onnxruntime; PYTHONPATH=python)
  python3 scripts/cuda_device_check.py run cuda-check

`run` prints one line per case (max abs error relative to the largest
reference value, eager first run and CUDA-graph replay times), then the
decoders (sessions against onnxruntime running the same ONNX step token by
token, both forms), a gather of ids out of range (the index checks read
back from the GPU), and ends with one line "N passed, N failed"; it exits
non-zero if any case fails.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

ARCHS = ["mlp", "llama", "opt"]
ENCODINGS = ["custom", "merged", "packed"]
DTYPES = ["float32", "float16"]
TOLERANCE = {"float32": 1e-4, "float16": 2e-2}
DECODER_WINDOW = 160
# Prompt and continuation of the decoder cases.
DECODER_PROMPT = 130
DECODER_STEPS = 24
# The long case: head dimension 128 as in LLaMA-7B and 16 key/value heads,
# so that each of the attention's 64 splits walks two steps of rows (the
# short cases' splits hold a row or none).
LONG_WINDOW, LONG_PROMPT = 1300, 1200
# Node tests of the ops an LLM uses (names from libonnx-testdata).
NODE_PREFIXES = ["test_add", "test_mul", "test_sub", "test_div", "test_matmul_",
                 "test_gemm_default", "test_softmax_", "test_layer_normalization_2d",
                 "test_reduce_mean_default", "test_relu", "test_sigmoid", "test_tanh",
                 "test_sqrt", "test_exp", "test_transpose_default", "test_reshape_",
                 "test_gather_0", "test_gather_1", "test_concat_", "test_where_",
                 "test_cast_FLOAT_to_FLOAT16", "test_erf", "test_pow", "test_neg",
                 "test_slice", "test_unsqueeze_axis_0", "test_squeeze"]


def prepare(args):
    import onnx
    from onnx import numpy_helper
    from onebit import models
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    (out / "models").mkdir(parents=True)
    (out / "node").mkdir()
    manifest = {"models": [], "node": [], "decoders": [], "compile_failures": []}

    def compile_(onnx_path, library, *extra):
        result = subprocess.run([args.compiler, str(onnx_path), "-target=cuda",
                                 f"-arch={args.arch}", "-o", str(library), *extra],
                                capture_output=True, text=True, timeout=600)
        if result.returncode:
            lines = result.stderr.strip().splitlines()
            return lines[0] if lines else f"exit code {result.returncode}"
        return None

    # Decode shapes (one token, K a multiple of 32): their 1-bit layers run
    # in onebit-gpu-sign-gemv's kernel; the default shapes in the generic one.
    decode = {"llama": models.LlamaConfig(d_model=64, ffn=160, seq_len=1),
              "opt": models.OPTConfig(d_model=64, ffn=128, seq_len=1)}
    # Prefill shapes with K a multiple of 128: in fp16 their 1-bit layers
    # run in onebit-gpu-sign-mma's tensor-core kernel (40 rows: two passes,
    # K = 896 staged in chunks; 5 rows with K = 256: one accumulator per
    # sign bit; N = 40: K split across warps).
    prefill = {"llama": models.LlamaConfig(d_model=128, n_heads=4, ffn=896, seq_len=40),
               "opt": models.OPTConfig(d_model=256, ffn=512, seq_len=9),
               "mlp": models.MLPConfig(sizes=[256, 1000, 384, 40], batch=5)}
    parts = set(args.only.split(","))
    cases = [(arch, "", None, DTYPES) for arch in ARCHS] + \
        [(arch, "-decode", config, DTYPES) for arch, config in decode.items()] + \
        [(arch, "-prefill", config, ["float16"]) for arch, config in prefill.items()]
    for arch, suffix, config, dtypes in cases if "models" in parts else []:
        for encoding in ENCODINGS:
            for dtype in dtypes:
                name = f"{arch}{suffix}-{encoding}-{dtype}"
                built = models.build(arch, config, encoding=encoding, dtype=dtype, opset=18,
                                     seed=1)
                onnx_path = out / "models" / f"{name}.onnx"
                onnx_path.write_bytes(built.model.SerializeToString())
                error = compile_(onnx_path, out / "models" / f"{name}.so")
                if error:
                    manifest["compile_failures"].append([name, error])
                    onnx_path.unlink()
                    print(f"compile failed: {name}: {error}")
                    continue
                np.save(out / "models" / f"{name}.input.npy", built.sample_input(seed=3))
                manifest["models"].append({"name": name, "dtype": dtype,
                                           "input": built.input_name,
                                           "output": built.output_name})
                print(f"compiled {name}")

    # Decoders whose cache stays on the GPU, in both forms users export.
    from onebit import decode
    (out / "decoders").mkdir()
    decoder_cases = [(form, dtype, kv_heads, "eager") for form in decode.FORMS
                     for dtype in DTYPES for kv_heads in (2, None)]
    decoder_cases += [("optimum", dtype, 2, "sdpa") for dtype in DTYPES]
    # The long case once more without index checks: their cost per step.
    decoder_cases += [("onebit", "float16", 16, "long"), ("onebit", "float16", 16, "long-nochecks"),
                      ("onebit", "float16", 2, "t4")]
    for form, dtype, kv_heads, attention in decoder_cases if "decoders" in parts else []:
        name = f"decoder-{form}-{dtype}-kv{kv_heads or 4}-{attention}"
        window, prompt, flags, session = DECODER_WINDOW, DECODER_PROMPT, [], None
        if attention == "long-nochecks":
            attention, flags = "long", ["--index-checks=false"]
        config = models.LlamaConfig(vocab_size=256, d_model=256, n_layers=2,
                                    n_heads=4, ffn=512, n_kv_heads=kv_heads)
        if attention == "t4":
            # Steps of 4 new tokens (prompts in chunks, decode padded).
            attention, flags, session = "eager", ["--input-shape", "input_ids=1x4"], window - 3
        elif attention == "long":
            config = models.LlamaConfig(vocab_size=256, d_model=2048, n_layers=1,
                                        n_heads=16, ffn=512)
            window, prompt, attention = LONG_WINDOW, LONG_PROMPT, "eager"
        onnx_path = out / "decoders" / f"{name}.onnx"
        decode.build_llama_decode(config, max_len=window, dtype=dtype,
                                  path=str(onnx_path), form=form, seed=2,
                                  attention=attention)
        error = compile_(onnx_path, out / "decoders" / f"{name}.so",
                         "--max-seq-len", str(window), *flags)
        if error:
            manifest["compile_failures"].append([name, error])
            print(f"compile failed: {name}: {error}")
            continue
        manifest["decoders"].append({"name": name, "dtype": dtype, "window": window,
                                     "prompt": prompt, "session": session or window})
        print(f"compiled {name}")

    # A gather of token ids from the model's input: ids out of range must
    # be reported by the run (the index check copied back from the GPU).
    if "hostile" in parts:
        from onnx import TensorProto, helper
        (out / "hostile").mkdir()
        table = numpy_helper.from_array(
            np.arange(64 * 8, dtype=np.float32).reshape(64, 8), "table")
        graph = helper.make_graph(
            [helper.make_node("Gather", ["table", "ids"], ["y"], name="embed")], "embedding",
            [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 4])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8])], [table])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, str(out / "hostile" / "embedding.onnx"))
        error = compile_(out / "hostile" / "embedding.onnx", out / "hostile" / "embedding.so")
        if error:
            manifest["compile_failures"].append(["embedding", error])
        else:
            manifest["hostile"] = ["embedding"]

    data = Path(args.node_data)
    tests = sorted(p for p in data.iterdir() if "node" in parts
                   and (p / "model.onnx").exists()
                   and any(p.name.startswith(prefix) for prefix in NODE_PREFIXES))
    for test in tests:
        library = out / "node" / f"{test.name}.so"
        error = compile_(test / "model.onnx", library)
        if error:
            continue  # unsupported on every target: scripts/onnx_node_tests.py reports it
        model = onnx.load(str(test / "model.onnx"), load_external_data=False)
        initializers = {t.name for t in model.graph.initializer}
        inputs = [i.name for i in model.graph.input if i.name not in initializers]
        outputs = [o.name for o in model.graph.output]
        sets = []
        for k, data_set in enumerate(sorted(test.glob("test_data_set_*"))):
            arrays = {}
            for i, name in enumerate(inputs):
                arrays[f"in:{name}"] = numpy_helper.to_array(
                    onnx.load_tensor(str(data_set / f"input_{i}.pb")))
            for i, name in enumerate(outputs):
                arrays[f"out:{name}"] = numpy_helper.to_array(
                    onnx.load_tensor(str(data_set / f"output_{i}.pb")))
            np.savez(out / "node" / f"{test.name}.{k}.npz", **arrays)
            sets.append(f"{test.name}.{k}.npz")
        manifest["node"].append({"name": test.name, "sets": sets})
    print(f"compiled {len(manifest['node'])} of {len(tests)} node tests")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))


def timed_runs(model, feeds, repeat):
    start = time.perf_counter()
    first = model.run(feeds)
    eager = time.perf_counter() - start
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        model.run(feeds)
        times.append(time.perf_counter() - start)
    return first, eager, float(np.median(times)) if times else 0.0


def run(args):
    import onnxruntime as ort
    ort.set_default_logger_severity(3)
    from onebit.runtime import Model, RuntimeError_
    out = Path(args.dir)
    manifest = json.loads((out / "manifest.json").read_text())
    parts = set(args.only.split(","))
    passed = failed = 0
    print(f"{'case':40s} {'rel. error':>11s} {'first run':>10s} {'replay':>10s}")
    for case in manifest["models"] if "models" in parts else []:
        name = case["name"]
        try:
            x = np.load(out / "models" / f"{name}.input.npy")
            session = ort.InferenceSession(str(out / "models" / f"{name}.onnx"),
                                           providers=["CPUExecutionProvider"])
            expected = session.run(None, {case["input"]: x})[0]
            model = Model(out / "models" / f"{name}.so")
            outputs, eager, replay = timed_runs(model, {case["input"]: x}, args.repeat)
            # Every later run (CUDA-graph replay) must give the same answer.
            again = model.run({case["input"]: x})[case["output"]]
            actual = outputs[case["output"]]
            ref = expected.astype(np.float64)
            error = np.max(np.abs(actual.astype(np.float64) - ref)) / max(np.max(np.abs(ref)), 1e-30)
            ok = (actual.shape == expected.shape and np.isfinite(actual).all()
                  and error <= TOLERANCE[case["dtype"]] and np.array_equal(actual, again))
            print(f"{name:40s} {error:11.2e} {eager * 1e3:8.2f}ms {replay * 1e6:8.1f}us "
                  f"{'ok' if ok else 'FAIL'}")
        except (RuntimeError_, OSError, ValueError) as e:
            ok = False
            print(f"{name:40s} FAIL {e}")
        passed += ok
        failed += not ok
    node_passed = node_failed = 0
    for case in manifest["node"] if "node" in parts else []:
        name = case["name"]
        message = ""
        try:
            model = Model(out / "node" / f"{name}.so")
            for data_set in case["sets"]:
                arrays = np.load(out / "node" / data_set)
                feeds = {k[3:]: arrays[k] for k in arrays.files if k.startswith("in:")}
                result = model.run(feeds)
                for key in (k for k in arrays.files if k.startswith("out:")):
                    expected, actual = arrays[key], result[key[4:]]
                    if expected.dtype.kind in "fc":
                        tol = dict(rtol=1e-2, atol=1e-2) if expected.dtype == np.float16 \
                            else dict(rtol=1e-4, atol=1e-5)
                        good = actual.shape == expected.shape and np.allclose(
                            actual.astype(np.float64), expected.astype(np.float64),
                            equal_nan=True, **tol)
                    else:
                        good = np.array_equal(actual, expected.astype(actual.dtype))
                    if not good:
                        message = f"{key[4:]}: wrong values"
        except (RuntimeError_, OSError, ValueError) as e:
            message = str(e)
        if message:
            node_failed += 1
            print(f"FAIL node {name}: {message}")
        else:
            node_passed += 1
    decoder_passed = decoder_failed = 0
    for case in manifest.get("decoders", []) if "decoders" in parts else []:
        ok = check_decoder(out / "decoders", case)
        decoder_passed += ok
        decoder_failed += not ok
    hostile_passed = hostile_failed = 0
    for name in manifest.get("hostile", []) if "hostile" in parts else []:
        ok = check_index_errors(out / "hostile", name)
        hostile_passed += ok
        hostile_failed += not ok
    print(f"models: {passed} passed, {failed} failed "
          f"({len(manifest['compile_failures'])} did not compile here)")
    print(f"node tests: {node_passed} passed, {node_failed} failed")
    print(f"decoders: {decoder_passed} passed, {decoder_failed} failed")
    print(f"index checks: {hostile_passed} passed, {hostile_failed} failed")
    total_failed = failed + node_failed + decoder_failed + hostile_failed
    print(f"{passed + node_passed + decoder_passed + hostile_passed} passed, "
          f"{total_failed} failed")
    return 1 if total_failed else 0


def check_index_errors(folder, name):
    """Ids in range (negative ones included) as onnxruntime gives them; ids
    out of range an error naming the node, the input and the value, after
    which the model still runs."""
    import onnxruntime as ort
    from onebit.runtime import Model, RuntimeError_
    model = Model(folder / f"{name}.so")
    reference = ort.InferenceSession(str(folder / f"{name}.onnx"),
                                     providers=["CPUExecutionProvider"])
    good = np.array([[0, 63, -1, -64]], np.int64)
    ok = np.array_equal(model.run({"ids": good})["y"], reference.run(None, {"ids": good})[0])
    reported = 0
    for bad in (64, -65, 2**40):
        try:
            model.run({"ids": np.array([[1, bad, 2, 3]], np.int64)})
        except RuntimeError_ as e:
            reported += f"input 'ids': index {bad} (element 1) is out of range" in str(e)
    ok &= reported == 3 and np.array_equal(model.run({"ids": good})["y"],
                                           reference.run(None, {"ids": good})[0])
    print(f"{name + ' (index checks)':40s} {'ok' if ok else 'FAIL'}"
          f"{'' if reported == 3 else f' ({reported} of 3 reported)'}")
    return ok


def check_decoder(folder, case):
    """A session against onnxruntime stepping the same ONNX decoder: the
    prompt in one prefill, then greedy steps; the logits of every step
    within the dtype's tolerance, the same tokens, and bounds errors."""
    from onebit import generate
    from onebit.runtime import Model, RuntimeError_
    name = case["name"]
    try:
        model = Model(folder / f"{name}.so")
        window = case.get("window", DECODER_WINDOW)
        session = model.session(case.get("session", window))
        ref = generate.Backend.onnxruntime(str(folder / f"{name}.onnx"), window)
        caches = ref._state()
        prompt = [int(t) for t in np.random.default_rng(4).integers(
            0, 256, case.get("prompt", DECODER_PROMPT))]
        for pos, token in enumerate(prompt[:-1]):
            ref._step(caches, token, pos)
        expected = ref._step(caches, prompt[-1], len(prompt) - 1)
        start = time.perf_counter()
        got = session.prefill(prompt)
        prefill = time.perf_counter() - start
        worst, same_tokens = 0.0, True
        for step in range(DECODER_STEPS):
            scale = max(float(np.abs(expected).max()), 1e-30)
            worst = max(worst, float(np.abs(got - expected).max()) / scale)
            token = int(np.argmax(expected))
            same_tokens &= token == int(np.argmax(got))
            expected = ref._step(caches, token, session.position)
            got = session.decode(token)
        step_us = session.time(token, iterations=50)
        bounds = 0
        for bad in (-1, 256):
            try:
                session.decode(bad)
            except RuntimeError_ as e:
                bounds += "outside the vocabulary" in str(e)
        ok = worst <= TOLERANCE[case["dtype"]] and same_tokens and bounds == 2
        print(f"{name:40s} {worst:11.2e} prefill {prefill * 1e3:7.2f}ms "
              f"step {step_us:7.1f}us {'ok' if ok else 'FAIL'}"
              f"{'' if same_tokens else ' (tokens differ)'}"
              f"{'' if bounds == 2 else ' (bounds not reported)'}")
        return ok
    except (RuntimeError_, OSError, ValueError) as e:
        print(f"{name:40s} FAIL {e}")
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="compile the models and node tests (no GPU needed)")
    p.add_argument("--out", required=True)
    p.add_argument("--compiler", default=str(ROOT / "build/bin/onebit-compile"))
    p.add_argument("--arch", default="sm_90")
    p.add_argument("--node-data", default="/usr/share/libonnx-testdata/data/node")
    p.add_argument("--only", default="models,node,decoders,hostile",
                   help="comma-separated parts to prepare (default: all)")
    r = sub.add_parser("run", help="run them on the GPU and compare with onnxruntime")
    r.add_argument("dir")
    r.add_argument("--repeat", type=int, default=50)
    r.add_argument("--only", default="models,node,decoders,hostile",
                   help="comma-separated parts to run (default: all)")
    args = parser.parse_args()
    return prepare(args) if args.command == "prepare" else run(args)


if __name__ == "__main__":
    sys.exit(main())
