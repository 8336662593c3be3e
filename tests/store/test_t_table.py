"""The t quantiles the views use are SciPy's, without importing SciPy when the database is built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
from scipy.special import stdtrit

from mscreview.store import T975, T_MAX_DF, T_TABLE


def test_constants_are_scipy_stdtrit_exactly() -> None:
    assert len(T975) == T_MAX_DF
    assert [float(stdtrit(df, 0.975)) for df in range(1, T_MAX_DF + 1)] == list(T975)


def test_the_database_holds_the_same_values(synthetic_db: Path) -> None:
    con = duckdb.connect(str(synthetic_db), read_only=True)
    rows = con.execute(f"SELECT df, t975 FROM {T_TABLE} ORDER BY df").fetchall()
    assert rows == list(enumerate(T975, start=1))


def test_building_the_database_does_not_import_scipy(synthetic_package: Path, tmp_path: Path) -> None:
    code = ("import sys; from mscreview.store import build_database; "
            f"build_database({str(synthetic_package)!r}, {str(tmp_path / 'x.duckdb')!r}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
