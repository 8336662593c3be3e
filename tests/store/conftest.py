"""Fixtures: the synthetic package, and a multi-arm variant built here (never in data/)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from mscreview.store import build_database
from mscreview.tables import csv_text, primary_key_sorter
from tests.conftest import make_package

CONTINUOUS_HEADER = (
    "study_id,arm_id,outcome,timepoint_weeks,timepoint_label,value_type,n,central_kind,central,"
    "dispersion_kind,dispersion,dispersion_low,dispersion_high,unit,range_checked,flags,status,"
    "source_id,locator,quote,notes"
).split(",")


def append_rows(path: Path, rows: list[dict[str, object]]) -> None:
    """Add rows (dicts by column name; missing columns empty) to a resource's CSV, keeping it
    sorted by primary key as the package requires (a database is built from valid packages
    only)."""
    with path.open(newline="", encoding="utf-8") as handle:
        header, *records = list(csv.reader(handle))
    records += [["" if row.get(c) is None else str(row.get(c)) for c in header] for row in rows]
    schema = json.loads((path.parent.parent / "schemas" / f"{path.stem}.json").read_text())
    _, key = primary_key_sorter(schema, header)
    path.write_text(csv_text(header, sorted(records, key=key)), encoding="utf-8", newline="")


def continuous(study: str, arm: str, outcome: str, weeks: float, **values: object) -> dict:
    """One extracted continuous row with defaults (final mean/SD in the outcome's own unit)."""
    row: dict[str, object] = {
        "study_id": study, "arm_id": arm, "outcome": outcome, "timepoint_weeks": weeks,
        "timepoint_label": f"{weeks} weeks", "value_type": "final", "central_kind": "mean",
        "dispersion_kind": "sd", "unit": "none", "status": "extracted",
        "source_id": "fixture-article", "locator": "Table 2", "quote": "x",
    }
    row.update(values)
    return row


#: Arms of the synthetic multi-arm trial: (arm_id, role, n).
MULTI_ARMS = [("control", "control", 30), ("msc_a", "experimental", 12),
              ("msc_b", "experimental", 18), ("msc_c", "experimental", 10)]
#: (arm, mean, sd) of its MELD at 13 weeks.
MULTI_MELD = {"control": (16.0, 3.0), "msc_a": (14.0, 2.5), "msc_b": (12.5, 3.5),
              "msc_c": (13.2, 2.0)}


def add_study(data: Path, study: str, *, cells_per_kg: str = "", included: str = "true",
              overlap_group: str = "") -> None:
    """Add a study row modelled on the fixture's testa2020."""
    with (data / "studies.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    row = dict(rows[0])
    row.update(study_id=study, label=f"{study.capitalize()[:-4]} {study[-4:]}",
               cells_per_kg=cells_per_kg, included=included, overlap_group=overlap_group,
               route="hepatic_artery", etiology="HBV", cell_type="BM-MSC")
    append_rows(data / "studies.csv", [row])


@pytest.fixture
def multi_arm_package(tmp_path: Path) -> Path:
    """Synthetic package plus ``multi2021``: control + three experimental arms, and unit cases."""
    pkg = make_package(tmp_path)
    data = tmp_path / "data"
    add_study(data, "multi2021", cells_per_kg="5e6")
    append_rows(data / "arms.csv", [
        {"study_id": "multi2021", "arm_id": a, "role": r, "description": a, "n_randomised": n,
         "status": "extracted", "source_id": "fixture-article", "locator": "T1", "quote": "q"}
        for a, r, n in MULTI_ARMS
    ])
    n_of = {a: n for a, _, n in MULTI_ARMS}
    rows = [continuous("multi2021", a, "MELD", 13.0, n=n_of[a], central=m, dispersion=s)
            for a, (m, s) in MULTI_MELD.items()]
    # Albumin in g/dL (x 10 -> g/L), bilirubin in mg/dL (x 17.1), ALT in xULN (SMD only).
    for arm, alb, tbil, alt in (("control", 2.9, 2.4, 1.5), ("msc_a", 3.1, 2.0, 1.2),
                                ("msc_b", 3.3, 1.9, 1.1), ("msc_c", 3.2, 2.1, 1.3)):
        rows += [
            continuous("multi2021", arm, "ALB", 13.0, n=n_of[arm], central=alb, dispersion=0.4,
                       unit="g/dL"),
            continuous("multi2021", arm, "TBIL", 13.0, n=n_of[arm], central=tbil,
                       dispersion=0.8, unit="mg/dL"),
            continuous("multi2021", arm, "ALT", 13.0, n=n_of[arm], central=alt, dispersion=0.5,
                       unit="xULN"),
        ]
    # SD derivations on the control arm: SE (n 30), 95% CI with n <= 100 (t), a median.
    rows += [
        continuous("multi2021", "control", "INR", 13.0, n=30, central=1.5, dispersion_kind="se",
                   dispersion=0.05),
        continuous("multi2021", "control", "PT", 13.0, n=30, central=16.0,
                   dispersion_kind="ci95", dispersion_low=15.0, dispersion_high=17.0, unit="s"),
        continuous("multi2021", "control", "GGT", 13.0, n=30, central_kind="median", central=60,
                   dispersion_kind="iqr", dispersion_low=40, dispersion_high=90, unit="U/L"),
        continuous("multi2021", "control", "PTA", 13.0, n=30, central=70, dispersion=9,
                   unit="%", flags="unit_implausible"),
        # two time points in the 3-month window (12 and 13 weeks): 13 is the window centre
        # (the 12-week values are implausible on purpose, so marked as checked)
        continuous("multi2021", "control", "MELD", 12.0, n=30, central=99.0, dispersion=3.0,
                   range_checked="true"),
        continuous("multi2021", "msc_a", "MELD", 12.0, n=12, central=99.0, dispersion=3.0,
                   range_checked="true"),
        # a value not yet extracted: the call for data
        {**continuous("multi2021", "msc_a", "CHE", 26.1), "status": "not_reachable",
         "central_kind": None, "dispersion_kind": None, "unit": None, "quote": None},
    ]
    append_rows(data / "continuous_outcomes.csv", rows)
    append_rows(data / "dichotomous_outcomes.csv", [
        {"study_id": "multi2021", "arm_id": a, "outcome": "death", "timepoint_weeks": 52.1,
         "timepoint_label": "12 months", "events": e, "n": n_of[a], "status": "extracted",
         "source_id": "fixture-article", "locator": "Text", "quote": "x"}
        for a, e in (("control", 6), ("msc_a", 1), ("msc_b", 2), ("msc_c", 1))
    ])
    return pkg


@pytest.fixture
def multi_db(multi_arm_package: Path, tmp_path: Path) -> Path:
    """The multi-arm package built into a database."""
    return build_database(multi_arm_package, tmp_path / "multi.duckdb")


@pytest.fixture
def synthetic_db(synthetic_package: Path, tmp_path: Path) -> Path:
    """The plain synthetic package built into a database."""
    return build_database(synthetic_package, tmp_path / "synthetic.duckdb")
