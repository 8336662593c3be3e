"""No silent drops: every extracted arm-level value of an analysis ends pooled or listed.

The 12-trial synthetic package is edited so that its MELD values at 3 months take every path a
value can take: reported as mean and SD; median with IQR or range (Wan 2014 / Luo 2018); mean
with SE or 95% CI; a median or a mean without dispersion (listed, and in the call for data); a
duplicate from a less preferred source; another time point in the same window; an arm without
its comparator; an implausible unit; a trial excluded from the review; a value not reported
(call for data). The test enumerates the rows of ``continuous_outcomes`` and asserts each one
is pooled, listed in ``excluded`` with its reason, or in ``missing``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import duckdb
import pytest

from mscreview import stats
from mscreview.pipeline.analyses import run_plan
from mscreview.plan import analysis_views, load_plan
from mscreview.store import build_database

MAIN = (10.5, 16.0)  # the 3-month window, weeks


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as h:
        reader = csv.DictReader(h)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as h:
        w = csv.DictWriter(h, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _edit(package: Path) -> dict[str, str]:
    """Give MELD at 13 weeks one path per trial; returns trial -> path name."""
    data = package.parent / "data"
    _, arms = _read(data / "arms.csv")
    _, studies = _read(data / "studies.csv")
    included = [s["study_id"] for s in studies if s["included"] == "true"]
    two_arm = [sid for sid in included
               if {a["arm_id"] for a in arms if a["study_id"] == sid} == {"control", "msc"}]
    paths = ["median_iqr", "median_range", "se", "ci95", "median_bare", "mean_bare",
             "duplicate", "other_time", "unpaired", "implausible"]
    plan = dict(zip(two_arm, paths))
    header, rows = _read(data / "continuous_outcomes.csv")
    out = []
    for r in rows:
        path = plan.get(r["study_id"])
        at_main = r["outcome"] == "MELD" and r["timepoint_weeks"] == "13.0"
        if not (path and at_main):
            out.append(r)
            continue
        m, sd = float(r["central"]), float(r["dispersion"])
        msc = r["arm_id"] == "msc"
        if path == "median_iqr":
            r.update(central_kind="median", dispersion_kind="iqr", dispersion="",
                     dispersion_low=f"{m - 0.7 * sd:.1f}", dispersion_high=f"{m + 0.6 * sd:.1f}")
        elif path == "median_range":
            r.update(central_kind="median", dispersion_kind="range", dispersion="",
                     dispersion_low=f"{m - 2 * sd:.1f}", dispersion_high=f"{m + 2.5 * sd:.1f}")
        elif path == "se" and msc:
            r.update(dispersion_kind="se", dispersion=f"{sd / float(r['n']) ** 0.5:.3f}")
        elif path == "ci95":
            r.update(dispersion_kind="ci95", dispersion="", dispersion_low=f"{m - sd / 2:.2f}",
                     dispersion_high=f"{m + sd / 2:.2f}")
        elif path == "median_bare" and msc:
            r.update(central_kind="median", dispersion_kind="none", dispersion="")
        elif path == "mean_bare" and not msc:
            r.update(dispersion_kind="none", dispersion="")
        elif path == "duplicate" and msc:
            out.append({**r, "source_id": "synth-review", "central": f"{m + 1:.1f}"})
        elif path == "other_time":
            out.append({**r, "timepoint_weeks": "11.0", "timepoint_label": "11 weeks"})
        elif path == "unpaired" and not msc:
            continue
        elif path == "implausible" and msc:
            r.update(flags="unit_implausible")
        out.append(r)
    _write(data / "continuous_outcomes.csv", header, out)
    return plan


def _analysis(package: Path, analysis_id: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    db = build_database(package, package.parent / "edited.duckdb")
    con = duckdb.connect(str(db), read_only=True)
    try:
        plan = [a for a in load_plan(package_path=package) if a.id == analysis_id]
        kinds = {n: i.kind for n, i in analysis_views().items()}
        (out,) = run_plan(con, plan, kinds)
    finally:
        con.close()
    return out, _read(package.parent / "data" / "continuous_outcomes.csv")[1]


@pytest.fixture
def edited(synthetic_trials_package: Path) -> tuple[dict[str, str], dict[str, Any],
                                                    list[dict[str, str]]]:
    paths = _edit(synthetic_trials_package)
    out, rows = _analysis(synthetic_trials_package, "meld-overall")
    return paths, out, rows


def test_every_value_ends_pooled_or_listed(edited) -> None:  # type: ignore[no-untyped-def]
    paths, out, rows = edited
    pooled = {r["study_id"] for r in out["rows"]}
    listed = {(e["study_id"], v["arm_id"], v["timepoint_weeks"], v["source_id"]): v["reason"]
              for e in out["excluded"] for v in e.get("values", [])}
    whole = {e["study_id"] for e in out["excluded"] if not e.get("values")}
    missing = {(m["study_id"], m["arm_id"]) for m in out["missing"]}
    fates: dict[str, set[str]] = {}
    for r in rows:
        if r["outcome"] != "MELD" or not MAIN[0] <= float(r["timepoint_weeks"]) < MAIN[1]:
            continue
        key = (r["study_id"], r["arm_id"], float(r["timepoint_weeks"]), r["source_id"])
        if r["status"] != "extracted":
            fate = "missing" if (r["study_id"], r["arm_id"]) in missing else "DROPPED"
        elif key in listed:
            fate = "listed"
        elif r["study_id"] in whole:
            fate = "listed"
        elif r["study_id"] in pooled:
            fate = "pooled"
        else:
            fate = "DROPPED"
        fates.setdefault(paths.get(r["study_id"], "plain"), set()).add(fate)
    assert not any("DROPPED" in f for f in fates.values()), fates
    assert fates["median_iqr"] == fates["median_range"] == {"pooled"}
    assert fates["se"] == fates["ci95"] == {"pooled"}
    for path in ("median_bare", "mean_bare", "unpaired", "implausible"):
        assert "listed" in fates[path], path
    assert fates["duplicate"] == {"pooled", "listed"}  # the preferred source's value is pooled
    assert fates["other_time"] == {"pooled", "listed"}  # 13 wk pooled, 11 wk listed
    reasons = " | ".join(listed.values())
    for words in ("no dispersion reported", "unit_implausible", "source preference",
                  "11 wk not used", "no matching value in the other arm"):
        assert words in reasons, words


def test_values_a_paper_would_fix_are_in_the_call_for_data(edited) -> None:  # type: ignore[no-untyped-def]
    paths, out, _ = edited
    by_path = {v: k for k, v in paths.items()}
    incomplete = {(m["study_id"], m["arm_id"]) for m in out["missing"]
                  if m["status"].startswith("incomplete:")}
    assert (by_path["median_bare"], "msc") in incomplete
    assert (by_path["mean_bare"], "control") in incomplete
    assert (by_path["implausible"], "msc") not in incomplete  # the paper cannot fix a unit typo


def test_converted_values_are_flagged_and_are_the_engines(edited) -> None:  # type: ignore[no-untyped-def]
    paths, out, rows = edited
    by_path = {v: k for k, v in paths.items()}
    row = next(r for r in out["rows"] if r["study_id"] == by_path["median_iqr"])
    assert {"sd_from_iqr_wan2014", "mean_from_median_iqr_luo2018"} <= set(row["flags"])
    src = next(r for r in rows if r["study_id"] == by_path["median_iqr"] and r["arm_id"] == "msc"
               and r["outcome"] == "MELD" and r["timepoint_weeks"] == "13.0")
    mean, sd = stats.mean_sd_from_median(
        float(src["n"]), float(src["central"]), q1=float(src["dispersion_low"]),
        q3=float(src["dispersion_high"]))
    assert row["exp"]["mean"] == pytest.approx(mean.value, rel=1e-12)
    assert row["exp"]["sd"] == pytest.approx(sd.value, rel=1e-12)
    rng = next(r for r in out["rows"] if r["study_id"] == by_path["median_range"])
    assert {"sd_from_range_wan2014", "mean_from_median_range_luo2018"} <= set(rng["flags"])
    se = next(r for r in out["rows"] if r["study_id"] == by_path["se"])
    assert "sd_from_se" in se["flags"]
    ci = next(r for r in out["rows"] if r["study_id"] == by_path["ci95"])
    assert "sd_from_ci95_t" in ci["flags"]


def test_every_event_count_ends_pooled_or_listed(synthetic_trials_package: Path) -> None:
    data = synthetic_trials_package.parent / "data"
    header, rows = _read(data / "dichotomous_outcomes.csv")
    latest: dict[str, float] = {}
    for r in rows:
        latest[r["study_id"]] = max(latest.get(r["study_id"], 0.0), float(r["timepoint_weeks"]))
    target = sorted({r["study_id"] for r in rows if r["arm_id"] == "msc"})[2]
    for r in rows:  # a percentage without the count, at the trial's longest follow-up
        if (r["study_id"], r["arm_id"], r["outcome"]) == (target, "msc", "death") and \
                float(r["timepoint_weeks"]) == latest[target]:
            r.update(events="", percent="12.5")
    _write(data / "dichotomous_outcomes.csv", header, rows)
    db = build_database(synthetic_trials_package, data.parent / "events.duckdb")
    con = duckdb.connect(str(db), read_only=True)
    try:
        plan = [a for a in load_plan(package_path=synthetic_trials_package)
                if a.id == "death-longest"]
        (out,) = run_plan(con, plan, {n: i.kind for n, i in analysis_views().items()})
    finally:
        con.close()
    pooled = {(r["study_id"], r["timepoint_weeks"]) for r in out["rows"]}
    listed = {(e["study_id"], v["arm_id"], v["timepoint_weeks"]): v["reason"]
              for e in out["excluded"] for v in e.get("values", [])}
    for r in rows:
        if r["outcome"] != "death" or r["status"] != "extracted":
            continue
        key = (r["study_id"], r["arm_id"], float(r["timepoint_weeks"]))
        assert key in listed or (r["study_id"], float(r["timepoint_weeks"])) in pooled, key
    assert "no event count given" in listed[(target, "msc", latest[target])]
    assert any(m["study_id"] == target and m["status"].startswith("incomplete: no event count")
               for m in out["missing"])
    assert target not in {r["study_id"] for r in out["rows"]} or \
        all(r["timepoint_weeks"] != latest[target] for r in out["rows"]
            if r["study_id"] == target)
