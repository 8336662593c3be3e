"""Writes that are all-or-nothing across files, and one writer at a time.

Why it exists: a command such as ``add-trial`` changes several resources, ``build`` publishes a
page with its downloads, ``release`` a descriptor, a changelog and a kept version. Killed at any
instant, each must leave either the old state or the new one, and two commands must never
interleave their writes. The scheme is SQLite's rollback journal turned forward:

1. :class:`Transaction` stages every new file (and folder) under ``ROOT/.mscreview-txn/ID/`` and
   fsyncs it;
2. it writes the journal (the list of renames) under a temporary name and renames it into place:
   **that rename is the commit point**;
3. it renames each staged file over its target (``os.replace``; a folder is swapped through a
   trash name), then removes the journal and the staging folder.

Killed before step 2, nothing changed and the staging folder is garbage. Killed after it, the
journal says exactly what is left to do. :func:`recover` finishes a committed journal (redoing
only the renames not yet done: every step is idempotent) and removes uncommitted garbage. Every
command that reads a package calls it first, through :func:`reading` (readers) or :func:`writing`
(writers), as SQLite readers roll back a hot journal; so no command ever sees half a commit.

Locking is advisory (``fcntl.flock``) on ``ROOT/.mscreview.lock``: writers hold it exclusively,
readers shared; a second writer waits up to ``timeout`` seconds, then fails with a message naming
the holder. Where the lock file cannot be created (a read-only checkout) readers go on unlocked:
nobody can be writing there.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mscreview.errors import MscreviewError

__all__ = ["BusyError", "LOCK_NAME", "TXN_DIR", "Transaction", "reading", "recover", "scratch",
           "writing"]

#: Lock file and journal folder, both in the root of the tree being written (git-ignored).
LOCK_NAME = ".mscreview.lock"
TXN_DIR = ".mscreview-txn"
_JOURNAL = "journal.json"
_TRASH = "trash"

try:  # POSIX; elsewhere the lock is a no-op and only the journal protects the files
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


class BusyError(MscreviewError):
    """Another mscreview command holds the lock of the tree for longer than we may wait."""

    exit_code = 1


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    """fsync a staged file, or every file and folder of a staged folder (written by others)."""
    if path.is_dir():
        for sub in path.rglob("*"):
            if sub.is_file() and not sub.is_symlink():
                with open(sub, "rb") as fh:
                    os.fsync(fh.fileno())
            elif sub.is_dir():
                _fsync_dir(sub)
        _fsync_dir(path)
    elif path.is_file():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())


def _inside(root: Path, rel: str | os.PathLike[str]) -> Path:
    """``root / rel``, refusing absolute paths and anything that leaves ``root``."""
    rel_path = Path(rel)
    if rel_path.is_absolute() or ".." in rel_path.parts or not rel_path.parts:
        raise ValueError(f"{rel!s}: a path inside the tree is required")
    return root / rel_path


# --------------------------------------------------------------------------- locking


def _holder(lock_path: Path) -> str:
    try:
        info = json.loads(lock_path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another mscreview command"
    return f"mscreview {info.get('command', '?')} (pid {info.get('pid', '?')})"


@contextmanager
def _flock(root: Path, exclusive: bool, command: str, timeout: float) -> Iterator[None]:
    lock_path = root / LOCK_NAME
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        if not exclusive and err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            yield  # read-only tree: nobody writes here
            return
        raise MscreviewError(f"{lock_path}: cannot create the lock file ({err.strerror})") from None
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BusyError(
                        f"{_holder(lock_path)} is writing in {root}; waited {timeout:g} s. "
                        "Run this command again when it has finished.") from None
                time.sleep(0.05)
        if exclusive:
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"command": command, "pid": os.getpid()}).encode(), 0)
        yield
    finally:
        os.close(fd)  # closing releases the lock


@contextmanager
def writing(root: Path | str, command: str, *, timeout: float = 60.0) -> Iterator[Path]:
    """Hold the exclusive lock of ``root`` (after finishing any interrupted commit).

    Read the files you are about to change *inside* this block: a second writer that waited for
    the lock must see the first one's result.
    """
    root = Path(root)
    with _flock(root, True, command, timeout):
        recover(root)
        yield root


@contextmanager
def scratch(root: Path | str) -> Iterator[Path]:
    """A private working folder under ``ROOT/.mscreview-txn/``, removed on exit.

    For work that must not touch the package yet (a trial checked on a copy first). Hold
    :func:`writing`: killed inside the block, the folder has no journal, so the next writer's
    :func:`recover` removes it; nothing is left in ``/tmp`` or beside the data.
    """
    folder = Path(root) / TXN_DIR / f"scratch-{uuid.uuid4().hex}"
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        try:
            folder.parent.rmdir()  # only when empty: a transaction may be staged beside it
        except OSError:
            pass


@contextmanager
def reading(root: Path | str, command: str, *, timeout: float = 60.0) -> Iterator[Path]:
    """Hold a shared lock of ``root``; an interrupted commit is finished first."""
    root = Path(root)
    if (root / TXN_DIR).exists():
        try:
            with _flock(root, True, command, timeout):
                recover(root)
        except MscreviewError:
            if (root / TXN_DIR / _JOURNAL).exists():
                raise
    with _flock(root, False, command, timeout):
        yield root


# --------------------------------------------------------------------------- the journal


def _redo(op: dict[str, Any], root: Path) -> None:
    """Do one journalled rename unless it is done already (idempotent)."""
    staged, target = root / op["staged"], root / op["target"]
    if op["kind"] == "file":
        if staged.exists():
            os.replace(staged, target)
    elif op["kind"] == "dir":
        trash = root / op["trash"]
        if staged.exists():
            if target.exists() and not trash.exists():
                os.rename(target, trash)
            if target.exists():  # the trash was taken by an earlier partial run
                shutil.rmtree(target)
            os.rename(staged, target)
    elif op["kind"] == "delete":
        trash = root / op["trash"]
        if target.exists() and not trash.exists():
            os.rename(target, trash)
    else:  # pragma: no cover - journals are written by this module only
        raise ValueError(f"unknown journal operation {op['kind']!r}")


def recover(root: Path | str) -> bool:
    """Finish a committed transaction of ``root`` and remove uncommitted ones.

    Call it holding the exclusive lock (:func:`writing` does). Returns True when a committed
    transaction was finished.
    """
    root = Path(root)
    txn_root = root / TXN_DIR
    if not txn_root.is_dir():
        return False
    finished = False
    for txn in sorted(p for p in txn_root.iterdir() if p.is_dir()):
        journal = txn / _JOURNAL
        if journal.is_file():
            ops = json.loads(journal.read_text(encoding="utf-8"))["ops"]
            for op in ops:
                _redo(op, root)
            for op in ops:
                _fsync_dir((root / op["target"]).parent)
            finished = True
        shutil.rmtree(txn, ignore_errors=True)
    shutil.rmtree(txn_root, ignore_errors=True)
    return finished


class Transaction:
    """Stage new contents for files (and folders) of ``root``; :meth:`commit` puts all in place.

    Use inside :func:`writing`. Nothing outside ``ROOT/.mscreview-txn`` changes before
    :meth:`commit`; a transaction that is never committed is removed by :meth:`abort` or by the
    next :func:`recover`.

    Examples
    --------
    >>> with writing(root, "add-trial"):                              # doctest: +SKIP
    ...     txn = Transaction(root)
    ...     txn.write("data/arms.csv", new_arms)
    ...     txn.write("data/studies.csv", new_studies)
    ...     txn.commit()
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.id = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
        self.folder = self.root / TXN_DIR / self.id
        self.folder.mkdir(parents=True)
        self._ops: list[dict[str, Any]] = []
        self._targets: set[Path] = set()
        self.committed = False

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _claim(self, rel: str | os.PathLike[str]) -> Path:
        target = _inside(self.root, rel)
        if target in self._targets:
            raise ValueError(f"{rel!s} is already part of this transaction")
        self._targets.add(target)
        return target

    def write(self, rel: str | os.PathLike[str], data: bytes | str) -> None:
        """Stage the whole new content of the file ``rel`` (relative to the root)."""
        target = self._claim(rel)
        staged = self.folder / f"f{len(self._ops):04d}"
        payload = data.encode("utf-8") if isinstance(data, str) else data
        with open(staged, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        self._ops.append({"kind": "file", "staged": self._rel(staged), "target": self._rel(target)})

    def add_file(self, rel: str | os.PathLike[str], path: Path, *, durable: bool = True) -> None:
        """Stage a file already written elsewhere in the same file system (it is moved).

        ``durable``: fsync it before the commit point (skip for a file that can be rebuilt).
        """
        target = self._claim(rel)
        staged = self.folder / f"f{len(self._ops):04d}"
        os.replace(path, staged)
        self._ops.append({"kind": "file", "staged": self._rel(staged), "target": self._rel(target),
                          "fsync": durable})

    def folder_for(self, rel: str | os.PathLike[str], *, durable: bool = True) -> Path:
        """A new, empty staging folder that replaces the folder ``rel`` whole on commit.

        ``durable``: fsync every file in it before the commit point, so a power cut after the
        commit cannot leave empty files (skip it for contents that can be rebuilt, such as a
        report's downloads: a kill never loses written data, only a power cut can).
        """
        target = self._claim(rel)
        staged = self.folder / f"d{len(self._ops):04d}"
        staged.mkdir()
        trash = self.folder / _TRASH / f"d{len(self._ops):04d}"
        self._ops.append({"kind": "dir", "staged": self._rel(staged), "target": self._rel(target),
                          "trash": self._rel(trash), "fsync": durable})
        return staged

    def delete(self, rel: str | os.PathLike[str]) -> None:
        """Remove the file or folder ``rel`` on commit (moved aside, then deleted)."""
        target = self._claim(rel)
        trash = self.folder / _TRASH / f"x{len(self._ops):04d}"
        self._ops.append({"kind": "delete", "staged": "", "target": self._rel(target),
                          "trash": self._rel(trash)})

    def commit(self) -> None:
        """Write the journal (the commit point), do every rename, then clean up."""
        if self.committed:
            raise RuntimeError("transaction already committed")
        (self.folder / _TRASH).mkdir(exist_ok=True)
        for op in self._ops:  # targets' folders must exist before the commit point
            (self.root / op["target"]).parent.mkdir(parents=True, exist_ok=True)
            if op.get("fsync"):  # write() fsynced its file already
                _fsync_tree(self.root / op["staged"])
        _fsync_dir(self.folder)
        tmp = self.folder / (_JOURNAL + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump({"ops": self._ops}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.folder / _JOURNAL)  # ---- commit point
        _fsync_dir(self.folder)
        self.committed = True
        recover(self.root)

    def abort(self) -> None:
        """Throw the staged contents away (nothing outside the staging folder was touched)."""
        if not self.committed:
            shutil.rmtree(self.folder, ignore_errors=True)
            try:
                self.folder.parent.rmdir()
            except OSError:
                pass

    def __enter__(self) -> Transaction:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None or not self.committed:
            self.abort()
