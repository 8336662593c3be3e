"""Published results are matched to today's re-pooled analyses, or say why they cannot be."""

from __future__ import annotations

from mscreview.pipeline.context import changes, published_vs_repooled


def _total(est: float, k: int) -> dict:
    return {"estimate": est, "ci_low": est - 1, "ci_high": est + 1, "p": 0.5, "i2": 0.0, "k": k}


ANALYSES = [{
    "id": "alb-route", "published_result_ids": ["alb-route", "alb-route-hepatic-artery",
                                                "alb-route-intravenous"],
    "total": _total(0.3, 3), "reason": "", "missing": [],
    "subgroups": [{"name": "Hepatic artery", "total": _total(0.5, 2)},
                  {"name": "Peripheral vein", "total": _total(0.1, 1)}],
}, {
    "id": "meld-overall", "published_result_ids": ["meld-overall"], "total": None,
    "reason": "No included trial has usable data", "subgroups": [],
    "missing": [{"study_id": "x2020", "arm_id": "msc"}],
}]


def _pub(rid: str, analysis: str, subgroup: str = "") -> dict:
    return {"result_id": rid, "outcome": "ALB", "analysis": analysis, "subgroup": subgroup,
            "measure": "SMD", "estimate": 1.0, "ci_low": 0.0, "ci_high": 2.0}


def test_subgroups_match_the_seeds_words() -> None:
    out = {r["result_id"]: r for r in published_vs_repooled([
        _pub("alb-route", "route"),
        _pub("alb-route-hepatic-artery", "route", "hepatic artery"),
        _pub("alb-route-intravenous", "route", "intravenous"),
    ], ANALYSES)}
    assert out["alb-route"]["repooled"]["estimate"] == 0.3
    assert out["alb-route-hepatic-artery"]["repooled"]["estimate"] == 0.5
    assert out["alb-route-intravenous"]["repooled"]["k"] == 1


def test_unpoolable_results_carry_the_call_for_data() -> None:
    (row,) = published_vs_repooled([_pub("meld-overall", "overall")], ANALYSES)
    assert row["repooled"] is None
    assert row["missing"] == [{"study_id": "x2020", "arm_id": "msc"}]
    assert row["note"].startswith("No included trial")


def test_time_totals_are_never_recomputed() -> None:
    (row,) = published_vs_repooled([_pub("alb-time", "time")], ANALYSES)
    assert row["repooled"] is None and "unit-of-analysis" in row["note"]


def test_first_version_has_no_changes() -> None:
    assert changes(None, {"analyses": [], "studies": []})["first_version"] is True


def test_an_added_study_kept_out_of_the_review_is_labelled_so() -> None:
    """A report recorded only for comparison (included = false) is not announced as a new trial."""
    previous = {"data_version": "0.1.0", "analyses": [], "studies": []}
    current = {"analyses": [], "unreleased": True, "studies": [
        {"study_id": "salama2010", "label": "Salama 2010", "included": False},
        {"study_id": "gupta2021", "label": "Gupta 2021", "included": True}]}
    assert changes(previous, current)["trials_added"] == [
        "Gupta 2021", "Salama 2010 (not in the review)"]


def test_call_for_data_groups_missing_values_by_study_and_source() -> None:
    from mscreview.pipeline.context import call_for_data

    def m(arm: str, tp: str, outcome: str = "MELD") -> dict:
        return {"study_id": "x2020", "label": "X 2020", "arm_id": arm, "outcome": outcome,
                "timepoint": tp, "status": "not_reachable", "source_id": "x2020-article",
                "locator": "Table 2"}

    rows = [{"result_id": "meld-overall", "repooled": None,
             "missing": [m("control", "3 months"), m("msc", "3 months")]},
            {"result_id": "meld-time-6month", "repooled": None,
             "missing": [m("control", "6 months"), m("msc", "6 months", "ALB")]},
            {"result_id": "done", "repooled": {"estimate": 1.0}, "missing": [m("msc", "1 week")]}]
    (entry,) = call_for_data(rows)
    assert entry["results"] == ["meld-overall", "meld-time-6month"]
    needs = {n["outcome"]: n for n in entry["needs"]}
    assert needs["MELD"]["timepoints"] == ["3 months", "6 months"]
    assert needs["MELD"]["arms"] == ["control", "msc"]
    assert needs["ALB"]["timepoints"] == ["6 months"]
