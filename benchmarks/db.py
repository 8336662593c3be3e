"""Database build speed on a generated package with a large continuous_outcomes table.

Builds the DuckDB database (typed tables from the Table Schemas, every view created, and every
view queried once) from the package of ``benchmarks/validate.py``'s ``make_package`` and prints
rows/s; as a same-process baseline, the time of DuckDB's own ``read_csv`` of the same file into a
temporary in-memory table with auto-detection and no schema work.
Run: python benchmarks/db.py [ROWS ...]   (default 100000)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from benchmarks.validate import make_package  # noqa: E402
from mscreview.store import build_database, run_query, view_columns  # noqa: E402


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [100_000]
    for rows in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            pkg = make_package(folder, rows)
            csv_path = folder / "data" / "continuous_outcomes.csv"

            t0 = time.perf_counter()
            con = duckdb.connect()
            con.execute(f"CREATE TEMP TABLE t AS SELECT * FROM read_csv('{csv_path}')")
            n = con.execute("SELECT count(*) FROM t").fetchone()[0]
            con.close()
            base = time.perf_counter() - t0

            t0 = time.perf_counter()
            db = build_database(pkg, folder / "bench.duckdb")
            built = time.perf_counter() - t0

            t0 = time.perf_counter()
            for view in view_columns(db):
                run_query(db, f"SELECT count(*) FROM {view}")
            queried = time.perf_counter() - t0

            loaded = run_query(db, "SELECT count(*) FROM continuous_outcomes")[1][0][0]
            assert loaded == n, (loaded, n)
            pairs = run_query(db, "SELECT count(*) FROM arm_pairs")[1][0][0]
            print(f"{n:>7} rows: build {built:6.2f} s ({n / built:,.0f} rows/s); all views "
                  f"queried {queried:5.2f} s ({pairs:,} arm_pairs rows); read_csv baseline "
                  f"{base:.3f} s; ratio {built / base:,.1f}x")


if __name__ == "__main__":
    main()
