"""The code passes ruff, and the statistics engine passes mypy --strict (style.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT, tool


def test_ruff() -> None:
    ruff = tool("ruff")
    if ruff is None:
        pytest.fail("ruff is a test dependency: pip install -e '.[test]'")
    out = subprocess.run([ruff, "check", "mscreview", "tests", "benchmarks"], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout


def test_mypy_strict_on_stats() -> None:
    out = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                          "mscreview/stats"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout
