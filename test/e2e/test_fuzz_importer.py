"""A mutation fuzzer over the compiler's front half: models the builders
write, mutated at random (dimensions, element types, attribute types and
values, names, ir_version and opset, raw bytes of tensors and of the whole
file), must each import, fuse and lower or fail with an error; never a
signal, an abort, an uncaught exception or a hang. The seed is fixed, so a
failure names a mutant that reproduces; ONEBIT_FUZZ_MUTANTS runs more."""

import os
import random
import subprocess

import onnx
import pytest
from onnx import TensorProto

from conftest import BUILD
from onebit import models

MUTANTS = int(os.environ.get("ONEBIT_FUZZ_MUTANTS", "300"))
TIMEOUT_S = 60


def seeds():
    built = [models.build("mlp", encoding=encoding, dtype="float32", opset=17, seed=1)
             for encoding in ("packed", "custom")]
    built.append(models.build("llama", encoding="packed", dtype="float16", opset=18, seed=1))
    built.append(models.build("opt", encoding="merged", dtype="float32", opset=17, seed=1))
    return [b.model for b in built]


def pick_value_info(model, rng):
    graph = model.graph
    return rng.choice(list(graph.input) + list(graph.output))


def mutate(model, rng):
    """One to three random mutations of a copy of `model`; returns it and
    what was done."""
    mutant = onnx.ModelProto()
    mutant.CopyFrom(model)
    graph = mutant.graph
    done = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(["dim", "elem_type", "attr_type", "attr_value", "rename_input",
                           "duplicate_output", "drop_node", "ir_version", "opset",
                           "initializer_dims", "initializer_bytes", "initializer_type",
                           "external", "bytes"])
        done.append(kind)
        nodes = list(graph.node)
        if kind == "dim":
            info = pick_value_info(mutant, rng)
            dims = info.type.tensor_type.shape.dim
            if dims:
                rng.choice(dims).dim_value = rng.choice([-1, 0, 1, 2**40, -2**63, 3])
        elif kind == "elem_type":
            pick_value_info(mutant, rng).type.tensor_type.elem_type = rng.randint(0, 25)
        elif kind == "attr_type" and nodes:
            node = rng.choice(nodes)
            if node.attribute:
                attribute = rng.choice(node.attribute)
                attribute.type = rng.choice([1, 2, 3, 6, 7, 0])
        elif kind == "attr_value" and nodes:
            node = rng.choice(nodes)
            if node.attribute:
                attribute = rng.choice(node.attribute)
                attribute.i = rng.choice([-2**63, -1, 0, 7, 2**62])
                attribute.f = rng.choice([float("nan"), -1.0, 1e30])
                del attribute.ints[:]
                attribute.ints.extend(rng.choice([[], [-9, 9], [2**62]]))
        elif kind == "rename_input" and nodes:
            node = rng.choice(nodes)
            if node.input:
                node.input[rng.randrange(len(node.input))] = rng.choice(
                    ["", "nowhere", graph.input[0].name, nodes[-1].output[0]])
        elif kind == "duplicate_output" and len(nodes) > 1:
            a, b = rng.sample(nodes, 2)
            if a.output and b.output:
                b.output[0] = a.output[0]
        elif kind == "drop_node" and nodes:
            graph.node.remove(rng.choice(nodes))
        elif kind == "ir_version":
            mutant.ir_version = rng.choice([0, 1, 3, 99, -5])
        elif kind == "opset":
            mutant.opset_import[0].version = rng.choice([1, 12, 13, 19, 21, 22, 10**6])
        elif kind == "initializer_dims" and graph.initializer:
            tensor = rng.choice(graph.initializer)
            if tensor.dims:
                tensor.dims[rng.randrange(len(tensor.dims))] = rng.choice(
                    [-3, 0, 2**31, 2**62, 1])
        elif kind == "initializer_bytes" and graph.initializer:
            tensor = rng.choice(graph.initializer)
            if tensor.raw_data:
                tensor.raw_data = tensor.raw_data[:rng.randrange(len(tensor.raw_data) + 1)]
        elif kind == "initializer_type" and graph.initializer:
            rng.choice(graph.initializer).data_type = rng.randint(0, 25)
        elif kind == "external" and graph.initializer:
            tensor = rng.choice(graph.initializer)
            tensor.data_location = TensorProto.EXTERNAL
            del tensor.external_data[:]
            for key, value in rng.choice([
                    [("location", "/etc/passwd")], [("location", "../x.bin")],
                    [("location", "w.bin"), ("offset", "-1")],
                    [("location", "w.bin"), ("length", "1e9")],
                    [("location", "")], [("offset", "99999999999999999999")]]):
                tensor.external_data.add(key=key, value=value)
    data = mutant.SerializeToString()
    if "bytes" in done and data:
        data = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = bytes(data)
    return data, done


def test_mutants_never_crash_or_hang(tmp_path):
    rng = random.Random(20261207)
    compiler = str(BUILD / "bin" / "onebit-compile")
    bases = seeds()
    crashes = []
    for index in range(MUTANTS):
        base = bases[index % len(bases)]
        data, done = mutate(base, rng)
        path = tmp_path / f"mutant{index}.onnx"
        path.write_bytes(data)
        (tmp_path / "w.bin").write_bytes(b"\0" * 64)
        emit = "--emit=onebit" if index % 2 else "--emit=lowered"
        try:
            result = subprocess.run([compiler, str(path), emit, "-o", os.devnull],
                                    capture_output=True, text=True, errors="replace",
                                    timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            crashes.append(f"mutant{index} {done}: no answer in {TIMEOUT_S} s")
            continue
        ok = result.returncode == 0 or (result.returncode == 1 and "error:" in result.stderr)
        if not ok:
            last = (result.stderr.strip().splitlines() or ["(nothing)"])[-1]
            crashes.append(f"mutant{index} {done}: exit {result.returncode}: {last}")
            path.rename(tmp_path / f"crash{index}.onnx")
    assert not crashes, "\n".join(crashes)
