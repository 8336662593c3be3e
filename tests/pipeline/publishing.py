"""Helpers of the publishing tests: is a published report whole, and a process killed on cue."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from mscreview import atomic
from mscreview.pipeline.build import ENTRIES, MANIFEST
from tests.conftest import ROOT


def mscreview_env(tmp_path: Path) -> dict[str, str]:
    """Environment of a child process that imports this checkout's mscreview."""
    return {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": os.environ.get("TMPDIR", "/tmp")}


def check_report_whole(out: Path) -> dict[str, object] | None:
    """Assert that ``out`` holds one whole report (or none at all); return its manifest.

    Whole: every file the manifest lists is there with its sha256, the build's entries hold no
    other file, and results.json states the manifest's data hash. Call it after a reader has
    finished any interrupted commit (``mscreview.atomic.reading``).
    """
    path = out / MANIFEST
    if not path.exists():
        present = [e for e in ENTRIES if os.path.lexists(out / e) and e != "data"]
        assert present == [], f"entries without a manifest: {present}"
        return None
    manifest = json.loads(path.read_text())
    files = manifest["files"]
    found = set()
    for entry in manifest["entries"]:
        target = out / entry
        if target.is_dir():
            found |= {p.relative_to(out).as_posix() for p in target.rglob("*") if p.is_file()}
        elif target.exists():
            found.add(entry)
    assert found == set(files), f"files differ from the manifest: {sorted(found ^ set(files))}"
    for rel, digest in files.items():
        data = (out / rel).read_bytes()
        assert "sha256:" + hashlib.sha256(data).hexdigest() == digest, f"{rel} is not the manifest's"
    results = json.loads((out / "results.json").read_text())
    assert results["data_hash"] == manifest["data_hash"]
    assert results["data_version"] == manifest["data_version"]
    return manifest


#: Runs the mscreview command line and SIGKILLs itself just before its K-th rename (os.replace or
#: os.rename) when K > 0; writes the number of renames it did to fd FD when it ends normally.
KILL_AT_RENAME = """
import atexit, os, signal, sys
k, fd = int(sys.argv[1]), int(sys.argv[2])
count = [0]
def hooked(real):
    def call(*args, **kwargs):
        count[0] += 1
        if count[0] == k:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return call
os.replace, os.rename = hooked(os.replace), hooked(os.rename)
atexit.register(lambda: os.write(fd, str(count[0]).encode()))
from mscreview.cli import main
sys.argv = ["mscreview", *sys.argv[3:]]
main()
"""


def run_killed_at_rename(args: list[str], k: int, env: dict[str, str], cwd: Path | None = None
                         ) -> tuple[int, int | None]:
    """Run ``mscreview ARGS``, killed before its K-th rename (0: never). (status, renames)."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([sys.executable, "-c", KILL_AT_RENAME, str(k), str(write_fd), *args],
                            env=env, cwd=cwd, pass_fds=(write_fd,), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    os.close(write_fd)
    _, err = proc.communicate(timeout=600)
    with os.fdopen(read_fd, "rb") as fh:
        written = fh.read()
    if proc.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"mscreview {' '.join(args)} failed: {err.decode()[-2000:]}")
    return proc.returncode, int(written) if written else None


def run_killed_after(args: list[str], seconds: float, env: dict[str, str],
                     cwd: Path | None = None) -> int:
    """Run ``mscreview ARGS`` and SIGKILL it after ``seconds`` (if still running)."""
    proc = subprocess.Popen([sys.executable, "-m", "mscreview", *args], env=env, cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        return -signal.SIGKILL
    if proc.returncode != 0:
        raise AssertionError(f"mscreview {' '.join(args)} failed: {err.decode()[-2000:]}")
    return 0


def recover(folder: Path) -> None:
    """What the next mscreview command does first: finish or drop an interrupted commit."""
    with atomic.reading(folder, "check"):
        pass
    assert not (folder / atomic.TXN_DIR).exists()


def report_digest(out: Path) -> str:
    """sha256 of every path and file under ``out`` but the lock file (it names its last holder)."""
    h = hashlib.sha256()
    for p in sorted(out.rglob("*")):
        if p.name == atomic.LOCK_NAME:
            continue
        h.update(str(p.relative_to(out)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()
