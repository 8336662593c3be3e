"""CSV conventions of the data package, shared by the validator and the writers.

Resources are UTF-8 CSV with LF line endings, minimal quoting, sorted by primary key, where numeric
key fields sort as numbers and missing-value codes sort first. No I/O beyond the two small helpers
that read and write one CSV file.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mscreview.vocabulary import MISSING_CODES

__all__ = ["primary_key_sorter", "to_cell", "write_csv_atomic", "csv_text", "neutralise_formula",
           "neutralise_formulas", "csv_fields_unlimited"]

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


@contextmanager
def csv_fields_unlimited() -> Iterator[None]:
    """Parse with no CSV field size limit, whatever another library set, and restore it after.

    The csv module's limit is process state (importing frictionless raises it): reading with a
    fixed limit makes the same file give the same result in any process.
    """
    before = csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(before)


#: First characters that make a spreadsheet treat a cell as a formula (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A signed plain number ("-1.5", "+2e3") starts with a sign but cannot run anything.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
#: Quick test on the raw text: could any cell start with a formula character at all?
_MAYBE_FORMULA = re.compile(r'(?:^|[,\n])"?[=+\-@\t\r]')


def neutralise_formula(cell: str) -> str:
    """``cell`` with a leading apostrophe when a spreadsheet would run it as a formula.

    OWASP's advice for CSV downloads: prefix cells that start with ``=``, ``+``, ``-``, ``@``, a
    tab or a carriage return with a single quote. Plain signed numbers are left as they are.
    """
    if cell.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def neutralise_formulas(text: str, schema: dict[str, Any]) -> str:
    """The CSV ``text`` of a resource with every text cell made safe for spreadsheets.

    Only ``string`` fields change (numbers stay numbers); the header is kept. Returns ``text``
    itself when no cell needs it.
    """
    if not _MAYBE_FORMULA.search(text):
        return text
    fields = schema.get("fields", [])
    text_columns = {i for i, f in enumerate(fields) if f.get("type", "string") == "string"}
    with csv_fields_unlimited():
        rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return text
    changed = False
    for row in rows[1:]:
        for i in text_columns:
            if i < len(row):
                safe = neutralise_formula(row[i])
                if safe is not row[i]:
                    row[i] = safe
                    changed = True
    return csv_text(rows[0], rows[1:]) if changed else text
