"""`mscreview db` speed on a generated package with a large continuous_outcomes table.

Target (issue 14): building the database is close to DuckDB doing the same job alone, measured
in the same run. The package is ``benchmarks/validate.py``'s ``make_package``.

- ours: :func:`mscreview.store.build_database` (validation, typed tables with the schemas' keys,
  the reference tables and views, written to a database file), in a fresh process, imports
  included;
- DuckDB alone, in a fresh process: the same database file from the same CSVs with no
  validation: each table created from its Table Schema (types, NOT NULL, primary key) and filled
  by a typed ``read_csv``, then the reference tables and views.
Every view is then queried once on our database (printed apart, not part of the ratio).

Run: python benchmarks/db.py [ROWS ...]   (default 100000)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.validate import make_package  # noqa: E402

_OURS = """
import sys, time
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
from mscreview.store import build_database
build_database({pkg!r}, {out!r})
print(time.perf_counter() - t0)
"""

_ANCHOR = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from benchmarks.validate import typed_load  # the anchor's own helper: not what is timed
t0 = time.perf_counter()
import duckdb
from mscreview.store import _t_quantiles, _wan_divisors, sql_files
con = duckdb.connect({out!r})
con.execute("SET enable_progress_bar = false")
typed_load(con, Path({pkg!r}), keyed=True)
_t_quantiles(con)
_wan_divisors(con)
for path in sql_files():
    con.execute(path.read_text(encoding="utf-8"))
con.execute("CHECKPOINT")
con.close()
print(time.perf_counter() - t0)
"""


def _fresh(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.split()[-1])


def main() -> None:
    import duckdb

    sizes = [int(a) for a in sys.argv[1:]] or [100_000]
    for rows in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            pkg = str(make_package(folder, rows))
            anchor = _fresh(_ANCHOR.format(root=str(ROOT), pkg=pkg,
                                           out=str(folder / "anchor.duckdb")))
            ours_db = folder / "ours.duckdb"
            built = _fresh(_OURS.format(root=str(ROOT), pkg=pkg, out=str(ours_db)))

            from mscreview.store import run_query, view_columns

            t0 = time.perf_counter()
            for view in view_columns(ours_db):
                run_query(ours_db, f"SELECT count(*) FROM {view}")
            queried = time.perf_counter() - t0
            con = duckdb.connect(str(folder / "anchor.duckdb"), read_only=True)
            expected = con.execute("SELECT count(*) FROM continuous_outcomes").fetchone()[0]
            con.close()
            loaded = run_query(ours_db, "SELECT count(*) FROM continuous_outcomes")[1][0][0]
            assert loaded == expected == rows + 4, (loaded, expected)
            print(f"{loaded:>8} rows: mscreview db {built:6.2f} s ({loaded / built:,.0f} rows/s); "
                  f"DuckDB alone (same tables, keys and views, no validation) {anchor:5.2f} s; "
                  f"ours/DuckDB {built / anchor:4.1f}x; every view queried {queried:5.2f} s",
                  flush=True)


if __name__ == "__main__":
    main()
