"""CSV conventions of the data package, shared by the validator and the writers.

Resources are UTF-8 CSV with LF line endings, minimal quoting, sorted by primary key, where numeric
key fields sort as numbers and missing-value codes sort first. No I/O beyond the two small helpers
that read and write one CSV file.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mscreview.models import MISSING_CODES

__all__ = ["primary_key_sorter", "to_cell", "write_csv_atomic", "csv_text"]

SortKey = Callable[[Sequence[str]], tuple[tuple[int, Any], ...]]


def primary_key_sorter(schema: dict[str, Any], header: Sequence[str]) -> tuple[list[str], SortKey]:
    """The primary key fields present in ``header`` and a sort key for raw records."""
    types = {f["name"]: f.get("type") for f in schema.get("fields", [])}
    key = [k for k in schema.get("primaryKey", []) if k in header]
    idx = [(list(header).index(k), types.get(k) in ("number", "integer")) for k in key]

    def cell(rec: Sequence[str], i: int, numeric: bool) -> tuple[int, Any]:
        v = rec[i] if i < len(rec) else ""
        if v in MISSING_CODES:
            return (0, "")
        if numeric:
            try:
                return (1, float(v))
            except ValueError:
                return (2, v)
        return (2, v)

    return key, lambda rec: tuple(cell(rec, i, num) for i, num in idx)


def to_cell(value: Any) -> str:
    """A Python value as the package writes it: booleans lower case, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_text(header: Sequence[str], records: Sequence[Sequence[str]]) -> str:
    """The CSV text of a resource (LF, minimal quoting)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(records)
    return buf.getvalue()


def write_csv_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
