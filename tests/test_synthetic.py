"""The synthetic many-trial package (tests/synthetic.py) is valid, reproducible and builds."""

from __future__ import annotations

import json
from pathlib import Path

from mscreview.validate import validate_package
from tests.conftest import tree_digest
from tests.synthetic import write_synthetic_package


def test_valid_and_says_synthetic(synthetic_trials_package: Path) -> None:
    report = validate_package(synthetic_trials_package)
    assert report.valid, [p for p in report.problems][:5]
    sources = (synthetic_trials_package.parent / "data" / "sources.csv").read_text()
    rows = sources.strip().splitlines()[1:]
    assert rows and all("SYNTHETIC" in r for r in rows)


def test_same_seed_same_files_other_seed_other_numbers(tmp_path: Path) -> None:
    digests = []
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        (tmp_path / name).mkdir()
        write_synthetic_package(tmp_path / name, k=12, seed=seed)
        digests.append(tree_digest(tmp_path / name / "data"))
    assert digests[0] == digests[1] != digests[2]


def test_k_is_a_parameter(tmp_path: Path) -> None:
    pkg = write_synthetic_package(tmp_path, k=20, seed=5)
    assert validate_package(pkg).valid
    studies = (tmp_path / "data" / "studies.csv").read_text().strip().splitlines()[1:]
    assert sum(1 for s in studies if ",true," in s) == 20


def test_build_pools_every_kind_of_analysis(synthetic_trials_build: Path) -> None:
    results = json.loads((synthetic_trials_build / "results.json").read_text())
    assert (synthetic_trials_build / "index.html").stat().st_size > 0
    by_id = {a["id"]: a for a in results["analyses"]}
    assert by_id["meld-overall"]["total"]["k"] == 12
    assert by_id["death-longest"]["status"] == "pooled"
    multi = [r for r in by_id["meld-overall"]["rows"] if "experimental_arms_combined" in r["flags"]]
    assert len(multi) == 1
    assert by_id["inr-overall"]["missing"]  # a value not reported: the call for data
    assert any(e["reason"] for e in by_id["hcc-longest"]["excluded"])  # double-zero trial
    assert {s["verification"] for s in results["studies"]} >= {"seed_only", "abstract",
                                                                "full_text"}
    assert len(results["risk_of_bias"]) == 2
