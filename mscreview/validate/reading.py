"""Reading a package without trusting it: every failure becomes a problem, never an exception.

The descriptor and the schemas are parsed here. Each resource file is opened once (safely, see
:mod:`~mscreview.validate.files`) and its bytes are checked for what a CSV parser would hide or
trip on (emptiness, NUL bytes, encoding, byte-order mark, line endings); the header record is
read here too. The rows themselves are parsed by DuckDB only (:mod:`~mscreview.validate.load`).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mscreview.errors import UsageError
from mscreview.tables import csv_fields_unlimited
from mscreview.validate.cells import schema_problems
from mscreview.validate.files import (
    Opened,
    Refused,
    display_path,
    open_descriptor,
    open_inside,
    read_all,
)
from mscreview.validate.problems import Report
from mscreview.vocabulary import SEMVER

__all__ = ["PackageFiles", "RawTable", "read_package", "display_path"]


@dataclass
class RawTable:
    """One CSV resource: its open file, what the byte checks found, and its header record."""

    name: str
    path: Path
    file: str  # display path
    schema: dict[str, Any]
    opened: Opened | None = None  # None when the file cannot be parsed at all
    header: list[str] = field(default_factory=list)
    header_lines: int = 1  # physical lines of the header record
    newline: str = "\n"
    physical_lines: int = 0
    blank_lines: bool = False  # the bytes hold an empty line (perhaps inside a quoted cell)
    schema_ok: bool = True

    @property
    def readable(self) -> bool:
        """The file can be parsed as CSV."""
        return self.opened is not None

    @property
    def fields(self) -> list[dict[str, Any]]:
        return list(self.schema.get("fields", []))

    @property
    def usable(self) -> bool:
        """Readable, with the schema's header: its rows mean what the schema says."""
        return self.readable and self.schema_ok and self.header == [
            f.get("name") for f in self.fields]

    def read_bytes(self) -> bytes:
        """The file's bytes, read again through the open file (for the rare slow paths)."""
        assert self.opened is not None
        return read_all(self.opened)

    def close(self) -> None:
        if self.opened is not None:
            self.opened.close()


@dataclass
class PackageFiles:
    """The descriptor and the raw tables of a package."""

    root: Path
    descriptor_path: Path
    descriptor: dict[str, Any]
    tables: dict[str, RawTable]

    def close(self) -> None:
        for table in self.tables.values():
            table.close()


def _load_json(data: bytes | Refused, shown: str, report: Report, what: str
               ) -> dict[str, Any] | None:
    if isinstance(data, Refused):
        message = "not found" if data.code == "file-missing" else data.message
        report.add(shown, 0, "", data.code, f"{what} {message}")
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        report.add(shown, 0, "", "encoding-error", f"{what} is not UTF-8 text ({err.reason})")
        return None
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as err:
        report.add(shown, err.lineno, "", "invalid-json", f"{what} is not valid JSON: {err.msg}")
        return None
    except RecursionError:
        report.add(shown, 1, "", "invalid-json", f"{what} is nested too deeply")
        return None
    if not isinstance(parsed, dict):
        report.add(shown, 1, "", "invalid-json", f"{what} must be a JSON object")
        return None
    return parsed


def _contents(opened: Opened | Refused) -> bytes | Refused:
    if isinstance(opened, Refused):
        return opened
    try:
        return read_all(opened)
    except OSError as err:
        return Refused("file-unreadable", f"cannot be read: {err.strerror}")
    finally:
        opened.close()


def _first_bad_utf8(data: bytes) -> int | None:
    """Offset of the first byte that is not UTF-8, or None (checked in slices: little memory)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 22
    for start in range(0, len(data), step):
        try:
            decoder.decode(data[start:start + step], final=start + step >= len(data))
        except UnicodeDecodeError as err:
            return start + err.start
    return None


def _check_bytes(table: RawTable, data: bytes, report: Report) -> bool:
    """Byte-level problems; False when the file cannot be parsed as CSV at all."""
    if not data or data.isspace():  # (no stripped copy of a large file)
        report.add(table.file, 1, "", "empty-file",
                   "the file is empty; it needs at least the header line")
        return False
    nul = data.find(b"\x00")
    if nul >= 0:
        report.add(table.file, data.count(b"\n", 0, nul) + 1, "", "binary-content",
                   "the file contains NUL bytes: it is not a CSV text file")
        return False
    bad = _first_bad_utf8(data)
    if bad is not None:
        report.add(table.file, data.count(b"\n", 0, bad) + 1, "", "encoding-error",
                   f"not UTF-8: byte 0x{data[bad]:02x} cannot be decoded; save the file as UTF-8")
        return False
    if data.startswith(codecs.BOM_UTF8):
        report.add(table.file, 1, "", "byte-order-mark",
                   "the file starts with a byte-order mark; save as UTF-8 without BOM, or run "
                   "`mscreview format`")
        return False
    cr = data.find(b"\r")
    if cr >= 0:
        report.add(table.file, data.count(b"\n", 0, cr) + 1, "", "line-ending",
                   "line endings must be LF (\\n), not CRLF or CR (an editor on Windows? run "
                   "`mscreview format`, or set git's core.autocrlf=input)")
        lf = data.count(b"\n")
        if not (data.count(b"\r") == data.count(b"\r\n") == lf):
            return False  # mixed endings: the records cannot be told apart reliably
        table.newline = "\r\n"
    table.physical_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    blank = b"\n\n" if table.newline == "\n" else b"\r\n\r\n"
    table.blank_lines = blank in data or data.startswith(table.newline.encode())
    with csv_fields_unlimited():
        reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=""))
        try:
            table.header = next(reader, [])
        except csv.Error:
            report.add(table.file, 1, "", "csv-error", "the header line cannot be parsed as CSV")
            return False
        table.header_lines = max(reader.line_num, 1)
    if not table.header:
        report.add(table.file, 1, "", "blank-header", "the first line must be the header")
        return False
    return True


def _open_table(table: RawTable, rel: str, root: Path, report: Report) -> None:
    opened = open_inside(root, rel)
    if isinstance(opened, Refused):
        if opened.code == "file-missing":
            report.add(table.file, 0, "", "file-missing",
                       f"resource '{table.name}': file not found")
        else:
            report.add(table.file, 0, "", opened.code, opened.message)
        return
    try:
        data = read_all(opened)
    except OSError as err:
        opened.close()
        report.add(table.file, 0, "", "file-unreadable", f"cannot be read: {err.strerror}")
        return
    if _check_bytes(table, data, report):
        table.opened = opened
    else:
        opened.close()


def read_package(path: Path | str, report: Report) -> PackageFiles | None:
    """Read the descriptor, each schema and each resource's bytes; problems go to ``report``.

    The caller closes the returned package (its files stay open for the DuckDB load).

    Raises
    ------
    UsageError
        When ``path`` names no package at all (nothing to validate).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "datapackage.json"
    if not path.exists() and not path.is_symlink():
        raise UsageError(f"no data package at {display_path(path)}")
    shown = display_path(path)
    descriptor = _load_json(_contents(open_descriptor(path)), shown, report,
                            "the package descriptor")
    if descriptor is None:
        return None
    root = path.parent
    version = descriptor.get("version")
    if not isinstance(version, str) or not SEMVER.match(version):
        report.add(shown, 1, "version", "version-not-semver",
                   f"package version {str(version)[:40]!r} is not a semantic version "
                   "(MAJOR.MINOR.PATCH)")
    resources = descriptor.get("resources")
    if not isinstance(resources, list) or not resources:
        report.add(shown, 1, "resources", "no-resources", "the package lists no resources")
        return None
    tables: dict[str, RawTable] = {}
    for i, res in enumerate(resources):
        if not isinstance(res, dict) or not isinstance(res.get("name"), str) \
                or not isinstance(res.get("path"), str) or not isinstance(res.get("schema"), str):
            report.add(shown, 1, f"resources[{i}]", "bad-resource",
                       "each resource needs a name, a path and a schema path")
            continue
        name = res["name"]
        if name in tables:
            report.add(shown, 1, f"resources[{i}]", "bad-resource",
                       f"two resources are named '{name}'")
            continue
        schema_shown = display_path(root / res["schema"])
        schema = _load_json(_contents(open_inside(root, res["schema"])), schema_shown, report,
                            f"schema of resource '{name}'")
        if schema is None:
            continue
        table = RawTable(name, root / res["path"], display_path(root / res["path"]), schema)
        for fld, message in schema_problems(schema):
            report.add(schema_shown, 1, fld, "unsupported-schema", message)
            table.schema_ok = False
        _open_table(table, res["path"], root, report)
        tables[name] = table
    return PackageFiles(root, path, descriptor, tables)
