"""The nightly's conclusion-change alert (issue 14, item 8), run from the workflow's own scripts.

The steps "Last published results" and "Conclusions that changed" of .github/workflows/nightly.yml
run here under bash as GitHub runs them, with ``gh`` and ``curl`` replaced by stand-ins that serve
a local file as the published site's results.json. A flipped conclusion must set
``flipped=true``, which is what opens the issue.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, make_package

NIGHTLY = ROOT / ".github" / "workflows" / "nightly.yml"


def _step(name: str) -> dict[str, Any]:
    steps = yaml.safe_load(NIGHTLY.read_text())["jobs"]["build"]["steps"]
    return next(s for s in steps if s.get("name") == name)


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def _results(significant: bool) -> dict[str, Any]:
    """A results.json with one pooled MD analysis, significant (CI excludes 0) or not."""
    hi = -0.5 if significant else 0.5
    total = {"estimate": -1.5, "ci_low": -2.5, "ci_high": hi, "k": 3, "p": 0.01}
    return {"data_hash": "sha256:x", "analyses": [
        {"id": "meld-overall", "title": "MELD score", "measure": "MD", "status": "pooled",
         "total": total},
        {"id": "alb-overall", "title": "Albumin", "measure": "MD", "status": "pooled",
         "total": {"estimate": 2.0, "ci_low": 1.0, "ci_high": 3.0, "k": 2, "p": 0.001}},
    ]}


class Runner:
    """The two steps in a synthetic checkout, with stand-ins for gh, curl and the site."""

    def __init__(self, tmp_path: Path) -> None:
        self.work = tmp_path / "checkout"
        self.work.mkdir()
        make_package(self.work)
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.site = tmp_path / "pages"  # what https://owner.github.io/repo/ serves
        self.site.mkdir()
        self.temp = tmp_path / "runner-temp"
        self.temp.mkdir()
        self.summary = tmp_path / "summary.md"
        self._script("mscreview", f'exec "{sys.executable}" -m mscreview "$@"')
        self._script("gh", 'if [ -n "$FAKE_PAGES_URL" ]; then echo "$FAKE_PAGES_URL"; '
                           'else echo "HTTP 404: Not Found" >&2; exit 1; fi')
        # curl -fsSL --max-time 60 --retry 2 URL -o FILE: serve URL's file name from the site
        self._script("curl", 'url=""; out=""; while [ $# -gt 0 ]; do case "$1" in '
                             '-o) out="$2"; shift 2;; --max-time|--retry) shift 2;; '
                             '-*) shift;; *) url="$1"; shift;; esac; done; '
                             'cp "$FAKE_SITE/${url##*/}" "$out" 2>/dev/null || exit 22')

    def _script(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(f"#!/usr/bin/env bash\n{body}\n")
        path.chmod(0o755)

    def run(self, step: str, env: dict[str, str]) -> dict[str, str]:
        output = self.work / f"{step}.out"
        output.write_text("")
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _step(step)["run"]],
            cwd=self.work, capture_output=True, text=True, timeout=300,
            env={**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}",
                 "PYTHONPATH": str(ROOT), "GITHUB_OUTPUT": str(output),
                 "GITHUB_STEP_SUMMARY": str(self.summary), "RUNNER_TEMP": str(self.temp),
                 "GH_TOKEN": "x", "GH_REPO": "owner/mscreview", "FAKE_SITE": str(self.site),
                 **env})
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return _outputs(output)

    def nightly(self, new: dict[str, Any], published: dict[str, Any] | str | None = None,
                released: dict[str, dict[str, Any]] | None = None) -> dict[str, str]:
        """Run both steps: the new build's results against the published (or released) ones."""
        for version, results in (released or {}).items():
            kept = self.work / "reports" / "versions" / version
            kept.mkdir(parents=True, exist_ok=True)
            (kept / "results.json").write_text(json.dumps(results))
        git = ["git", "-C", str(self.work), "-c", "user.email=t@t", "-c", "user.name=t"]
        subprocess.run([*git, "init", "-q"], check=True)
        subprocess.run([*git, "add", "-A"], check=True)
        subprocess.run([*git, "commit", "-qm", "checkout"], check=True)
        (self.work / "site").mkdir(exist_ok=True)
        (self.work / "site" / "results.json").write_text(json.dumps(new))
        env = {"FAKE_PAGES_URL": ""}
        if published is not None:
            (self.site / "results.json").write_text(
                published if isinstance(published, str) else json.dumps(published))
            env["FAKE_PAGES_URL"] = "https://owner.github.io/mscreview/"
        found = self.run("Last published results", env)
        return {**found, **self.run("Conclusions that changed",
                                    {"BASELINE": found.get("path", ""),
                                     "BASELINE_FROM": found.get("from", "")})}


@pytest.fixture
def runner(tmp_path: Path) -> Runner:
    return Runner(tmp_path)


def test_nightly_alerts_on_a_flipped_conclusion(runner: Runner) -> None:
    """The nightly never reported a changed conclusion: diff read an absent reports/results.json."""
    out = runner.nightly(new=_results(significant=False), published=_results(significant=True),
                         released={"0.1.0": _results(significant=False)})
    assert out["flipped"] == "true"
    assert out["from"] == "the report published at https://owner.github.io/mscreview/"
    summary = runner.summary.read_text()
    assert "Estimates compared with the report published at" in summary
    assert "MELD score (MD)" in summary and "**conclusion changed**" in summary
    assert "Albumin" not in summary  # unchanged estimates are not listed


def test_nightly_is_quiet_when_no_conclusion_flipped(runner: Runner) -> None:
    published = _results(significant=True)
    moved = copy.deepcopy(published)
    moved["analyses"][0]["total"]["estimate"] = -1.6  # moved, still significant
    out = runner.nightly(new=moved, published=published)
    assert out["flipped"] == "false"
    assert "MELD score (MD)" in runner.summary.read_text()


def test_nightly_compares_with_the_last_release_before_the_first_deployment(
        runner: Runner) -> None:
    out = runner.nightly(new=_results(significant=False),
                         released={"0.9.0": _results(significant=False),
                                   "0.10.0": _results(significant=True)})
    assert out["flipped"] == "true"
    assert out["from"] == "release 0.10.0 (reports/versions/0.10.0/results.json)"


def test_nightly_without_any_baseline_says_so(runner: Runner) -> None:
    out = runner.nightly(new=_results(significant=False))
    assert out == {"flipped": "false"}
    assert "conclusions are not compared" in runner.summary.read_text()


def test_a_published_page_that_is_not_results_falls_back_to_the_release(runner: Runner) -> None:
    out = runner.nightly(new=_results(significant=False), published="<html>not found</html>",
                         released={"0.1.0": _results(significant=True)})
    assert out["flipped"] == "true" and out["from"].startswith("release 0.1.0")


def test_the_issue_is_opened_only_when_flipped() -> None:
    workflow = yaml.safe_load(NIGHTLY.read_text())
    notify = workflow["jobs"]["notify"]
    assert notify["if"] == "needs.build.outputs.flipped == 'true'"
    assert workflow["jobs"]["build"]["outputs"]["flipped"] == "${{ steps.diff.outputs.flipped }}"
    assert _step("Conclusions that changed")["id"] == "diff"
