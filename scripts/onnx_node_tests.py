#!/usr/bin/env python3
"""Runs ONNX's own node tests (Debian's libonnx-testdata) through onebit.

For each /usr/share/libonnx-testdata/data/node/<test>/model.onnx: compile it
with onebit-compile for the CPU, run every test_data_set_* through the model
library and compare with the expected outputs. A test whose model uses an
operator, opset or dtype onebit does not support is "unsupported"; any other
compile error or wrong answer is a failure unless test/onnx-node/exclusions.txt
lists it with a reason. Prints one line per failure and the totals; writes
a JUnit report with --junit.
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))
from onebit.runtime import Model, RuntimeError_  # noqa: E402

# Compile errors that mean "onebit does not support this", not a bug.
# onebit compiles static graphs: shapes, axes and sizes must be constants,
# inputs tensors.
UNSUPPORTED = re.compile(
    r"unsupported operator|is not supported|unsupported element type|"
    r"does not exist in opset|supports .* only|needs a float|not supported|"
    r"must be known when the model is compiled|is not a tensor|"
    r"of supported types|no default ONNX opset")


def load_exclusions(path):
    exclusions = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, reason = line.partition(" ")
            exclusions[name] = reason.strip()
    return exclusions


def tolerance(dtype):
    if dtype in (np.float16,):
        return dict(rtol=1e-2, atol=1e-2)
    return dict(rtol=1e-4, atol=1e-5)


def run_test(test_dir, compiler, workdir):
    """Returns (status, message): status in passed/failed/unsupported."""
    library = Path(workdir) / (test_dir.name + ".so")
    result = subprocess.run([compiler, str(test_dir / "model.onnx"), "-o", str(library)],
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        message = result.stderr.strip().splitlines()
        message = message[0] if message else f"exit code {result.returncode}"
        status = "unsupported" if UNSUPPORTED.search(result.stderr) else "failed"
        return status, message
    model = onnx.load(str(test_dir / "model.onnx"), load_external_data=False)
    initializers = {t.name for t in model.graph.initializer}
    input_names = [i.name for i in model.graph.input if i.name not in initializers]
    output_names = [o.name for o in model.graph.output]
    try:
        compiled = Model(library)
        for data_set in sorted(test_dir.glob("test_data_set_*")):
            feeds = {}
            for i, name in enumerate(input_names):
                tensor = onnx.load_tensor(str(data_set / f"input_{i}.pb"))
                feeds[name] = numpy_helper.to_array(tensor)
            outputs = compiled.run(feeds)
            for i, name in enumerate(output_names):
                expected = numpy_helper.to_array(
                    onnx.load_tensor(str(data_set / f"output_{i}.pb")))
                actual = outputs[name]
                if expected.dtype == np.uint16 and actual.dtype.itemsize == 2 \
                        and actual.dtype.kind == "V" or str(actual.dtype) == "bfloat16":
                    # ONNX's test data keeps bfloat16 as its uint16 bits.
                    actual = actual.view(np.uint16)
                    if np.abs(actual.astype(np.int64) - expected.astype(np.int64)).max(initial=0) > 1:
                        return "failed", f"{name}: wrong bfloat16 values"
                    continue
                if actual.shape != expected.shape:
                    return "failed", f"{name}: shape {actual.shape}, expected {expected.shape}"
                if expected.dtype.kind in "fc":
                    ok = np.allclose(actual.astype(np.float64), expected.astype(np.float64),
                                     equal_nan=True, **tolerance(expected.dtype))
                else:
                    ok = np.array_equal(actual, expected.astype(actual.dtype))
                if not ok:
                    error = np.max(np.abs(actual.astype(np.float64) - expected.astype(np.float64)))
                    return "failed", f"{name}: wrong values (max abs error {error:.3g})"
        compiled.close()
    except (RuntimeError_, ValueError, OSError) as error:
        return "failed", str(error)
    finally:
        library.unlink(missing_ok=True)
    return "passed", ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/usr/share/libonnx-testdata/data/node")
    parser.add_argument("--compiler", default=str(ROOT / "build/bin/onebit-compile"))
    parser.add_argument("--exclusions", default=str(ROOT / "test/onnx-node/exclusions.txt"))
    parser.add_argument("--junit", help="write a JUnit XML report here")
    parser.add_argument("--filter", default="", help="only tests whose name contains this")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("-v", "--verbose", action="store_true", help="list unsupported tests too")
    args = parser.parse_args()

    tests = sorted(p for p in Path(args.data).iterdir()
                   if (p / "model.onnx").exists() and args.filter in p.name)
    exclusions = load_exclusions(args.exclusions)
    results = {}
    with tempfile.TemporaryDirectory() as workdir, \
            concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(run_test, t, args.compiler, workdir): t.name for t in tests}
        for future in concurrent.futures.as_completed(futures):
            name = futures[future]
            try:
                results[name] = future.result()
            except Exception as error:  # a crash of the driver itself is a failure
                results[name] = ("failed", f"{type(error).__name__}: {error}")

    counts = {"passed": 0, "failed": 0, "unsupported": 0, "excluded": 0}
    suite = ET.Element("testsuite", name="onnx-node")
    for name in sorted(results):
        status, message = results[name]
        if status == "failed" and name in exclusions:
            status, message = "excluded", exclusions[name]
        counts[status] += 1
        case = ET.SubElement(suite, "testcase", classname="onnx-node", name=name)
        if status == "failed":
            ET.SubElement(case, "failure", message=message)
            print(f"FAIL {name}: {message}")
        elif status in ("unsupported", "excluded"):
            ET.SubElement(case, "skipped", message=f"{status}: {message}")
            if args.verbose:
                print(f"{status.upper()} {name}: {message}")
    stale = sorted(n for n in exclusions if n in results and results[n][0] != "failed")
    for name in stale:
        print(f"note: {name} is excluded but did not fail; remove it from the exclusions")
    print(f"onnx node tests: {counts['passed']} passed, {counts['failed']} failed, "
          f"{counts['unsupported']} unsupported, {counts['excluded']} excluded "
          f"(of {len(results)})")
    if args.junit:
        ET.ElementTree(suite).write(args.junit)
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
