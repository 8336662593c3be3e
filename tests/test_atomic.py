"""All-or-nothing writes across files and the package lock (mscreview.atomic)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mscreview import atomic
from mscreview.atomic import BusyError, Transaction, reading, recover, writing

FILES = [f"data/r{i}.csv" for i in range(6)]


def _seed(root: Path, version: str) -> None:
    (root / "data").mkdir(exist_ok=True)
    for name in FILES:
        (root / name).write_text(f"{name},{version}\n" * 50)


def _versions(root: Path) -> set[str]:
    return {(root / n).read_text().split("\n")[0].split(",")[1] for n in FILES}


def test_commit_replaces_every_file_and_leaves_no_staging(tmp_path: Path) -> None:
    _seed(tmp_path, "old")
    with writing(tmp_path, "test"):
        txn = Transaction(tmp_path)
        for name in FILES:
            txn.write(name, f"{name},new\n")
        txn.write("data/brand-new.csv", "x\n")
        txn.commit()
    assert _versions(tmp_path) == {"new"}
    assert (tmp_path / "data/brand-new.csv").read_text() == "x\n"
    assert not (tmp_path / atomic.TXN_DIR).exists()


def test_uncommitted_transaction_changes_nothing(tmp_path: Path) -> None:
    _seed(tmp_path, "old")
    with pytest.raises(RuntimeError), writing(tmp_path, "test"), Transaction(tmp_path) as txn:
        txn.write(FILES[0], "changed\n")
        raise RuntimeError("validation failed")
    assert _versions(tmp_path) == {"old"}
    assert not (tmp_path / atomic.TXN_DIR).exists()


def test_folder_swap_and_delete(tmp_path: Path) -> None:
    (tmp_path / "out" / "plots").mkdir(parents=True)
    (tmp_path / "out" / "plots" / "stale.svg").write_text("old")
    (tmp_path / "out" / "gone.txt").write_text("old")
    with writing(tmp_path, "test"):
        txn = Transaction(tmp_path)
        staged = txn.folder_for("out/plots")
        (staged / "new.svg").write_text("new")
        txn.delete("out/gone.txt")
        txn.commit()
    assert sorted(p.name for p in (tmp_path / "out" / "plots").iterdir()) == ["new.svg"]
    assert not (tmp_path / "out" / "gone.txt").exists()


def test_paths_outside_the_tree_are_refused(tmp_path: Path) -> None:
    with writing(tmp_path, "test"), Transaction(tmp_path) as txn:
        for bad in ("../escape.csv", "/etc/passwd", "data/../../x"):
            with pytest.raises(ValueError):
                txn.write(bad, "x")


@pytest.mark.parametrize("fail_after", range(len(FILES)))
def test_crash_between_renames_is_finished_by_the_next_reader(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_after: int) -> None:
    """A commit interrupted after its journal is completed, never left half done."""
    _seed(tmp_path, "old")
    real = os.replace
    calls = {"n": 0}

    def flaky(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        if str(dst).endswith(".csv"):
            calls["n"] += 1
            if calls["n"] > fail_after:
                raise KeyboardInterrupt  # stands for SIGKILL at this instant
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", flaky)
    with pytest.raises(KeyboardInterrupt), writing(tmp_path, "test"):
        txn = Transaction(tmp_path)
        for name in FILES:
            txn.write(name, f"{name},new\n")
        txn.commit()
    assert len(_versions(tmp_path)) == (1 if fail_after == 0 else 2)  # half done on disk...
    monkeypatch.setattr(atomic.os, "replace", real)
    with reading(tmp_path, "validate"):  # ...until the next command opens the tree
        assert _versions(tmp_path) == {"new"}
    assert not (tmp_path / atomic.TXN_DIR).exists()


WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from mscreview.atomic import Transaction, writing
    root = Path(sys.argv[1])
    files = [f"data/r{i}.csv" for i in range(6)]
    n = 0
    while True:
        n += 1
        with writing(root, "stress"):
            txn = Transaction(root)
            for name in files:
                txn.write(name, f"{name},v{n}\\n" * 2000)
            txn.commit()
""")


@pytest.mark.slow
def test_killed_at_random_instants_never_leaves_a_mixed_tree(tmp_path: Path) -> None:
    _seed(tmp_path, "v0")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    rng = random.Random(20261201)
    env = {**os.environ, "PYTHONPATH": str(Path(atomic.__file__).parent.parent)}
    for _ in range(25):
        proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], env=env)
        time.sleep(0.25 + rng.random() * 0.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with reading(tmp_path, "check"):
            assert len(_versions(tmp_path)) == 1
    assert _versions(tmp_path) != {"v0"}  # the writer did get work done between kills


def test_second_writer_waits_then_fails_naming_the_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys, time
            from mscreview.atomic import writing
            with writing(sys.argv[1], "add-trial"):
                print("locked", flush=True)
                time.sleep(30)
        """), str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(atomic.__file__).parent.parent)})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(BusyError, match=r"mscreview add-trial \(pid \d+\) is writing"), \
                writing(tmp_path, "build", timeout=0.3):
            pass
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()
    with writing(tmp_path, "build", timeout=5):  # released by the holder's death
        pass


def test_recover_removes_uncommitted_staging(tmp_path: Path) -> None:
    _seed(tmp_path, "old")
    txn = Transaction(tmp_path)
    txn.write(FILES[0], "never committed\n")
    assert recover(tmp_path) is False
    assert _versions(tmp_path) == {"old"}
    assert not (tmp_path / atomic.TXN_DIR).exists()


def test_scratch_is_removed_on_exit_and_by_the_next_writer_after_a_kill(tmp_path: Path) -> None:
    with writing(tmp_path, "test") as root, atomic.scratch(root) as folder:
        assert folder.parent == tmp_path / atomic.TXN_DIR
        (folder / "pkg").mkdir()
    assert not (tmp_path / atomic.TXN_DIR).exists()
    code = textwrap.dedent(f"""
        import os, signal
        from mscreview.atomic import scratch, writing
        with writing({str(tmp_path)!r}, "killed") as root, scratch(root) as folder:
            (folder / "half-written.csv").write_text("x")
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(atomic.__file__).parent.parent)}
    proc = subprocess.run([sys.executable, "-c", code], env=env)
    assert proc.returncode == -signal.SIGKILL
    assert list((tmp_path / atomic.TXN_DIR).glob("scratch-*/half-written.csv"))
    with writing(tmp_path, "next"):
        pass
    assert not (tmp_path / atomic.TXN_DIR).exists()
