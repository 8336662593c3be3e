"""The package's CSV resources in memory, for the verbs that change rows (add-trial, format).

A :class:`Table` keeps its records as text, exactly as the file has them, and which trial-file row
(if any) wrote each record, so a problem found later on a line of the written file is reported
against the line of the trial file. Keys compare as the validator compares them: number fields as
numbers (``13`` = ``13.0``), the rest as text.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mscreview.tables import csv_text, primary_key_sorter
from mscreview.vocabulary import MISSING_CODES

__all__ = ["Table", "load_tables", "load_schemas", "resource_paths"]


def resource_paths(descriptor_path: Path) -> dict[str, dict[str, str]]:
    """``{name: {"path": ..., "schema": ...}}`` of every resource of the descriptor."""
    descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    return {r["name"]: {"path": r["path"], "schema": r["schema"]} for r in descriptor["resources"]}


def load_schemas(descriptor_path: Path) -> dict[str, dict[str, Any]]:
    """Every resource's Table Schema, by resource name."""
    root = descriptor_path.parent
    return {name: json.loads((root / r["schema"]).read_text(encoding="utf-8"))
            for name, r in resource_paths(descriptor_path).items()}


@dataclass
class Table:
    """One resource: header, records as text, and the trial-file row behind each record."""

    name: str
    path: str
    schema: dict[str, Any]
    header: list[str]
    records: list[list[str]]
    origin: list[Any] = field(default_factory=list)  # parallel to records: a trialfile.Row or None
    original: str = ""  # the file's text as read
    touched: bool = False

    def __post_init__(self) -> None:
        if not self.origin:
            self.origin = [None] * len(self.records)
        self._types = {f["name"]: f.get("type") for f in self.schema.get("fields", [])}

    @property
    def key(self) -> list[str]:
        return list(self.schema.get("primaryKey", []))

    def typed(self, name: str, value: str) -> Any:
        """A cell as the validator compares it."""
        if value in MISSING_CODES:
            return ""
        if self._types.get(name) in ("number", "integer"):
            try:
                return float(value)
            except ValueError:
                return value
        return value

    def key_of(self, cells: dict[str, str]) -> tuple[Any, ...]:
        return tuple(self.typed(k, cells.get(k, "") or "") for k in self.key)

    def record_key(self, rec: list[str]) -> tuple[Any, ...]:
        return self.key_of(dict(zip(self.header, rec)))

    def find(self, cells: dict[str, str]) -> int | None:
        """Index of the record with the primary key of ``cells``, if any."""
        want = self.key_of(cells)
        for i, rec in enumerate(self.records):
            if self.record_key(rec) == want:
                return i
        return None

    def rows(self) -> list[dict[str, str]]:
        return [dict(zip(self.header, rec)) for rec in self.records]

    def put(self, cells: dict[str, str], origin: Any = None, *, merge: bool = False) -> str:
        """Insert a record, or (``merge``) update the record with the same key; 'added'/'changed'.

        With ``merge`` the fields given replace those of the existing record and the others keep
        their values; without it a record is always appended (a duplicate key is then reported
        by the validator, on the trial file's line).
        """
        self.touched = True
        i = self.find(cells) if merge else None
        if i is None:
            self.records.append([cells.get(f, "") for f in self.header])
            self.origin.append(origin)
            return "added"
        old = self.records[i]
        self.records[i] = [cells[f] if f in cells else old[j] for j, f in enumerate(self.header)]
        if origin is not None:
            self.origin[i] = origin
        return "changed" if self.records[i] != old else "unchanged"

    def sort(self) -> None:
        """Sort by primary key (stable), keeping each record's origin with it."""
        _, sort_key = primary_key_sorter(self.schema, self.header)
        order = sorted(range(len(self.records)), key=lambda i: sort_key(self.records[i]))
        self.records = [self.records[i] for i in order]
        self.origin = [self.origin[i] for i in order]

    def text(self) -> str:
        return csv_text(self.header, self.records)

    def record_lines(self) -> list[int]:
        """The physical line each record starts on in :meth:`text` (header = 1)."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        out, line = [], 2
        for rec in self.records:
            out.append(line)
            buf.seek(0)
            buf.truncate()
            writer.writerow(rec)
            line += buf.getvalue().count("\n")
        return out


def load_tables(descriptor_path: Path, names: list[str] | None = None) -> dict[str, Table]:
    """The resources ``names`` (default: all) of a package that validates, as :class:`Table`."""
    root = descriptor_path.parent
    out = {}
    for name, res in resource_paths(descriptor_path).items():
        if names is not None and name not in names:
            continue
        schema = json.loads((root / res["schema"]).read_text(encoding="utf-8"))
        text = (root / res["path"]).read_text(encoding="utf-8")
        records = list(csv.reader(io.StringIO(text, newline="")))
        header, body = (records[0], records[1:]) if records else (
            [f["name"] for f in schema["fields"]], [])
        out[name] = Table(name, res["path"], schema, header, [r for r in body if r],
                          original=text)
    return out
