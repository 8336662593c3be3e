"""Reading a package without trusting it: every failure becomes a problem, never an exception.

The raw text of each resource is read once here; both the structural (frictionless) and the
semantic (pydantic) checks use it, and it maps record numbers to physical lines.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mscreview.errors import UsageError
from mscreview.validate.problems import Report

__all__ = ["PackageFiles", "RawTable", "read_package", "display_path"]


def display_path(path: Path) -> str:
    """The path as a user would type it: relative to the working directory when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel.replace(os.sep, "/")


@dataclass
class RawTable:
    """One CSV resource as text records, with the physical line each record starts on."""

    name: str
    path: Path
    file: str  # display path
    schema: dict[str, Any]
    text: str | None = None  # None when unreadable
    header: list[str] = field(default_factory=list)
    records: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # lines[i] = first physical line of records[i]

    @property
    def usable(self) -> bool:
        """Readable, with the schema's header: its rows mean what the schema says."""
        return self.text is not None and self.header == [
            f.get("name") for f in self.schema.get("fields", [])]

    def line_of_row(self, row_number: int) -> int:
        """Physical line of frictionless' row number (header = row 1)."""
        i = row_number - 2
        if 0 <= i < len(self.lines):
            return self.lines[i]
        return row_number


@dataclass
class PackageFiles:
    """The descriptor and the raw tables of a package."""

    root: Path
    descriptor_path: Path
    descriptor: dict[str, Any]
    tables: dict[str, RawTable]


def _load_json(path: Path, report: Report, what: str) -> dict[str, Any] | None:
    shown = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        report.add(shown, 0, "", "file-missing", f"{what} not found")
        return None
    except UnicodeDecodeError as err:
        report.add(shown, 0, "", "encoding-error", f"{what} is not UTF-8 text ({err.reason})")
        return None
    except OSError as err:
        report.add(shown, 0, "", "file-unreadable", f"{what} cannot be read: {err.strerror}")
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        report.add(shown, err.lineno, "", "invalid-json", f"{what} is not valid JSON: {err.msg}")
        return None
    if not isinstance(data, dict):
        report.add(shown, 1, "", "invalid-json", f"{what} must be a JSON object")
        return None
    return data


def _read_text(table: RawTable, report: Report) -> None:
    try:
        data = table.path.read_bytes()
    except FileNotFoundError:
        report.add(table.file, 0, "", "file-missing", f"resource '{table.name}': file not found")
        return
    except OSError as err:
        report.add(table.file, 0, "", "file-unreadable", f"cannot be read: {err.strerror}")
        return
    if not data.strip():
        report.add(table.file, 1, "", "empty-file",
                   "the file is empty; it needs at least the header line")
        return
    if b"\x00" in data:
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        report.add(table.file, line, "", "binary-content",
                   "the file contains NUL bytes: it is not a CSV text file")
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        report.add(table.file, line, "", "encoding-error",
                   f"not UTF-8: byte 0x{data[err.start]:02x} cannot be decoded; save the file as UTF-8")
        return
    if text.startswith("\ufeff"):
        report.add(table.file, 1, "", "byte-order-mark",
                   "the file starts with a byte-order mark; save as UTF-8 without BOM, or run "
                   "`mscreview format`")
        return
    if "\r" in text:
        line = text.count("\n", 0, text.index("\r")) + 1
        report.add(table.file, line, "", "line-ending",
                   "line endings must be LF (\\n), not CRLF or CR (an editor on Windows? run "
                   "`mscreview format`, or set git's core.autocrlf=input)")
    table.text = text
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for rec in reader:
            if table.header or start > 1:
                if rec:  # blank lines are reported by frictionless
                    table.records.append(rec)
                    table.lines.append(start)
            else:
                table.header = rec
            start = reader.line_num + 1
    except csv.Error as err:
        report.add(table.file, reader.line_num, "", "csv-error", f"the CSV cannot be parsed: {err}")
        table.text = None


def read_package(path: Path | str, report: Report) -> PackageFiles | None:
    """Read the descriptor, each schema and each resource's text; problems go to ``report``.

    Raises
    ------
    UsageError
        When ``path`` names no package at all (nothing to validate).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "datapackage.json"
    if not path.exists():
        raise UsageError(f"no data package at {display_path(path)}")
    descriptor = _load_json(path, report, "the package descriptor")
    if descriptor is None:
        return None
    root = path.parent
    shown = display_path(path)
    version = descriptor.get("version")
    from mscreview.models import SEMVER

    if not isinstance(version, str) or not SEMVER.match(version):
        report.add(shown, 1, "version", "version-not-semver",
                   f"package version {version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
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
        schema_path = root / res["schema"]
        schema = _load_json(schema_path, report, f"schema of resource '{res['name']}'")
        if schema is None:
            continue
        table = RawTable(res["name"], root / res["path"], display_path(root / res["path"]), schema)
        _read_text(table, report)
        tables[table.name] = table
    return PackageFiles(root, path, descriptor, tables)
