"""Kill ``build`` and ``release`` at any point: the published report is the old one or the new one.

Two kinds of kill points, each a SIGKILL (no cleanup runs):
- just before every rename the command does (os.replace / os.rename), which covers each step of
  the commit exactly, whatever the machine's speed;
- after random delays over a full run (a fixed seed), which covers the slow parts in between.

After each kill the package validates and, once the next command has finished any committed
journal (``recover``), the published report is whole (its manifest verifies) and is either the
old report or the new one; no temporary file is left in the package, the report folder or TMPDIR.
Synthetic packages only.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path

import pytest

from mscreview import atomic
from mscreview.pipeline.build import ENTRIES, MANIFEST, data_hash
from mscreview.validate import validate_package
from tests.conftest import make_package
from tests.pipeline.publishing import (
    check_report_whole,
    mscreview_env,
    recover,
    run_killed_after,
    run_killed_at_rename,
)

SEED = 20261201
RANDOM_KILLS = 4
CHANGELOG = "# Changelog\n\n## [Unreleased]\n### Data\n- synthetic change\n\n## [0.1.0] - 2026-01-01\n"


def _kill_points(args: list[str], env: dict[str, str],
                 cwd: Path | None = None) -> tuple[list[tuple[str, float]], int]:
    """Calibrate on one whole run: a kill before each rename, plus random times."""
    start = time.monotonic()
    status, renames = run_killed_at_rename(args, 0, env, cwd)
    took = time.monotonic() - start
    assert status == 0 and renames, "the calibration run must finish"
    rng = random.Random(SEED)
    points = [("rename", float(k)) for k in range(1, renames + 1)]
    points += [("time", took * rng.uniform(0.15, 1.0)) for _ in range(RANDOM_KILLS)]
    return points, renames


def _kill(args: list[str], point: tuple[str, float], env: dict[str, str],
          cwd: Path | None = None) -> int:
    kind, at = point
    if kind == "rename":
        return run_killed_at_rename(args, int(at), env, cwd)[0]
    return run_killed_after(args, at, env, cwd)


def _no_leftovers(root: Path, out: Path, tmpdir: Path, data_names: set[str]) -> None:
    assert not (root / atomic.TXN_DIR).exists() and not (out / atomic.TXN_DIR).exists()
    assert {p.name for p in (root / "data").iterdir()} == data_names
    assert {p.name for p in out.iterdir()} <= set(ENTRIES) | {MANIFEST, atomic.LOCK_NAME,
                                                                "versions"}
    assert list(tmpdir.iterdir()) == []


@pytest.mark.slow
def test_killed_build_leaves_the_old_report_or_the_new_one_whole(tmp_path: Path) -> None:
    """Killing a build during publish left the old index.html beside new data (11 of 12 runs)."""
    root = tmp_path / "pkg"
    root.mkdir()
    pkg = make_package(root)
    out = root / "reports"
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    env = {**mscreview_env(tmp_path), "TMPDIR": str(tmpdir)}
    studies = root / "data" / "studies.csv"
    states = [studies.read_text()]
    states.append(states[0].replace("SYNTHETIC fixture trial", "SYNTHETIC trial revised"))
    assert states[1] != states[0]
    hashes = []
    for text in states:
        studies.write_text(text)
        hashes.append(data_hash(pkg))
    data_names = {p.name for p in (root / "data").iterdir()}
    args = ["build", "--package", str(pkg), "--out", str(out), "--quiet"]
    points, _ = _kill_points(args, env)  # publishes state 1
    outcomes = {"old": 0, "new": 0}
    for point in points:
        published = check_report_whole(out)
        assert published is not None
        old = hashes.index(published["data_hash"])
        studies.write_text(states[1 - old])  # the build publishes the other state
        _kill(args, point, env)
        assert validate_package(pkg).valid
        recover(out)
        manifest = check_report_whole(out)
        assert manifest is not None, f"no report after a kill at {point}"
        now = hashes.index(manifest["data_hash"])
        outcomes["old" if now == old else "new"] += 1
        _no_leftovers(root, out, tmpdir, data_names)
    assert outcomes["old"] and outcomes["new"], outcomes  # both sides of the commit were hit


@pytest.mark.slow
def test_interrupted_release_skips_no_version_and_leaves_no_half_release(tmp_path: Path) -> None:
    """An interrupted release skipped a version number."""
    pristine = tmp_path / "pristine"
    pristine.mkdir()
    pkg = make_package(pristine)
    (pristine / "CHANGELOG.md").write_text(CHANGELOG)
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    env = {**mscreview_env(tmp_path), "TMPDIR": str(tmpdir), "SOURCE_DATE_EPOCH": "1700000000"}
    assert run_killed_at_rename(["build", "--package", str(pkg), "--out",
                                 str(pristine / "reports"), "--quiet"], 0, env)[0] == 0
    data_names = {p.name for p in (pristine / "data").iterdir()}
    work = tmp_path / "work"

    def reset() -> None:
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(pristine, work, symlinks=True)

    reset()
    points, _ = _kill_points(["release", "minor"], env, cwd=work)
    outcomes = {"old": 0, "new": 0}
    for point in points:
        reset()
        _kill(["release", "minor"], point, env, cwd=work)
        recover(work)
        recover(work / "reports")
        assert validate_package(work / "datapackage.json").valid
        version = json.loads((work / "datapackage.json").read_text())["version"]
        manifest = check_report_whole(work / "reports")
        assert manifest is not None
        kept = work / "reports" / "versions" / "0.2.0"
        changelog = (work / "CHANGELOG.md").read_text()
        if version == "0.1.0":  # nothing of the release happened
            outcomes["old"] += 1
            assert not kept.exists() and changelog == CHANGELOG
            assert manifest["data_version"] == "0.1.0"
        else:  # all of it happened
            outcomes["new"] += 1
            assert version == "0.2.0"
            assert json.loads((kept / "results.json").read_text())["data_version"] == "0.2.0"
            assert "## [0.2.0] - 2023-11-14" in changelog
            assert manifest["data_version"] == "0.2.0"
        _no_leftovers(work, work / "reports", tmpdir, data_names)
    assert outcomes["old"] and outcomes["new"], outcomes
    # after a release killed before its commit, the next one takes the very next number
    reset()
    _kill(["release", "minor"], ("rename", 1.0), env, cwd=work)
    assert run_killed_at_rename(["release", "minor"], 0, env, cwd=work)[0] == 0
    assert json.loads((work / "datapackage.json").read_text())["version"] == "0.2.0"
    assert sorted(p.name for p in (work / "reports" / "versions").iterdir()) == ["0.2.0"]
