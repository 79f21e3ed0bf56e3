"""Shared fixtures: the kernelsweep executable (KERNELSWEEP_BINARY, set by CTest) and its JSON."""
import json
import os
import subprocess

import pytest


@pytest.fixture(scope="session")
def binary():
    path = os.environ.get("KERNELSWEEP_BINARY")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("KERNELSWEEP_BINARY must name the kernelsweep executable (CTest sets it)")
    return path


@pytest.fixture(scope="session")
def cli(binary):
    """cli(args...) -> (exit code, parsed JSON of stdout or None, stderr)."""

    def run(*args):
        p = subprocess.run([binary, *map(str, args)], capture_output=True, text=True)
        return p.returncode, (json.loads(p.stdout) if p.stdout.strip() else None), p.stderr

    return run
