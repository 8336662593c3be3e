"""Structural checks as frictionless makes them: header labels, types and field constraints.

Header labels are compared with the schema's field names by position (frictionless'
``extra-label``, ``missing-label``, ``blank-label``, ``duplicate-label``, ``incorrect-label``);
under a wrong header the rows mean nothing and are not checked. Each cell is checked in one SQL
query per resource: its type, then (only when the type is right) each constraint, one problem
per failed constraint; a row whose cells are all missing is one ``blank-row`` problem instead.
Messages quote the offending cell (shortened) and nothing else of the file.
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

from mscreview.validate.cells import (
    bound_literal,
    comparable_sql,
    ident,
    pattern_sql,
)
from mscreview.validate.load import Loaded, RowCheck
from mscreview.validate.problems import Report, shown
from mscreview.validate.reading import RawTable

__all__ = ["check_header", "row_checks", "report_rows", "check_unique"]

_TYPE_WORDS = {"integer": "a whole number", "number": "a number", "boolean": "true or false",
               "date": "a date (YYYY-MM-DD)", "string": "text"}
_DECIMAL_COMMA = re.compile(r"\s*[+-]?\d+,\d+\s*")
_BOUNDS = {"minimum": ("<", ">="), "maximum": (">", "<="), "exclusiveMinimum": ("<=", ">"),
           "exclusiveMaximum": (">=", "<")}


def check_header(table: RawTable, report: Report) -> bool:
    """Header problems of ``table`` (line 1); True when the header is the schema's."""
    labels = table.header
    names = [f.get("name", "") for f in table.fields]
    before = len(report.problems)
    for number in range(len(names) + 1, len(labels) + 1):
        label = labels[number - 1]
        report.add(table.file, 1, label, "extra-label",
                   f"the header has a column {shown(label)} that the schema does not define")
    for number in range(len(labels) + 1, len(names) + 1):
        name = names[number - 1]
        report.add(table.file, 1, name, "missing-label", f"the header lacks the column '{name}'")
    for number, (name, label) in enumerate(zip(names, labels), start=1):
        if not label:
            report.add(table.file, 1, name, "blank-label", "the header has an empty column name")
            continue
        if label in labels[:number - 1]:
            report.add(table.file, 1, name, "duplicate-label",
                       f"the column {shown(label)} appears twice in the header")
            continue
        if label != name:
            report.add(table.file, 1, name, "incorrect-label",
                       f"header column {number} is {shown(label)} but the schema expects "
                       f"'{name}' there")
    return len(report.problems) == before


def _constraint_checks(item: Loaded, i: int) -> list[tuple[str, str]]:
    """(constraint name, SQL that is true when the present, well-typed cell breaks it)."""
    f = item.fields[i]
    cell = item.raw(i)
    compared = comparable_sql(f, ident(f["name"]), cell)
    out = []
    for name, bound in f.get("constraints", {}).items():
        if name == "enum":
            options = ", ".join(str(bound_literal(f, v)) for v in bound)
            subject = cell if f.get("type", "string") == "string" else compared
            out.append((name, f"{subject} NOT IN ({options})" if options else "true"))
        elif name == "pattern":
            out.append((name, f"NOT {pattern_sql(bound, cell)}"))
        elif name in _BOUNDS:
            nan = f"isnan({compared}) OR " if f.get("type") == "number" else ""
            out.append((name, f"({nan}{compared} {_BOUNDS[name][0]} {bound_literal(f, bound)})"))
        elif name == "minLength":
            out.append((name, f"length({cell}) < {int(bound)}"))
        elif name == "maxLength":
            out.append((name, f"length({cell}) > {int(bound)}"))
    return out


def _message(field: dict[str, Any], code: str, constraint: str | None, cell: str) -> str:
    if code == "type-error":
        kind = field.get("type", "string")
        hint = ""
        if kind in ("number", "integer") and _DECIMAL_COMMA.fullmatch(cell):
            hint = f": use a decimal point ({cell.strip().replace(',', '.')})"
        return f"{shown(cell)} is not {_TYPE_WORDS.get(kind, kind)}{hint}"
    constraints = field.get("constraints", {})
    if constraint == "required":
        return "is required but empty"
    if constraint == "unique":
        return f"{shown(cell)} appears in an earlier row; it must be unique"
    if constraint == "enum":
        return f"{shown(cell)} is not one of: {', '.join(map(str, constraints.get('enum', [])))}"
    if constraint == "pattern":
        hint = field.get("description", "")
        return f"{shown(cell)} does not match the pattern {constraints.get('pattern')}" + (
            f" ({hint})" if hint else "")
    if constraint in _BOUNDS:
        return f"{shown(cell)} must be {_BOUNDS[constraint][1]} {constraints.get(constraint)}"
    if constraint in ("minLength", "maxLength"):
        word = "length >=" if constraint == "minLength" else "length <="
        return f"{shown(cell)} must be {word} {constraints.get(constraint)}"
    return f"{shown(cell)} breaks the constraint {constraint}"


def row_checks(item: Loaded) -> list[RowCheck]:
    """Type and constraint checks of every cell of a usable resource, and the blank row."""
    checks = []
    for i, f in enumerate(item.fields):
        name, cell, absent = f["name"], item.raw(i), item.is_missing(i)
        if f.get("type", "string") != "string":
            checks.append(RowCheck(name, "type-error", f"NOT {item.ok(i)}", cell, True))
        if f.get("constraints", {}).get("required"):
            checks.append(RowCheck(name, "constraint-error", absent, "''", True, "required"))
        for constraint, broken in _constraint_checks(item, i):
            checks.append(RowCheck(name, "constraint-error",
                                   f"NOT {absent} AND {item.ok(i)} AND ({broken})", cell, True,
                                   constraint))
    all_missing = " AND ".join(item.is_missing(i) for i in range(len(item.fields)))
    checks.append(RowCheck("", "blank-row", all_missing, "''", True))
    return checks


def report_rows(item: Loaded, hits: list[tuple[int, RowCheck, str]], report: Report) -> None:
    """Structural hits as problems: a blank row is one problem, whatever else its cells break."""
    blank = {line for line, check, _ in hits if check.code == "blank-row"}
    fields = {f["name"]: f for f in item.fields}
    for line, check, cell in hits:
        if check.code == "blank-row":
            report.add(item.file, line, "", check.code, "the row has no values; remove it")
        elif line not in blank:
            report.add(item.file, line, check.field, check.code,
                       _message(fields[check.field], check.code, check.constraint, cell))


def check_unique(con: duckdb.DuckDBPyConnection, item: Loaded, report: Report) -> None:
    """``unique`` constraints: every repeat of a value after its first row."""
    for f in item.fields:
        if not f.get("constraints", {}).get("unique"):
            continue
        value = ident(f["name"])
        found = con.execute(
            f"SELECT __line, CAST({value} AS VARCHAR) FROM (SELECT __line, {value}, row_number() "
            f"OVER (PARTITION BY {value} ORDER BY __line) AS seen FROM {item.rows} "
            f"WHERE {value} IS NOT NULL) WHERE seen > 1").fetchall()
        for line, cell in found:
            report.add(item.file, line, f["name"], "unique-error",
                       _message(f, "unique-error", "unique", cell))
