"""Pooled safety on the 12-trial synthetic package: every event type and any serious adverse
event, multi-arm trials counted once, zero-event trials footnoted, rare events by Peto, and every
extracted count either used or listed with its reason."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mscreview import stats
from mscreview.pipeline.safety import ANY_SERIOUS, FLAG_COMBINED, FLAG_ZERO, safety
from mscreview.store import build_database


def _safety(package: Path) -> dict[str, Any]:
    db = build_database(package, package.parent / "db.duckdb")
    con = duckdb.connect(str(db), read_only=True)
    try:
        return safety(con)
    finally:
        con.close()


def _csv(package: Path, name: str) -> list[dict[str, str]]:
    with (package.parent / "data" / f"{name}.csv").open(newline="", encoding="utf-8") as h:
        return list(csv.DictReader(h))


@pytest.fixture
def synthetic_safety(synthetic_trials_package: Path) -> tuple[Path, dict[str, Any]]:
    return synthetic_trials_package, _safety(synthetic_trials_package)


def test_every_event_and_any_serious_event_is_pooled(synthetic_safety) -> None:  # type: ignore[no-untyped-def]
    _, out = synthetic_safety
    events = {e["key"]: e for e in out["events"]}
    assert list(events)[0] == ANY_SERIOUS
    assert set(events) == {ANY_SERIOUS, "fever", "serious infection", "abdominal pain"}
    for e in events.values():
        measures = {a["measure"]: a for a in e["analyses"]}
        assert {"RR", "RD"} <= set(measures)
        assert measures["RR"]["status"] == "pooled" and measures["RD"]["status"] == "pooled"
        assert measures["RR"]["method"] == "M-H" and measures["RR"]["model"] == "fixed"
        assert e["difference_per_1000"]["estimate"] == pytest.approx(
            1000 * measures["RD"]["total"]["estimate"])
    assert events[ANY_SERIOUS]["k"] == 12 and events[ANY_SERIOUS]["serious"] is True
    assert events["abdominal pain"]["k"] == 8  # 4 trials do not report it


def test_multi_arm_trial_is_one_comparison_with_its_arms_added(synthetic_safety) -> None:  # type: ignore[no-untyped-def]
    package, out = synthetic_safety
    arms = _csv(package, "arms")
    multi = {r["study_id"] for r in arms if r["arm_id"].startswith("msc_")}
    assert len(multi) == 1
    (sid,) = multi
    n = {r["arm_id"]: int(r["n_randomised"]) for r in arms if r["study_id"] == sid}
    ae = [r for r in _csv(package, "adverse_events")
          if r["study_id"] == sid and r["event"] == "serious infection"]
    fever = next(e for e in out["events"] if e["key"] == "serious infection")
    row = next(r for r in fever["analyses"][0]["rows"] if r["study_id"] == sid)
    assert row["exp"] == {"events": sum(int(r["events"]) for r in ae if r["arm_id"] != "control"),
                          "n": n["msc_once"] + n["msc_twice"]}
    assert row["ctl"]["n"] == n["control"]
    assert FLAG_COMBINED in row["flags"]
    assert sum(r["study_id"] == sid for r in fever["analyses"][0]["rows"]) == 1


def test_double_zero_trials_leave_rr_and_stay_in_rd(synthetic_safety) -> None:  # type: ignore[no-untyped-def]
    _, out = synthetic_safety
    fever = next(e for e in out["events"] if e["key"] == "fever")
    rr, rd = fever["analyses"][:2]
    (dz,) = [x for x in rr["excluded"] if "no events in either arm" in x["reason"]]
    assert dz["study_id"] not in {r["study_id"] for r in rr["rows"]}
    rd_row = next(r for r in rd["rows"] if r["study_id"] == dz["study_id"])
    assert rd_row["exp"]["events"] == rd_row["ctl"]["events"] == 0
    assert FLAG_ZERO in rd_row["flags"]
    assert rr["total"]["k"] == rd["total"]["k"] - 1
    assert any("0.5 added" in n for n in rd["total"]["notes"])
    zero = {r["study_id"] for r in rd["rows"] if FLAG_ZERO in r["flags"]}
    assert fever["zero_corrected"] == len(zero) >= 1  # the safety table's note counts them


def test_pooled_numbers_are_the_engines(synthetic_safety) -> None:  # type: ignore[no-untyped-def]
    _, out = synthetic_safety
    e = next(e for e in out["events"] if e["key"] == "serious infection")
    rr = e["analyses"][0]
    rows = rr["rows"]
    eff = stats.dichotomous_effects([r["exp"]["events"] for r in rows], [r["exp"]["n"] for r in rows],
                                    [r["ctl"]["events"] for r in rows], [r["ctl"]["n"] for r in rows],
                                    measure="RR")
    assert rr["total"]["estimate"] == pytest.approx(stats.pool_mh(eff, model="fixed").estimate,
                                                    rel=1e-12)


def test_rare_events_add_peto(synthetic_trials_package: Path) -> None:
    package = synthetic_trials_package
    path = package.parent / "data" / "adverse_events.csv"
    rows = _csv(package, "adverse_events")
    extra: list[dict[str, str]] = []
    for r in rows:
        if r["event"] == "fever":
            first = r["arm_id"] != "control" and not any(x["events"] == "1" for x in extra)
            extra.append({**r, "event": "anaphylaxis", "serious": "true",
                          "events": "1" if first else "0", "as_reported": "synthetic"})
    key = ("study_id", "arm_id", "event", "source_id")  # the file stays sorted, LF: valid
    with path.open("w", newline="", encoding="utf-8") as h:
        w = csv.DictWriter(h, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(sorted(rows + extra, key=lambda r: tuple(r[k] for k in key)))
    out = _safety(package)
    e = next(e for e in out["events"] if e["key"] == "anaphylaxis")
    assert e["rare"] and e["event_rate"] < 0.01 and e["primary"] == "PETO"
    peto = next(a for a in e["analyses"] if a["measure"] == "PETO")
    assert peto["method"] == "Peto" and peto["status"] == "single_study"
    # 11 double-zero trials carry no information for Peto's OR: listed, not silent
    assert len(peto["excluded"]) == 11


def test_no_extracted_count_is_dropped_silently(synthetic_safety) -> None:  # type: ignore[no-untyped-def]
    package, out = synthetic_safety
    accounted = set()
    for e in out["events"]:
        used = {r["study_id"] for a in e["analyses"] for r in a["rows"]}
        used |= {x["study_id"] for a in e["analyses"] for x in a["excluded"]}
        listed = {x["study_id"] for x in e["excluded"]}
        for r in _csv(package, "adverse_events"):
            key = ANY_SERIOUS if r["event"] == "serious" else r["event"]
            if key == e["key"] and r["status"] == "extracted":
                assert r["study_id"] in used | listed
                accounted.add((r["study_id"], r["arm_id"], r["event"]))
    extracted = {(r["study_id"], r["arm_id"], r["event"]) for r in _csv(package, "adverse_events")
                 if r["status"] == "extracted"}
    assert accounted == extracted


def test_shipped_package_safety(tmp_path: Path) -> None:
    import shutil

    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / "datapackage.json", tmp_path / "datapackage.json")
    shutil.copytree(root / "schemas", tmp_path / "schemas")
    shutil.copytree(root / "data", tmp_path / "data")
    out = _safety(tmp_path / "datapackage.json")
    fever = next(e for e in out["events"] if e["key"] == "fever")
    assert fever["k"] == 0
    assert all("control arm" in x["reason"] for x in fever["excluded"])
    assert fever["missing"]  # the primary reports that would have the counts
