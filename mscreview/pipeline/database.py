"""The ``db``, ``sql`` and ``export`` verbs: the evidence as a DuckDB database and Parquet files."""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from pathlib import Path
from typing import Any

from mscreview.errors import ProblemsError
from mscreview.validate import validate_package

__all__ = ["make_database", "query_database", "export_all", "format_rows", "open_shell",
           "require_valid"]


def require_valid(package: Path | str) -> Path:
    """The descriptor path of ``package`` if it validates; otherwise ProblemsError."""
    package = Path(package)
    if package.is_dir():
        package = package / "datapackage.json"
    report = validate_package(package)
    if not report.valid:
        raise ProblemsError(report.sorted(), "run mscreview validate; nothing was written")
    return package


def make_database(package: Path | str, out: Path | str) -> Path:
    """Validate ``package`` and build the DuckDB database at ``out``."""
    from mscreview.store import build_database

    return build_database(require_valid(package), Path(out))


def query_database(db_path: Path | str, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run a read-only query; statements that write are refused."""
    from mscreview.store import run_query

    return run_query(Path(db_path), query)


def export_all(db_path: Path | str, out_dir: Path | str) -> list[Path]:
    """Write every table and view as Parquet into ``out_dir``."""
    from mscreview.store import export_parquet

    return list(export_parquet(Path(db_path), Path(out_dir)))


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


def format_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> str:
    """Rows as an aligned text table, CSV or JSON records."""
    if fmt == "json":
        return json.dumps([{c: _plain(v) for c, v in zip(columns, r)} for r in rows], indent=2,
                          ensure_ascii=False)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(columns)
        w.writerows([["" if v is None else _cell(v) for v in r] for r in rows])
        return buf.getvalue().rstrip("\n")
    cells = [[("NULL" if v is None else str(_cell(v))) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths)).rstrip()  # noqa: E731
    out = [line(columns), line(["-" * w for w in widths])] + [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
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
