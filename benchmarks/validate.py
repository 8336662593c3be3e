"""Validation speed on a generated package with a large continuous_outcomes table.

Prints rows/s for 25k, 50k and 100k rows (linear growth expected; target: 100k rows in 3 s or less)
and, as a same-process baseline, the time of a bare ``csv.reader`` pass over the same file.
Run: python benchmarks/validate.py [ROWS]
"""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mscreview.validate import validate_package  # noqa: E402

FIXTURE = ROOT / "tests" / "fixtures" / "valid" / "data"


def make_package(folder: Path, rows: int, times: tuple[float, ...] = (0, 4.3)) -> Path:
    """The synthetic fixture package with ``rows`` continuous outcome rows (2 arms x 10 outcomes
    x ``times`` per study)."""
    shutil.copy(ROOT / "datapackage.json", folder / "datapackage.json")
    shutil.copytree(ROOT / "schemas", folder / "schemas")
    shutil.copytree(FIXTURE, folder / "data")
    n_studies = max(1, -(-rows // (20 * len(times))))
    # ids match ^[a-z][a-z]+[0-9]{4}[a-z]?$ and sort after the fixture's own study
    ids = sorted(f"zbench{i % 10000:04d}{'abcdefghijklmnopqrstuvwxyz'[i // 10000]}"
                 for i in range(n_studies))
    d = folder / "data"
    with open(d / "studies.csv", "a", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        for s in ids:
            w.writerow([s, s, "", 2020, "SYNTHETIC", "None", "", "", "rct", "cirrhosis", "", "", "",
                        "", "", "", "", "", "", "", "", "", "true", "", "", "full_text",
                        "fixture-article", "Table 1", ""])
    with open(d / "arms.csv", "a", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        for s in ids:
            for arm, role in (("control", "control"), ("msc", "experimental")):
                w.writerow([s, arm, role, "x", 100, 100, "extracted", "fixture-article", "T1", "q", ""])
    with open(d / "continuous_outcomes.csv", "a", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        outcomes = sorted(["ALB", "ALT", "AST", "INR", "MELD", "PT", "PTA", "TBIL", "CHE", "GGT"])
        units = {"ALB": "g/L", "ALT": "U/L", "AST": "U/L", "INR": "none", "MELD": "none",
                 "PT": "s", "PTA": "%", "TBIL": "umol/L", "CHE": "U/L", "GGT": "U/L"}
        values = {"ALB": 30, "ALT": 40, "AST": 50, "INR": 1.4, "MELD": 15, "PT": 15, "PTA": 70,
                  "TBIL": 40, "CHE": 4000, "GGT": 60}
        written = 0
        for s in ids:
            for arm in ("control", "msc"):
                for o in outcomes:
                    for t in times:
                        if written >= rows:
                            break
                        w.writerow([s, arm, o, t, f"{t} weeks", "final", 50, "mean", values[o], "sd",
                                    1.5, "", "", units[o], "", "", "extracted", "fixture-article",
                                    "Table 2", "quote", ""])
                        written += 1
    return folder / "datapackage.json"


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [25_000, 50_000, 100_000]
    for rows in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            pkg = make_package(Path(tmp), rows)
            t0 = time.perf_counter()
            with open(Path(tmp) / "data" / "continuous_outcomes.csv", newline="") as fh:
                n = sum(1 for _ in csv.reader(fh)) - 1
            base = time.perf_counter() - t0
            t0 = time.perf_counter()
            report = validate_package(pkg)
            took = time.perf_counter() - t0
            assert report.valid, report.problems[:5]
            print(f"{n:>7} rows: validate {took:6.2f} s  ({n / took:,.0f} rows/s); "
                  f"csv.reader baseline {base:.3f} s; ratio {took / base:,.0f}x")


if __name__ == "__main__":
    main()
