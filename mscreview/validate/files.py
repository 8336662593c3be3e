"""Opening the package's files without trusting the package.

A descriptor may name any path, and a file may be a symbolic link, a FIFO or a device. The
validator reads only regular files inside the package folder: every component of a resource or
schema path is opened relative to the folder with ``O_NOFOLLOW`` (no symbolic link anywhere), and
the file is checked with ``fstat`` before a byte is read; FIFOs are opened with ``O_NONBLOCK``, so
opening one never waits for a writer. A refused file becomes a problem naming it, and no message
ever shows a byte of its content.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["Opened", "Refused", "display_path", "open_descriptor", "open_inside", "read_all"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_DIR_FD = os.open in os.supports_dir_fd and bool(_NOFOLLOW)


def display_path(path: Path) -> str:
    """The path as a user would type it: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel.replace(os.sep, "/")


@dataclass
class Opened:
    """A regular file opened for reading; ``fd`` stays open until :meth:`close`."""

    fd: int
    size: int

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    @property
    def reader_path(self) -> str:
        """A path another reader (DuckDB) can open to read this very file, not whatever the
        package path names by then."""
        proc = f"/proc/self/fd/{self.fd}"
        return proc if os.path.exists(proc) else f"/dev/fd/{self.fd}"


@dataclass
class Refused:
    """Why a file was not opened: a problem ``code`` and a message without file content."""

    code: str
    message: str


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    return "not a regular file"


def _check_regular(fd: int) -> Opened | Refused:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return Refused("not-a-regular-file",
                       f"is {_kind(info.st_mode)}; the package reads only regular files")
    return Opened(fd, info.st_size)


_LINK = Refused("symbolic-link",
                "is a symbolic link; the package reads only regular files inside its folder")


def _os_error(err: OSError) -> Refused:
    import errno

    if err.errno == errno.ENOENT:
        return Refused("file-missing", "file not found")
    if err.errno == errno.ELOOP:
        return _LINK
    if err.errno == errno.ENOTDIR:
        return Refused("file-missing", "a folder on its path is not a folder")
    return Refused("file-unreadable", f"cannot be read: {err.strerror}")


def open_descriptor(path: Path) -> Opened | Refused:
    """Open the descriptor the user named (not a symbolic link, FIFO or device)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
    except OSError as err:
        return _os_error(err)
    return _check_regular(fd)


def _unsafe(rel: str) -> str | None:
    """Why a descriptor path may not be followed, or None."""
    if not rel or "\\" in rel or "\x00" in rel or "://" in rel:
        return "is not a relative path inside the package"
    pure = PurePosixPath(rel)
    if pure.is_absolute() or any(part in ("..", "") for part in rel.split("/")):
        return "points outside the package folder; use a relative path without '..'"
    return None


def open_inside(root: Path, rel: str) -> Opened | Refused:
    """Open ``rel`` (a descriptor path) inside ``root``, following no symbolic link at all."""
    why = _unsafe(rel)
    if why is not None:
        return Refused("unsafe-path", why)
    parts = [p for p in rel.split("/") if p != "."]
    if not _DIR_FD:  # no openat(): refuse links by lstat, then check the final file
        for i in range(1, len(parts) + 1):
            if root.joinpath(*parts[:i]).is_symlink():
                return _LINK
        try:
            fd = os.open(root.joinpath(*parts), os.O_RDONLY | _NONBLOCK | _CLOEXEC)
        except OSError as err:
            return _os_error(err)
        return _check_regular(fd)
    try:
        dir_fd = os.open(root, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
    except OSError as err:
        return _os_error(err)
    part = parts[0]
    try:
        for part in parts[:-1]:
            next_fd = os.open(part, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)
            os.close(dir_fd)
            dir_fd = next_fd
        part = parts[-1]
        fd = os.open(part, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, dir_fd=dir_fd)
    except OSError as err:
        try:  # a link to a folder fails as "not a folder": name it for what it is
            if stat.S_ISLNK(os.stat(part, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                return _LINK
        except OSError:
            pass
        return _os_error(err)
    finally:
        os.close(dir_fd)
    return _check_regular(fd)


def read_all(opened: Opened) -> bytes:
    """Every byte of an opened regular file (from its start, whatever was read before)."""
    chunks = []
    offset = 0
    while True:  # one read of the size fstat gave (no copy to join), more if it grew
        chunk = os.pread(opened.fd, max(opened.size + 1 - offset, 1 << 16), offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)
