"""Full ``mscreview build`` time: the shipped package, and a generated 500-trial package.

Prints wall times (target: the shipped package in 1.5 s or less) and, as a same-process baseline,
the time to read every CSV of the package with the csv module.
Run: python benchmarks/build.py [TRIALS]
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from validate import make_package  # noqa: E402

from mscreview.pipeline.build import build  # noqa: E402


def read_all(descriptor: Path) -> float:
    t0 = time.perf_counter()
    for res in json.loads(descriptor.read_text())["resources"]:
        with open(descriptor.parent / res["path"], newline="") as fh:
            sum(1 for _ in csv.reader(fh))
    return time.perf_counter() - t0


def timed_build(descriptor: Path) -> float:
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        build(descriptor, out, quiet=True)
        return time.perf_counter() - t0


def main() -> None:
    trials = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    shipped = ROOT / "datapackage.json"
    timed_build(shipped)  # warm imports, as a second build in one process would be
    took, base = timed_build(shipped), read_all(shipped)
    print(f"shipped package: build {took:.2f} s (target 1.5 s); csv baseline {base:.3f} s; "
          f"ratio {took / base:,.0f}x")
    with tempfile.TemporaryDirectory() as tmp:
        pkg = make_package(Path(tmp), rows=trials * 2 * 10 * 3, times=(0, 4.3, 13.0))
        took, base = timed_build(pkg), read_all(pkg)
        print(f"{trials}-trial package: build {took:.2f} s; csv baseline {base:.3f} s; "
              f"ratio {took / base:,.0f}x")


if __name__ == "__main__":
    main()
