"""Short commands import only what they use (issue 14, item 3): ``pool`` and ``sql`` start
without SciPy (``import scipy.special`` alone costs 0.35-0.8 s), ``sql`` without numpy or the
report's jinja2, and a build of the shipped package without SciPy or pydantic. Each command runs
in a fresh Python, which then lists its modules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mscreview.pipeline.database import make_database
from tests.conftest import ROOT, make_package

_RUN = """
import sys
from mscreview.cli import main
out, sys.argv = sys.argv[1], ["mscreview", *sys.argv[2:]]
try:
    main()
except SystemExit as exit:
    assert not exit.code, exit.code
with open(out, "w") as f:
    f.write("\\n".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _top_modules(tmp_path: Path, *args: str) -> set[str]:
    listing = tmp_path / "modules.txt"
    subprocess.run([sys.executable, "-c", _RUN, str(listing), *args], check=True, cwd=tmp_path,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return set(listing.read_text().split())


def test_pool_imports_no_scipy(tmp_path: Path) -> None:
    csv = tmp_path / "meld.csv"
    csv.write_text("study,n1,mean1,sd1,n2,mean2,sd2\na,10,5,1,10,6,1\nb,20,4,2,20,6,2\n"
                   "c,15,3,1,14,3.5,1.2\n")
    for measure in ("MD", "SMD"):
        modules = _top_modules(tmp_path, "pool", str(csv), "--measure", measure, "--hksj",
                               "--format", "json")
        assert "numpy" in modules  # the check sees what was imported
        assert "scipy" not in modules


def test_sql_imports_no_scipy_numpy_or_jinja(tmp_path: Path) -> None:
    make_package(tmp_path)
    make_database(tmp_path, tmp_path / "mscreview.duckdb")  # the database sql reuses
    modules = _top_modules(tmp_path, "sql", "--format", "csv", "SELECT count(*) FROM studies")
    assert "duckdb" in modules
    assert not modules & {"scipy", "numpy", "jinja2"}


@pytest.mark.slow
def test_build_of_the_shipped_package_imports_no_scipy_or_pydantic(tmp_path: Path) -> None:
    """Its analyses need only the engine's own distribution functions, and the plan, the
    validator and the context no pydantic model (together 0.5-1 s of a build)."""
    modules = _top_modules(tmp_path, "build", "--package", str(ROOT / "datapackage.json"),
                           "--out", str(tmp_path / "out"), "--quiet")
    assert {"duckdb", "numpy", "jinja2"} <= modules
    assert not modules & {"scipy", "pydantic"}
