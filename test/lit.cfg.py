# -*- Python -*-
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "onebit"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".onnxtext", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.onebit_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs"]

config.substitutions.append(("%onebit_src_root", config.onebit_src_root))
config.substitutions.append(("%onebit_obj_root", config.onebit_obj_root))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

tool_dirs = [config.onebit_tools_dir, config.llvm_tools_dir]
tools = ["onebit-opt", "onebit-compile", "onebit-run"]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# Tests that build a harness with AddressSanitizer and UBSan need clang++
# and its sanitizer runtimes (Debian: libclang-rt-14-dev).
import shutil
import subprocess
import tempfile

clangxx = shutil.which("clang++")
if clangxx:
    config.substitutions.append(("%clangxx", clangxx))
    with tempfile.TemporaryDirectory() as probe_dir:
        probe = os.path.join(probe_dir, "probe.cpp")
        with open(probe, "w") as f:
            f.write("int main() { return 0; }\n")
        built = subprocess.run(
            [clangxx, "-fsanitize=address,undefined", probe, "-o",
             os.path.join(probe_dir, "probe")], capture_output=True)
        if built.returncode == 0:
            config.available_features.add("sanitizers")
