"""Shared fixtures of the end-to-end tests: the built tools and python/onebit."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
BUILD = Path(os.environ.get("ONEBIT_BUILD_DIR", ROOT / "build"))


@pytest.fixture(scope="session")
def onebit_compile():
    tool = BUILD / "bin" / "onebit-compile"
    if not tool.exists():
        pytest.fail(f"{tool} is missing: build onebit first (scripts/build.sh)")

    def run(*args, check=True):
        result = subprocess.run([str(tool), *map(str, args)], capture_output=True, text=True)
        if check and result.returncode != 0:
            raise AssertionError(f"onebit-compile {' '.join(map(str, args))} failed:\n"
                                 f"{result.stderr}")
        return result
    return run
