"""The ``db``, ``sql`` and ``export`` verbs: the evidence as a DuckDB database and Parquet files.

``sql`` and ``export`` never answer from stale data: every database built here records the hash
of what it was built from (:func:`mscreview.store.source_hash`), and :func:`current_database`
uses a database only when that hash is the package's now: the one ``build`` wrote
(``reports/mscreview.duckdb``) or the package's own ``mscreview.duckdb``, which it (re)builds
when neither is current. So ``sql`` works on a fresh clone, and after any edit of ``data/``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mscreview.atomic import Transaction, reading, writing
from mscreview.errors import InputError, MscreviewError, ProblemsError, UsageError, printable
from mscreview.validate import validate_package

if TYPE_CHECKING:
    from mscreview.store import Preloaded

__all__ = ["make_database", "query_database", "export_all", "format_rows", "open_shell",
           "require_valid", "load_valid", "current_database"]

#: Where ``sql`` keeps the database it builds itself (git-ignored), beside the descriptor.
OWN_DATABASE = "mscreview.duckdb"


_NOTHING_WRITTEN = "run mscreview validate; nothing was written"


def require_valid(package: Path | str) -> Path:
    """The descriptor path of ``package`` if it validates; otherwise ProblemsError."""
    package = Path(package)
    if package.is_dir():
        package = package / "datapackage.json"
    report = validate_package(package)
    if not report.valid:
        raise ProblemsError(report.sorted(), _NOTHING_WRITTEN)
    return package


def load_valid(package: Path | str) -> Preloaded:
    """``package`` validated and its typed tables loaded in memory, in one read of the CSVs
    (:func:`mscreview.store.preload`); otherwise ProblemsError. Nothing is written."""
    from mscreview.store import preload

    package = Path(package)
    if package.is_dir():
        package = package / "datapackage.json"
    try:
        return preload(package)
    except ProblemsError as err:
        raise ProblemsError(err.problems, _NOTHING_WRITTEN) from None


def _build(descriptor: Path, target: Path) -> Path:
    """Validate the package and build its database at ``target`` in one load."""
    from mscreview.store import build_database

    try:
        return build_database(descriptor, target)
    except ProblemsError as err:
        raise ProblemsError(err.problems, _NOTHING_WRITTEN) from None


def make_database(package: Path | str, out: Path | str) -> Path:
    """Validate ``package`` and build the DuckDB database at ``out``.

    An existing ``out`` is replaced only when it is a database built here (it records its source).
    """
    from mscreview.store import build_record

    out = Path(out)
    descriptor = _descriptor_path(package)
    if not descriptor.is_file():
        require_valid(descriptor)  # says there is no package there
    try:
        with reading(descriptor.parent, "db"):
            if out.exists() and not build_record(out).get("source_hash"):
                raise InputError(f"{out}: exists and is not a database built by mscreview, so it is "
                                 "not replaced; move it away, or choose another --out")
            return _build(descriptor, out)
    except OSError as err:
        raise MscreviewError(f"{err.filename or out}: {err.strerror or err}") from None


def _descriptor_path(package: Path | str) -> Path:
    path = Path(package)
    return path / "datapackage.json" if path.is_dir() else path


def current_database(package: Path | str | None = None, db: Path | str | None = None, *,
                     notify: Callable[[str], None] | None = None) -> Path:
    """A database that holds the package as it is now, (re)built when needed.

    Without ``db``: the report's ``reports/mscreview.duckdb`` or the package's own
    ``mscreview.duckdb`` when either records the package's current source hash; otherwise the
    latter is (re)built, after validation. With ``db``: that file, checked against ``package``
    or, when none is named, the package it records, and rebuilt when stale. A file that records
    no build is never overwritten; without a package to check against (a downloaded database),
    ``db`` is used as it is.
    """
    from mscreview.store import build_record, source_hash

    if package is None and db is not None:
        recorded = build_record(db).get("package")
        if not recorded or not Path(recorded).is_file():
            if not Path(db).is_file():
                raise InputError(f"{db}: database not found")
            return Path(db)
        package = recorded
    descriptor = _descriptor_path(package if package is not None else "datapackage.json")
    if not descriptor.is_file():
        raise UsageError(f"{descriptor}: no data package here; run in the package folder, or give "
                         "--package, or --db with a database file")
    root = descriptor.parent
    try:
        with reading(root, "sql"):
            want = source_hash(descriptor)
            candidates = ([Path(db)] if db is not None else
                          [root / "reports" / "mscreview.duckdb", root / OWN_DATABASE])
            for candidate in candidates:
                if build_record(candidate).get("source_hash") == want:
                    return candidate
            target = candidates[-1]
            if target.exists():
                if not build_record(target).get("source_hash"):
                    raise InputError(
                        f"{target}: not a database built by mscreview (it records no source "
                        "hash), so it is not replaced; move it away, or name another --db")
                why = "the package changed since it was built"
            else:
                why = "first use"
            if notify is not None:
                notify(f"building {target} ({why})")
            return _build(descriptor, target)
    except OSError as err:
        raise MscreviewError(f"{err.filename or root}: {err.strerror or err}") from None


def query_database(db_path: Path | str, query: str, *, timeout: float | None = None,
                   max_rows: int | None = None) -> tuple[list[str], list[tuple[Any, ...]], bool]:
    """Run a read-only query; statements that write are refused.

    Returns the columns, at most ``max_rows`` rows, and whether more rows were cut.
    """
    from mscreview.store import run_query

    columns, rows = run_query(Path(db_path), query, timeout=timeout, max_rows=max_rows)
    more = max_rows is not None and len(rows) > max_rows
    return columns, rows[:max_rows] if more else rows, more


def export_all(out_dir: Path | str, package: Path | str | None = None,
               db: Path | str | None = None) -> list[Path]:
    """Write the package's tables and views as Parquet into ``out_dir``, all or nothing.

    The database is :func:`current_database`'s. Only the package's own relations are written
    (its resources, the ``sql/`` views, the reference tables), each as ``<name>.parquet``,
    staged and renamed into ``out_dir`` in one transaction; DuckDB may write nowhere else and
    read no other file (a crafted ``--db`` view over ``read_csv('/etc/passwd')`` fails).
    """
    import duckdb

    from mscreview.store import build_record, export_parquet, own_relations

    db_path = current_database(package, db)
    recorded = build_record(db_path).get("package")
    descriptor = _descriptor_path(package) if package is not None else (
        Path(recorded) if recorded else _descriptor_path("datapackage.json"))
    allowed = own_relations(descriptor) if descriptor.is_file() else None
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with writing(folder, "export"), Transaction(folder) as txn:
            staging = txn.folder / "parquet"
            staging.mkdir()
            written = export_parquet(db_path, staging, allowed)
            for path in written:
                txn.add_file(path.name, path)
            txn.commit()
    except OSError as err:
        raise MscreviewError(f"{err.filename or folder}: {err.strerror or err}; nothing was "
                             "exported") from None
    except duckdb.Error as err:
        raise MscreviewError(f"{folder}: {str(err).strip().splitlines()[0]}; nothing was exported"
                             ) from None
    return [folder / path.name for path in written]


def _shortest(v: float) -> float:
    """``v`` rid of binary noise: 15 significant digits, all a double holds in decimal.

    DuckDB's double arithmetic gives ``2.8000000000000003`` for ``1.4 * 2``; printed with 15
    significant digits it is ``2.8`` again, while any value typed with up to 15 digits round-trips.
    """
    return float(f"{v:.15g}") if math.isfinite(v) else v


def _plain(v: Any) -> Any:
    if isinstance(v, float):
        return _shortest(v) if math.isfinite(v) else None  # JSON has no NaN or Infinity
    if isinstance(v, (int, str, bool)) or v is None:
        return v
    return str(v)


def _cell(v: Any) -> Any:
    """A value for the text and CSV outputs: floats without binary noise, everything else as is."""
    return _shortest(v) if isinstance(v, float) else v


#: Characters JSON may carry raw but a terminal must not see: C1 controls, DEL, bidi controls.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def format_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: str, *,
                more: bool = False) -> str:
    """Rows as an aligned text table, CSV or JSON records.

    No control character reaches the terminal raw (an ANSI escape could recolour or rewrite
    it, a bidi control reorder what is shown): the table and CSV show them as ``\\x1b`` or
    ``\\u202e`` (:func:`mscreview.errors.printable`; the CSV keeps tabs and line breaks, which
    it quotes), JSON as ``\\u`` escapes, which decode to the same text. ``more`` says the rows
    were cut at the display cap (the table says so in its last line).
    """
    if fmt == "json":
        text = json.dumps([{c: _plain(v) for c, v in zip(columns, r)} for r in rows], indent=2,
                          ensure_ascii=False)
        return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([printable(c, keep="\t\n") for c in columns])
        w.writerows([["" if v is None else
                      (printable(v, keep="\t\n") if isinstance(v, str) else _cell(v))
                      for v in r] for r in rows])
        return buf.getvalue().rstrip("\n")
    columns = [printable(c) for c in columns]
    cells = [[("NULL" if v is None else printable(str(_cell(v)))) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()  # noqa: E731
    out = [line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells]
    shown = f"{len(rows)} row{'s' if len(rows) != 1 else ''}"
    out.append(f"(first {shown}; more rows were cut: raise --max-rows)" if more else f"({shown})")
    return "\n".join(out)


def open_shell(db_path: Path | str) -> str:
    """How to open the DuckDB shell on the database read-only (the CLI is not a Python package)."""
    exe = shutil.which("duckdb")
    if exe:
        import subprocess

        subprocess.run([exe, "-readonly", str(db_path)], check=False)
        return ""
    return (f"The DuckDB command-line shell is not installed. Install it (https://duckdb.org), then:\n"
            f"  duckdb -readonly {db_path}\n"
            f"or query from Python: mscreview sql \"SELECT * FROM studies\"")
