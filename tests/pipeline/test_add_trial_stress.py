"""add-trial killed at any instant, or run twice at once, never leaves a partial or lost trial.

Issue 10: killed inside its commit step add-trial left partial trials in 6 of 15 runs (some of
them valid), and two concurrent runs both printed "added" while one trial was lost. Here every
run is a real ``mscreview add-trial`` process on a synthetic package (tests/fixtures): killed at
each call of ``os.replace``/``os.fsync`` in turn (every step of staging, the journal and the
renames), then at random instants; after each kill ``validate`` must pass and every trial must be
in every resource or in none, and every trial a run reported added must be there whole.
"""

from __future__ import annotations

import csv
import io
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mscreview.pipeline.checks import run_validate
from tests.conftest import FIXTURES, ROOT, make_package

TRIAL = (FIXTURES / "trials" / "complete.yaml").read_text()
#: Rows complete.yaml adds per resource (a trial is whole when it has all of them).
WHOLE = {"studies": 1, "sources": 1, "arms": 2, "continuous_outcomes": 4,
         "dichotomous_outcomes": 2, "adverse_events": 1, "risk_of_bias": 1}

#: Runs add-trial, SIGKILLing itself at the K-th call of os.replace or os.fsync (K = argv[1]);
#: with K = 0 it runs through and prints how many calls there were ("calls=N" on stderr).
DRIVER = textwrap.dedent("""
    import atexit, os, signal, sys
    calls = [0]
    kill_at = int(sys.argv[1])
    atexit.register(lambda: print(f"calls={calls[0]}", file=sys.stderr))

    def wrap(real):
        def step(*args, **kwargs):
            calls[0] += 1
            if calls[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        return step

    os.replace = wrap(os.replace)
    os.fsync = wrap(os.fsync)
    from mscreview.cli import cli
    cli(sys.argv[2:])
""")


def _trial(folder: Path, n: int) -> tuple[str, Path]:
    study = f"zeta2030{chr(ord('a') + n % 26)}" if n < 26 else f"zetb{2030 + n}"
    path = folder / f"{study}.yaml"
    path.write_text(TRIAL.replace("zeta2030", study).replace("Zeta 2030", f"Zeta {n}"))
    return study, path


def _counts(root: Path, study: str) -> dict[str, int]:
    out = {}
    for name in WHOLE:
        text = (root / "data" / f"{name}.csv").read_text()
        out[name] = sum(1 for r in csv.DictReader(io.StringIO(text, newline=""))
                        if r.get("study_id") == study)
    return out


def _check(root: Path, tried: list[str], reported: set[str]) -> int:
    """validate passes; each trial whole or absent; every reported one whole. Returns whole count."""
    report = run_validate(root / "datapackage.json")  # takes the lock and recovers first
    assert report.valid, report.sorted()[:5]
    whole = 0
    for study in tried:
        counts = _counts(root, study)
        assert counts in (WHOLE, dict.fromkeys(WHOLE, 0)), (study, counts)
        whole += counts == WHOLE
        if study in reported:
            assert counts == WHOLE, f"{study} was reported added but is not whole"
    return whole


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.mark.slow
def test_add_trial_killed_at_every_step_and_at_random_never_leaves_a_partial_trial(
        tmp_path: Path) -> None:
    pkg = make_package(tmp_path)
    root = pkg.parent
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    tried: list[str] = []
    reported: set[str] = set()

    def run(n: int, kill_at: int) -> subprocess.CompletedProcess[str]:
        study, path = _trial(tmp_path, n)
        tried.append(study)
        proc = subprocess.run([sys.executable, str(driver), str(kill_at), "add-trial", str(path),
                               "--package", str(pkg)], capture_output=True, text=True,
                              env=_env(), timeout=180)
        if proc.returncode != -signal.SIGKILL:
            assert proc.returncode == 0, proc.stderr
            assert proc.stdout.startswith(f"added {study}: ")
            reported.add(study)
        _check(root, tried, reported)
        return proc

    counted = run(0, 0)  # a clean run: how many replace/fsync steps an add-trial takes
    steps = int(counted.stderr.rsplit("calls=", 1)[1].split()[0])
    assert steps >= 10, counted.stderr
    kill_points = list(range(1, steps + 1))
    killed = sum(run(n, k).returncode == -signal.SIGKILL for n, k in enumerate(kill_points, 1))
    assert killed == steps  # every step was a kill point, and each run died there
    outcomes = {"steps": steps, "killed": killed}
    rng = random.Random(20261210)
    for n in range(steps + 1, steps + 7):
        study, path = _trial(tmp_path, n)
        tried.append(study)
        proc = subprocess.Popen([sys.executable, "-m", "mscreview", "add-trial", str(path),
                                 "--package", str(pkg)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=_env())
        time.sleep(rng.uniform(0.2, 3.0))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=60)
        if out.startswith(f"added {study}: "):
            reported.add(study)
        _check(root, tried, reported)
    print(f"kill points: {outcomes}; random kills: {len(tried) - steps - 1}; "
          f"trials whole at the end: {_check(root, tried, reported)}")


@pytest.mark.slow
def test_two_concurrent_add_trials_both_land(tmp_path: Path) -> None:
    """Issue 10: two concurrent runs both printed 'added' while one trial was lost."""
    pkg = make_package(tmp_path)
    root = pkg.parent
    first, a = _trial(tmp_path, 0)
    second, b = _trial(tmp_path, 1)
    procs = [subprocess.Popen([sys.executable, "-m", "mscreview", "add-trial", str(p),
                               "--package", str(pkg)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env()) for p in (a, b)]
    results = [p.communicate(timeout=180) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    assert _check(root, [first, second], {first, second}) == 2
    # the same trial twice at once: one adds it, the other waits and is told it exists
    third, c = _trial(tmp_path, 2)
    procs = [subprocess.Popen([sys.executable, "-m", "mscreview", "add-trial", str(c),
                               "--package", str(pkg)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=_env()) for _ in range(2)]
    results = [p.communicate(timeout=180) for p in procs]
    assert sorted(p.returncode for p in procs) == [0, 1], results
    assert any("study-exists" in err for _, err in results)
    assert _check(root, [first, second, third], {first, second, third}) == 3
