"""Primary keys, foreign keys and sort order, checked on the raw records.

frictionless checks types and constraints; keys are checked here because (1) frictionless accepts
nulls in composite primary keys, (2) its key checks cost more than all other row checks together
(each foreign key re-reads the referenced table), and (3) here every problem keeps its physical
line. Keys compare typed values: number fields as numbers ("13" = "13.0"), the rest as text.
"""

from __future__ import annotations

import bisect
from typing import Any

from mscreview.models import MISSING_CODES
from mscreview.tables import primary_key_sorter
from mscreview.validate.problems import Report
from mscreview.validate.reading import PackageFiles, RawTable

__all__ = ["check_keys"]


def _typed_tuples(table: RawTable, fields: list[str]) -> list[tuple[Any, ...] | None]:
    """Typed key of each record; None when a key cell is missing (reported as 'required')."""
    types = {f["name"]: f.get("type") for f in table.schema.get("fields", [])}
    idx = [(table.header.index(f), types.get(f) in ("number", "integer")) for f in fields]
    out: list[tuple[Any, ...] | None] = []
    for rec in table.records:
        key = []
        for i, numeric in idx:
            v = rec[i] if i < len(rec) else ""
            if v in MISSING_CODES:
                key = None
                break
            if numeric:
                try:
                    key.append(float(v))
                    continue
                except ValueError:
                    pass
            key.append(v)
        out.append(None if key is None else tuple(key))
    return out


def _check_primary_key(table: RawTable, report: Report) -> None:
    key = table.schema.get("primaryKey", [])
    if not key:
        return
    seen: dict[tuple[Any, ...], int] = {}
    for line, k in zip(table.lines, _typed_tuples(table, key)):
        if k is None:
            continue
        if k in seen:
            report.add(table.file, line, ", ".join(key), "primary-key",
                       f"duplicate primary key ({', '.join(map(str, k))}): line {seen[k]} has the "
                       "same values")
        else:
            seen[k] = line


def _check_sorted(table: RawTable, report: Report) -> None:
    key, fn = primary_key_sorter(table.schema, table.header)
    if not key:
        return
    keys = [fn(rec) for rec in table.records]
    for n in range(1, len(keys)):
        if keys[n] < keys[n - 1]:
            # rows 0..n-1 are sorted: the row goes after the last of them with a key <= its own
            at = bisect.bisect_right(keys, keys[n], 0, n)
            shown = ", ".join(table.records[n][table.header.index(k)] for k in key)
            where = (f"after line {table.lines[at - 1]}" if at > 0
                     else f"before line {table.lines[0]} (first data row)")
            report.add(table.file, table.lines[n], key[0], "not-sorted",
                       f"rows must be sorted by the primary key ({', '.join(key)}): this row "
                       f"({shown}) belongs {where}; run `mscreview format` to sort every file")
            return


def _check_foreign_keys(pkg: PackageFiles, table: RawTable, usable: set[str],
                        report: Report) -> None:
    for fk in table.schema.get("foreignKeys", []):
        fields = fk.get("fields", [])
        ref = fk.get("reference", {})
        target_name = ref.get("resource") or table.name
        target = pkg.tables.get(target_name)
        if target is None or target_name not in usable:
            report.add(table.file, 0, ", ".join(fields), "foreign-key-skipped",
                       f"foreign key to '{target_name}' not checked: that resource is unreadable")
            continue
        ref_fields = ref.get("fields", [])
        allowed = {k for k in _typed_tuples(target, ref_fields) if k is not None}
        where = f"{target.file.rsplit('/', 1)[-1]} ({', '.join(ref_fields)})"
        for line, k in zip(table.lines, _typed_tuples(table, fields)):
            if k is not None and k not in allowed:
                shown = ", ".join(f"'{v}'" for v in k)
                report.add(table.file, line, ", ".join(fields), "foreign-key",
                           f"{shown} not found in {where}")


def check_keys(pkg: PackageFiles, report: Report, usable: set[str]) -> None:
    """Primary keys, sort order and foreign keys of the tables in ``usable``."""
    for name in sorted(usable):
        table = pkg.tables[name]
        _check_primary_key(table, report)
        _check_sorted(table, report)
        _check_foreign_keys(pkg, table, usable, report)
