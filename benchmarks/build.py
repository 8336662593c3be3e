"""Full ``mscreview build`` time: the shipped package in a fresh process, and 5,000 trials.

Targets (issue 14), printed as ratios against anchors measured in the same run:
- the shipped package: ``mscreview build`` in a fresh process in 1.0 s or less (anchor: a fresh
  Python that only starts, and the DuckDB-only work below in a fresh process);
- 5,000 generated trials: at most 1.5x the DuckDB-only anchor.
The DuckDB-only anchor does the database work a build cannot avoid, with no validation, pooling
or report: each CSV loaded with the schema's types, the helper tables and views created, every
table and view written to Parquet, and every analysis view fetched once.

Run: python benchmarks/build.py [TRIALS]   (default 5000)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from validate import make_package, typed_load  # noqa: E402

TARGET_SHIPPED_S = 1.0
TARGET_RATIO = 1.5


def duckdb_only(descriptor: Path, out: Path) -> float:
    """The anchor: typed load, helper tables, views, Parquet of everything, analysis views."""
    import duckdb

    from mscreview.plan import analysis_views
    from mscreview.store import _t_quantiles, _wan_divisors, sql_files
    from mscreview.validate.cells import ident, literal

    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(out / "anchor.duckdb"))
    con.execute("SET enable_progress_bar = false")  # drawn on stdout past 2 s
    typed_load(con, descriptor)
    _t_quantiles(con)
    _wan_divisors(con)
    for path in sql_files():
        con.execute(path.read_text(encoding="utf-8"))
    names = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT internal UNION ALL "
        "SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()]
    (out / "parquet").mkdir(exist_ok=True)
    for name in names:
        con.execute(f"COPY (SELECT * FROM {ident(name)}) TO "
                    f"{literal(str(out / 'parquet' / (name + '.parquet')))} (FORMAT parquet)")
    for view in analysis_views():
        con.execute(f"SELECT * FROM {ident(view)}").fetchall()
    con.close()
    return time.perf_counter() - t0


def _fresh(code: str) -> float:
    """Wall time of a fresh Python process running ``code``, as a user's would run: with the
    bytecode caches Python (``.pyc``) and the report (compiled templates) keep beside the code.
    ``PYTHONDONTWRITEBYTECODE`` is dropped from the environment, or every run would compile
    mscreview's modules and templates again (0.5 s or more); the first of the repeated runs
    writes the caches and the minimum is reported."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True,
                   env=env)
    return time.perf_counter() - t0


def _import_seconds(code: str) -> float:
    """Seconds ``python -X importtime`` reports for the top-level imports of ``code`` (every
    thread's; steadier than wall time on a busy machine)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    err = subprocess.run([sys.executable, "-X", "importtime", "-c", code], check=True, cwd=ROOT,
                         capture_output=True, text=True, env=env).stderr
    rows = [line.split("|") for line in err.splitlines() if line.startswith("import time:")]
    return sum(int(r[1]) for r in rows[1:] if r[2].startswith(" ") and r[2][1] != " ") / 1e6


def shipped() -> None:
    descriptor = ROOT / "datapackage.json"
    with tempfile.TemporaryDirectory() as tmp:
        start = min(_fresh("pass") for _ in range(3))
        run = ("from mscreview.cli import main; import sys; sys.argv = ['mscreview', "
               f"'build', '--package', {str(descriptor)!r}, '--out', "
               f"{str(Path(tmp) / 'out')!r}, '--quiet']; main()")
        ours = min(_fresh(run) for _ in range(3))
        imports = min(_import_seconds(run) for _ in range(2))
        anchor = min(_fresh("import sys; sys.path.insert(0, 'benchmarks'); "
                            "from build import duckdb_only; from pathlib import Path; "
                            f"duckdb_only(Path({str(descriptor)!r}), "
                            f"Path({str(Path(tmp) / f'anchor{i}')!r}))") for i in range(3))
    print(f"shipped package, fresh process: build {ours:.2f} s (target <= {TARGET_SHIPPED_S:g} s); "
          f"Python start {start:.2f} s; DuckDB-only {anchor:.2f} s (build/DuckDB-only "
          f"{ours / anchor:.1f}x); the build's imports {imports:.2f} s (-X importtime)", flush=True)


def generated(trials: int) -> None:
    from mscreview.pipeline.build import build

    with tempfile.TemporaryDirectory() as tmp:
        descriptor = make_package(Path(tmp), rows=trials * 2 * 10 * 3, times=(0, 4.3, 13.0),
                                  drawn_baselines=True)
        anchor = duckdb_only(descriptor, Path(tmp) / "anchor")
        t0 = time.perf_counter()
        build(descriptor, Path(tmp) / "out", quiet=True)
        ours = time.perf_counter() - t0
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"{trials}-trial package: build {ours:.2f} s; DuckDB-only {anchor:.2f} s "
          f"(build/DuckDB-only {ours / anchor:.2f}x, target <= {TARGET_RATIO:g}x); peak RSS of "
          f"this process {peak:.0f} MB", flush=True)


def main() -> None:
    shipped()
    generated(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)


if __name__ == "__main__":
    main()
