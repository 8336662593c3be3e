"""One DuckDB load per resource: typed rows, every row check, each row's physical line.

Every CSV is parsed once, by DuckDB's ``read_csv`` with every column as text. In the same pass
each field gets its typed value (``TRY_CAST`` of a cell that frictionless would read as that
type, :mod:`~mscreview.validate.cells`) and every check of one row alone (types, constraints,
the meaning rules of a row) is evaluated; the temporary table keeps the typed values and, for
a row failing a check, its cells as written (``__bad``). Only those rows are checked again, with
every message's detail (a valid package's load plans no message). A file of the header alone is
not read. Checks across rows and tables (keys, arms) are SQL over these tables; a valid package's typed
tables are then written into the store from them (:func:`store_tables`): nothing is read twice.

Physical lines: a record's first line is its row index plus the header's lines, plus the line
breaks inside quoted cells of the records before it. Blank lines and rows DuckDB rejects (wrong
number of cells, broken quoting) shift that count; only for such files is the byte stream walked
once more with Python's csv reader to place every record.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import duckdb

from mscreview.tables import csv_fields_unlimited
from mscreview.validate.cells import TYPE_MAP, ident, literal, type_ok_sql, typed_sql
from mscreview.validate.problems import Report
from mscreview.validate.reading import RawTable

__all__ = ["Loaded", "RowCheck", "load_table", "create_table_sql", "store_tables",
           "DEFAULT_MISSING_VALUES"]

#: Table Schema's default ``missingValues`` when a schema gives none.
DEFAULT_MISSING_VALUES = [""]

_RAGGED = {"MISSING COLUMNS", "TOO MANY COLUMNS"}


@dataclass(frozen=True)
class RowCheck:
    """A check of one row alone: when ``when`` (SQL) holds, the row has a problem.

    ``detail`` (SQL text) is the offending cell for a structural check, whose message is
    written in Python, or the whole message for a meaning check. Both are evaluated in the
    loading pass, where :meth:`Loaded.raw`, :meth:`Loaded.is_missing` and :meth:`Loaded.ok`
    name the cells as written.
    """

    field: str
    code: str
    when: str
    detail: str
    structural: bool = False
    constraint: str | None = None


@dataclass
class Loaded:
    """A resource loaded into DuckDB as table :attr:`rows`: every field under its name (typed;
    NULL when missing or not of its type), ``__line`` and ``__bad`` (the cells of a row failing a
    row check). An unusable resource (header not the schema's) has its cells as text, ``__c{i}``, only."""

    table: RawTable
    number: int
    usable: bool
    fields: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    count: int = 0  # data rows loaded
    records: int = 0  # non-blank records of the file (loaded or rejected)

    @property
    def rows(self) -> str:
        """The view of the resource's rows, each with its physical line ``__line`` and its index
    ``__rid`` (file order)."""
        return f"__rows{self.number}"

    @property
    def loaded(self) -> str:
        """The table of the resource's rows as loaded, in file order (``rowid``), without
        their lines."""
        return f"__raw{self.number}"

    @property
    def file(self) -> str:
        return self.table.file

    @property
    def name(self) -> str:
        return self.table.name

    def text(self, i: int) -> bool:
        return self.fields[i].get("type", "string") == "string"

    def index(self, name: str) -> int:
        return next(i for i, f in enumerate(self.fields) if f["name"] == name)

    # names valid in the loading pass only (row checks)

    def raw(self, i: int) -> str:
        """SQL: the cell as written."""
        return f"__c{i}"

    def is_missing(self, i: int) -> str:
        """SQL: the cell is one of the schema's missing-value codes."""
        return f"__m{i}"

    def ok(self, i: int) -> str:
        """SQL: the cell is missing or a value of its type."""
        return "true" if self.text(i) else f"__k{i}"


def _read_csv(source: str, table: RawTable, width: int, number: int, missing: list[str]) -> str:
    """Every cell as text; a cell that is one of the ``missing`` codes (quoted or not, as
    frictionless reads it) is NULL."""
    columns = ", ".join(f"'__c{i}': 'VARCHAR'" for i in range(width))
    newline = "\\r\\n" if table.newline == "\r\n" else "\\n"  # DuckDB's escaped spelling
    nulls = f"[{', '.join(literal(m) for m in missing)}]" if missing else "'\x00'"  # NUL: none
    return (
        f"read_csv({literal(source)}, header = true, auto_detect = false, delim = ',', "
        f"quote = '\"', escape = '\"', new_line = '{newline}', "
        f"encoding = 'utf-8', columns = {{{columns}}}, nullstr = {nulls}, "
        "allow_quoted_nulls = true, ignore_errors = true, store_rejects = true, "
        f"rejects_table = '__rejects{number}', rejects_scan = '__rejects_scan{number}')"
    )


def _cells(table: RawTable, source: str, keep: tuple[str, ...] = ()) -> str:
    """SQL over ``source`` (missing cells NULL): per field the cell as written (``__c{i}``),
    whether it is missing (``__m{i}``), whether it is missing or of its type (``__k{i}``, once
    per cell, for types other than text), and its typed value under the field's name; and the
    columns ``keep`` of ``source``."""
    flags, typed = list(keep), []
    for i, f in enumerate(table.fields):
        cell, name = f"__c{i}", ident(f["name"])
        flags += [cell, f"{cell} IS NULL AS __m{i}"]
        if f.get("type", "string") == "string":
            typed.append(f"{cell} AS {name}")
            continue
        flags.append(f"({cell} IS NULL OR {type_ok_sql(f, cell)}) AS __k{i}")
        typed.append(f"CASE WHEN __k{i} THEN {typed_sql(f, cell)} END AS {name}")
    return (f"SELECT *, {', '.join(typed)} FROM (SELECT {', '.join(flags)} FROM {source})")


def _flagged(names: str, cells: str, checks: list[RowCheck], width: int) -> str:
    """SQL over ``cells``: the typed fields ``names`` and ``__bad``, a row's cells as written
    when one of its checks fails (NULL for a good row: the checks' details are made for bad
    rows only, by :func:`_select_checked`)."""
    if not checks:
        return f"SELECT {names}, NULL::VARCHAR[] AS __bad FROM ({cells})"
    failed = " OR ".join(f"({c.when})" for c in checks)  # CASE takes a NULL as false
    written = ", ".join(f"__c{i}" for i in range(width))
    return f"SELECT {names}, CASE WHEN {failed} THEN [{written}] END AS __bad FROM ({cells})"


def _select_checked(names: str, cells: str, checks: list[RowCheck]) -> str:
    """SQL over ``cells``: the columns ``names`` and ``__h``, the list of a row's failed
    checks as ``{k: check index, d: detail}`` (NULL when none failed). Each condition is
    evaluated once per row; the list is built only for rows with a problem."""
    flags = ", ".join(f"coalesce({c.when}, false) AS __f{k}" for k, c in enumerate(checks))
    any_failed = " OR ".join(f"__f{k}" for k in range(len(checks)))
    hits = ", ".join(f"CASE WHEN __f{k} THEN struct_pack(k := {k}, d := CAST({c.detail} "
                     "AS VARCHAR)) END" for k, c in enumerate(checks))
    return (f"SELECT {names}, CASE WHEN {any_failed} THEN list_filter([{hits}], "
            f"lambda x: x IS NOT NULL) END AS __h FROM (SELECT *, {flags} FROM ({cells}))")


def _records(data: bytes) -> list[tuple[int, int]]:
    """(first physical line, number of cells) of every record after the header."""
    out = []
    with csv_fields_unlimited():
        reader = csv.reader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline=""))
        start = 1
        try:
            for i, rec in enumerate(reader):
                if i:
                    out.append((start, len(rec)))
                start = reader.line_num + 1
        except csv.Error:
            pass
    return out


def _line_at(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, max(position, 0)) + 1


def load_table(con: duckdb.DuckDBPyConnection, item: Loaded, checks: list[RowCheck],
               report: Report) -> list[tuple[int, RowCheck, str]]:
    """Parse the resource into table ``__raw{n}``, checking every row on the way, and place
    each row's line in view :attr:`Loaded.rows`. Returns (line, check, detail) for every
    failed row check."""
    table = item.table
    assert table.opened is not None
    width, number, rows = len(table.header), item.number, item.rows
    raw, lines = f"__raw{number}", f"__lines{number}"
    start = table.header_lines + 1
    if item.usable and table.physical_lines <= table.header_lines:  # the header alone
        columns = ", ".join(f"{ident(f['name'])} {TYPE_MAP[f.get('type', 'string')]}"
                            for f in item.fields)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {raw} ({columns}); CREATE OR REPLACE TEMP "
                    f"VIEW {rows} AS SELECT rowid + {start} AS __line, rowid AS __rid, * "
                    f"FROM {raw}")
        return []
    source = _read_csv(table.opened.reader_path, table, width, number,
                       item.missing if item.usable else [])
    if item.usable:
        names = ", ".join(ident(f["name"]) for f in item.fields)
        select = _flagged(names, _cells(table, source), checks, width)
    else:
        select = f"SELECT *, NULL::VARCHAR[] AS __bad FROM {source}"
    item.count = con.execute(f"CREATE OR REPLACE TEMP TABLE {raw} AS {select}"
                             ).fetchone()[0]  # type: ignore[index]
    found = con.execute(
        f"CREATE OR REPLACE TEMP VIEW {rows} AS SELECT rowid + {start} AS __line, rowid AS __rid, "
        f"* FROM {raw}; "
        f"SELECT 0, line, line_byte_position, error_type FROM __rejects{number} "
        f"UNION ALL (SELECT 1, NULL, NULL, NULL FROM {raw} WHERE __bad IS NOT NULL LIMIT 1)"
    ).fetchall()
    rejects = sorted((r[1], r[2], r[3]) for r in found if r[0] == 0)
    bad = any(r[0] == 1 for r in found)
    item.records = item.count + len({r[0] for r in rejects})
    placed: list[int] | None = None
    if rejects or table.blank_lines:
        placed = _place_records(table, item.count, rejects, width, report)
        if placed is None:
            item.usable = False
            return []
        con.execute(f"CREATE OR REPLACE TEMP TABLE {lines} AS SELECT unnest(range(?)) AS rid, "
                    "unnest(?::BIGINT[]) AS line", [len(placed), placed])
    elif table.physical_lines > table.header_lines + item.count:  # line breaks inside cells
        text = [f"__c{i}" for i in range(width)] if not item.usable else [
            ident(f["name"]) for f in item.fields if f.get("type", "string") == "string"]
        breaks = " + ".join(f"coalesce(length({c}) - length(replace({c}, chr(10), '')), 0)"
                            for c in text) or "0"
        con.execute(f"CREATE OR REPLACE TEMP TABLE {lines} AS SELECT rowid AS rid, rowid + "
                    f"{start} + coalesce(sum({breaks}) OVER (ORDER BY rowid ROWS BETWEEN "
                    f"UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS line FROM {raw}")
        placed = []
    if placed is not None:  # lines from the table instead of the row index
        con.execute(f"CREATE OR REPLACE TEMP VIEW {rows} AS SELECT l.line AS __line, "
                    "r.rowid AS __rid, r.* "
                    f"FROM {raw} AS r JOIN {lines} AS l ON l.rid = r.rowid")
    if not item.usable or not checks or not bad:
        return []
    # the bad rows' cells, as written, checked again with every detail
    written = ", ".join(f"__bad[{i + 1}] AS __c{i}" for i in range(width))
    bad_rows = f"(SELECT __line, {written} FROM {rows} WHERE __bad IS NOT NULL)"
    hits = con.execute(_select_checked("__line", _cells(table, bad_rows, ("__line",)), checks)
                       ).fetchall()
    return [(line, checks[hit["k"]], hit["d"] or "") for line, h in sorted(hits) if h
            for hit in h]


def _place_records(table: RawTable, count: int, rejects: list[tuple[Any, ...]], width: int,
                   report: Report) -> list[int] | None:
    """First lines of the loaded rows, in order; problems for blank and rejected records.

    None when DuckDB's records and Python's cannot be matched (broken quoting): the file's rows
    are then not checked further.
    """
    data = table.read_bytes()
    records = _records(data)
    starts = {line: cells for line, cells in records}
    rejected: dict[int, str] = {}
    for _, position, kind in rejects:
        line = _line_at(data, (position or 1) - 1)
        if line not in starts:
            line = max((s for s in starts if s <= line), default=line)
        if starts.get(line) == 0:  # DuckDB counts the blank lines it skips into the next record
            line = min((s for s in starts if s > line and starts[s]), default=line)
        rejected.setdefault(line, kind)
    placed = []
    for line, cells in records:
        if cells == 0:
            report.add(table.file, line, "", "blank-row", "the line is blank; remove it")
        elif line in rejected:
            kind = rejected[line]
            if kind in _RAGGED:
                report.add(table.file, line, "", "ragged-row",
                           f"the row has {cells} cells but the header has {width}")
            elif kind == "LINE SIZE OVER MAXIMUM":
                report.add(table.file, line, "", "line-too-long",
                           "the line is too long to read (over 2 MB)")
            else:
                report.add(table.file, line, "", "csv-quoting",
                           'the line breaks CSV quoting: a quoted cell must end at a comma or the '
                           'line end, and a quote inside one is written ""')
        else:
            placed.append(line)
    if len(placed) != count:
        first = min(rejected, default=0)
        report.add(table.file, first, "", "csv-error",
                   "the rows cannot be read as CSV from here on (check the quoting)")
        return None
    return placed


def create_table_sql(table: str, schema: dict[str, Any]) -> str:
    """``CREATE TABLE`` statement for one Table Schema.

    Types follow :data:`~mscreview.validate.cells.TYPE_MAP`; ``constraints.required`` becomes
    NOT NULL, ``constraints.unique`` UNIQUE and ``primaryKey`` PRIMARY KEY.
    """
    columns = []
    for f in schema["fields"]:
        name, kind = f.get("name"), f.get("type", "string")
        constraints = f.get("constraints", {})
        column = f"{ident(name)} {TYPE_MAP[kind]}"
        if constraints.get("required"):
            column += " NOT NULL"
        if constraints.get("unique"):
            column += " UNIQUE"
        columns.append(column)
    key = schema.get("primaryKey")
    if key:
        key = [key] if isinstance(key, str) else key
        columns.append(f"PRIMARY KEY ({', '.join(ident(k) for k in key)})")
    return f"CREATE TABLE {ident(table)} (\n  " + ",\n  ".join(columns) + "\n)"


def store_tables(con: duckdb.DuckDBPyConnection, loaded: list[Loaded]) -> None:
    """Create every resource's typed table in the connection's current database, from the load."""
    for item in loaded:
        schema = item.table.schema
        con.execute(create_table_sql(item.name, schema))
        names = ", ".join(ident(f["name"]) for f in schema["fields"])
        # the load is in file order (rowid), and DuckDB keeps it (preserve_insertion_order,
        # set by validate_package): no sort
        con.execute(f"INSERT INTO {ident(item.name)} SELECT {names} FROM {item.loaded}")

