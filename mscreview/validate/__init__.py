"""Validation of a data package: one DuckDB load, every rule as SQL over it.

``validate_package`` never writes a file and never raises for bad data: every problem, with its
file, physical line and field, goes into the returned :class:`Report`. Each CSV is parsed once,
by DuckDB (:mod:`~mscreview.validate.load`); structure (:mod:`~mscreview.validate.structure`,
held to frictionless by tests/validate/test_differential.py), keys
(:mod:`~mscreview.validate.keys`) and meaning (:mod:`~mscreview.validate.semantic`) are queries
over that load. Given a connection (``into``), a valid package's typed tables are created in
it: the database ``build``, ``db`` and ``sql`` use is the validated load itself.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from mscreview.validate.problems import (
    Problem,
    Report,
    format_github,
    format_json,
    format_lines,
    format_text,
)

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "Problem", "Report", "validate_package", "format_lines", "format_text", "format_json",
    "format_github",
]


#: Key problems are never hidden by a structural problem on the same line.
_ALWAYS = frozenset({"primary-key", "foreign-key", "foreign-key-skipped", "not-sorted"})


def validate_package(path: Path | str = "datapackage.json", *,
                     into: duckdb.DuckDBPyConnection | None = None,
                     today: date | None = None) -> Report:
    """Validate the package at ``path`` (a descriptor or its folder).

    Parameters
    ----------
    path
        ``datapackage.json`` or the folder holding it.
    into
        A DuckDB connection: when the package is valid, its typed tables (types, NOT NULL and
        primary keys from the Table Schemas) are created in the connection's current database.
    today
        The date years are bounded by (default: today, UTC).

    Raises
    ------
    mscreview.errors.UsageError
        When there is no package at ``path``.
    """
    import duckdb

    from mscreview.validate import semantic
    from mscreview.validate.keys import check_keys
    from mscreview.validate.load import DEFAULT_MISSING_VALUES, Loaded, load_table, store_tables
    from mscreview.validate.prisma import check_prisma
    from mscreview.validate.reading import read_package
    from mscreview.validate.structure import check_header, check_unique, report_rows
    from mscreview.validate.structure import row_checks as structural_checks

    report = Report()
    pkg = read_package(path, report)
    if pkg is None:
        return report
    con = duckdb.connect() if into is None else into
    # DuckDB draws a progress bar on stdout once a query runs past 2 s (1M rows do), even into
    # a pipe: it would corrupt `validate --format json` and every caller's output
    con.execute("SET enable_progress_bar = false")
    con.execute("SET preserve_insertion_order = true")  # the tables stay in file order
    day = today or datetime.now(timezone.utc).date()
    loaded: dict[str, Loaded] = {}
    meaning = Report()
    try:
        for number, (name, table) in enumerate(pkg.tables.items()):
            if not table.readable:
                continue
            header_ok = check_header(table, report) if table.schema_ok else False
            item = Loaded(table, number, table.usable)
            if item.usable:
                item.fields = table.fields
                item.missing = list(table.schema.get("missingValues", DEFAULT_MISSING_VALUES))
            checks = structural_checks(item) + semantic.row_checks(item, day) if item.usable \
                else []
            rows = Report()
            hits = load_table(con, item, checks, rows)
            if header_ok:  # rows under a wrong header mean nothing
                report.problems += rows.problems
            loaded[name] = item
            report.checked[name] = item.records
            report_rows(item, [h for h in hits if h[1].structural], report)
            semantic.report_rows(item, [h for h in hits if not h[1].structural], meaning)
            if item.usable:
                check_unique(con, item, report)
        check_keys(con, loaded, meaning)
        semantic.check_across(con, loaded, meaning)
        check_prisma(con, loaded, meaning)
        # one problem per cell: where a structural problem is on a line, the meaning checks
        # of that line (made on a value that did not parse) add nothing
        structural = {(p.file, p.line) for p in report.problems}
        report.problems += [p for p in meaning.problems
                            if (p.file, p.line) not in structural or p.code in _ALWAYS]
        if into is not None and report.valid:
            store_tables(con, list(loaded.values()))
    finally:
        pkg.close()
        if into is None:
            con.close()
        else:
            _drop_temporary(con, len(pkg.tables))
    return report


def _drop_temporary(con: duckdb.DuckDBPyConnection, count: int) -> None:
    con.execute("; ".join(f"DROP VIEW IF EXISTS __rows{n}; DROP TABLE IF EXISTS __lines{n}; "
                          f"DROP TABLE IF EXISTS __raw{n}; DROP TABLE IF EXISTS __rejects{n}; "
                          f"DROP TABLE IF EXISTS __rejects_scan{n}" for n in range(count)))
