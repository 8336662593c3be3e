"""The analysis plan: the shipped CSV loads, and each kind of mistake is named."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from mscreview import models
from mscreview.errors import InputError
from mscreview.plan import BASELINE_ONLY, PLAN_PATH, load_plan
from tests.conftest import ROOT


def test_the_shipped_plan_loads_and_every_query_runs(multi_db: Path) -> None:
    plan = load_plan(package_path=ROOT / "datapackage.json")
    assert len({a.id for a in plan}) == len(plan)
    assert {a.time_window for a in plan if a.view == "seed_overall"} == {"main"}
    con = duckdb.connect(str(multi_db), read_only=True)
    for analysis in plan:
        sql, params = analysis.query()
        con.execute(sql, params).fetchall()


def test_every_per_window_published_result_has_its_own_analysis() -> None:
    plan = load_plan(package_path=ROOT / "datapackage.json")
    mapped = {rid for a in plan for rid in a.published_result_ids}
    with (ROOT / "data" / "published_results.csv").open(newline="") as handle:
        per_window = {r["result_id"] for r in csv.DictReader(handle)
                      if r["analysis"] == "time" and r["subgroup"]}
    assert per_window <= mapped


def _plan_with(tmp_path: Path, **change: str) -> Path:
    with PLAN_PATH.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0].update(change)
    path = tmp_path / "analyses.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.mark.parametrize(("change", "message"), [
    ({"view": "no_such_view"}, "line 2, column 'view': unknown view 'no_such_view'"),
    ({"view": "arm_values"}, "column 'view': unknown view 'arm_values'"),
    ({"measure": "HR"}, "column 'measure'"),
    ({"measure": "RR"}, "column 'measure': RR does not fit continuous"),
    ({"grouping": "country"}, "column 'grouping'"),
    ({"grouping": "route"}, "column 'grouping': view 'seed_overall' is grouped by 'none'"),
    ({"time_window": "6 months"}, "column 'time_window': view 'seed_overall' holds the main"),
    ({"view": "seed_by_time", "time_window": "any"}, "'any' would pool the same patients"),
    ({"view": "seed_by_time", "time_window": "5 weeks"}, "unknown window '5 weeks'"),
    ({"outcome": "NOPE"}, "column 'outcome'"),
    ({"outcome": "AGE", "published_result_ids": ""}, "'AGE' is a baseline characteristic"),
    ({"published_result_ids": "alb-overall"}, "is about ALB, not MELD"),
    ({"published_result_ids": "meld-nothing"}, "not in published_results.csv"),
    ({"id": "alb-overall"}, "already on line"),
    ({"hksj": "yes"}, "line 2, column 'hksj': use true or false"),
    ({"hksj": "true", "model": "fixed"}, "column 'hksj': HKSJ applies to the random-effects"),
    ({"mods": "dose"}, "line 2, column 'mods': unknown moderator 'dose'"),
    ({"mods": "route;route"}, "column 'mods': a moderator is named twice"),
])
def test_plan_mistakes_are_named(tmp_path: Path, change: dict, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        load_plan(_plan_with(tmp_path, **change), package_path=ROOT / "datapackage.json")


def test_plan_options_hksj_and_mods(tmp_path: Path) -> None:
    plan = load_plan(_plan_with(tmp_path, hksj="true", mods="route;log10_cells_per_kg"))
    assert plan[0].hksj is True and plan[0].mods == ("route", "log10_cells_per_kg")
    assert all(a.hksj is False for a in plan[1:])
    # a plan without the optional trailing columns still loads (no HKSJ, no meta-regression)
    with PLAN_PATH.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    path = tmp_path / "old.csv"
    with path.open("w", newline="") as handle:
        fields = [f for f in rows[0] if f not in ("hksj", "mods")]
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n",
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    old = load_plan(path)
    assert len(old) == len(rows) and not any(a.hksj or a.mods for a in old)


def test_baseline_characteristics_agree_with_the_meaning_rules() -> None:
    """The plan refuses exactly the codes the validator keeps at baseline (two layers, one list)."""
    assert BASELINE_ONLY == models.BASELINE_ONLY
